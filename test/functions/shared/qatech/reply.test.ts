import type { ChatMessage } from "../../../../functions/shared/qatech/client";
import { findReply, newestAssistantMessage, noteOurMessage } from "../../../../functions/shared/qatech/reply";
import { advanceClock, conversation, FOLLOW_UP, msg, OPENED, OUR_TEXT } from "./messages";

describe("findReply", () => {
  it("is pending while no assistant message follows ours", () => {
    const messages = conversation(msg("user", OUR_TEXT));

    expect(findReply(messages, FOLLOW_UP)).toBeNull();
  });

  it("does not take an older assistant message, written before ours, for the reply", () => {
    const messages = conversation(
      msg("user", "an earlier question"),
      msg("assistant", "an earlier answer"),
      msg("user", OUR_TEXT),
    );

    expect(findReply(messages, FOLLOW_UP)).toBeNull();
  });

  it("is pending while our follow-up is not visible yet, though an earlier exchange is final", () => {
    const messages = conversation(msg("user", "an earlier question"), msg("assistant", "an earlier answer"));

    expect(findReply(messages, FOLLOW_UP)).toBeNull();
  });

  it("is pending while our follow-up is not visible yet, though the same question asked before has its answer", () => {
    const earlier = conversation(msg("user", OUR_TEXT), msg("assistant", "the answer to the question then"));
    const sentAt = advanceClock(10 * 60_000);

    expect(findReply(earlier, { ...FOLLOW_UP, sentAt })).toBeNull();
    const now = conversation(...earlier.slice().reverse(), msg("user", OUR_TEXT), msg("assistant", "now"));
    expect(findReply(now, { ...FOLLOW_UP, sentAt })).toEqual({ status: "COMPLETED", text: "now" });
  });

  it("is pending while the reply is PARTIAL", () => {
    const messages = conversation(
      msg("user", OUR_TEXT),
      msg("assistant", "Working on", { status: "PARTIAL", isStreaming: true }),
    );

    expect(findReply(messages, FOLLOW_UP)).toBeNull();
  });

  it("is pending while the reply is still streaming, even when its status already says COMPLETED", () => {
    const messages = conversation(
      msg("user", OUR_TEXT),
      msg("assistant", "Almost", { status: "COMPLETED", isStreaming: true }),
    );

    expect(findReply(messages, FOLLOW_UP)).toBeNull();
  });

  it.each(["COMPLETED", "FAILED", "CANCELLED"] as const)("is final when the reply is %s", (status) => {
    const messages = conversation(msg("user", OUR_TEXT), msg("assistant", "## Result\n\nDone.", { status }));

    expect(findReply(messages, FOLLOW_UP)).toEqual({ status, text: "## Result\n\nDone." });
  });

  it("joins several assistant messages oldest first, with the newest deciding the status", () => {
    const messages = conversation(
      msg("user", OUR_TEXT),
      msg("assistant", "First I opened the shop."),
      msg("assistant", "  "),
      msg("assistant", "Then the test passed.", { status: "COMPLETED" }),
    );

    expect(findReply(messages, FOLLOW_UP)).toEqual({
      status: "COMPLETED",
      text: "First I opened the shop.\n\nThen the test passed.",
    });
  });

  it("waits for the newest assistant message, not only the first one", () => {
    const messages = conversation(
      msg("user", OUR_TEXT),
      msg("assistant", "First I opened the shop."),
      msg("assistant", "Now running", { status: "PARTIAL", isStreaming: true }),
    );

    expect(findReply(messages, FOLLOW_UP)).toBeNull();
  });

  it("finds our message by its digest when someone has sent follow-ups after it", () => {
    const messages = conversation(
      msg("user", OUR_TEXT),
      msg("assistant", "Reply to the ticket."),
      msg("user", "A follow-up from the QA.tech app"),
      msg("assistant", "Reply to the follow-up."),
    );

    const reply = findReply(messages, FOLLOW_UP);

    expect(reply?.status).toBe("COMPLETED");
    expect(reply?.text).toContain("Reply to the ticket.");
  });

  it("finds our message by its digest when it is itself a follow-up in the conversation", () => {
    const messages = conversation(
      msg("user", "an earlier question"),
      msg("assistant", "an earlier answer"),
      msg("user", OUR_TEXT),
      msg("assistant", "The answer to ours."),
    );

    expect(findReply(messages, FOLLOW_UP)).toEqual({ status: "COMPLETED", text: "The answer to ours." });
  });

  it("in a conversation we opened, takes the reply whatever text QA.tech stored for our message", () => {
    // A change review: QA.tech writes the first message itself.
    const messages = conversation(
      msg("user", "Review https://github.com/acme/shop/pull/42"),
      msg("assistant", "Reviewed."),
    );

    expect(findReply(messages, OPENED)).toEqual({ status: "COMPLETED", text: "Reviewed." });
  });

  it("in a conversation we opened, is pending while nothing shows yet", () => {
    expect(findReply([], OPENED)).toBeNull();
    expect(findReply(conversation(msg("user", "QA.tech's own words")), OPENED)).toBeNull();
  });

  it("stays pending for a follow-up QA.tech stored altered, rather than take another message's reply", () => {
    const messages = conversation(
      msg("user", "an earlier question"),
      msg("assistant", "an earlier answer"),
      msg("user", "altered beyond recognition"),
      msg("assistant", "an answer to the altered text"),
    );

    expect(findReply(messages, FOLLOW_UP)).toBeNull();
  });

  it("once our follow-up was seen, finds its reply after newer messages pushed it out of the read", () => {
    const ours = msg("user", OUR_TEXT);
    const seen = noteOurMessage(conversation(msg("user", "an earlier question"), ours), FOLLOW_UP);
    const window = conversation(msg("assistant", "Step 1 done."), msg("assistant", "All steps done."));

    expect(seen.seenAt).toBe(ours.createdAt);
    expect(findReply(window, FOLLOW_UP)).toBeNull();
    expect(findReply(window, seen)).toEqual({
      status: "COMPLETED",
      text: "Step 1 done.\n\nAll steps done.",
    });
  });
});

describe("findReply with messages oldest first (as one of QA.tech's own doc examples lists them)", () => {
  it("finds the reply to our follow-up after it, not the answer before it", () => {
    const oldestFirst = [
      msg("user", "an earlier question"),
      msg("assistant", "an earlier answer"),
      msg("user", OUR_TEXT),
      msg("assistant", "The answer to ours."),
    ];

    expect(findReply(oldestFirst, FOLLOW_UP)).toEqual({ status: "COMPLETED", text: "The answer to ours." });
  });

  it("lets the newest assistant message decide, and joins them oldest first", () => {
    const oldestFirst = [
      msg("user", OUR_TEXT),
      msg("assistant", "First I opened the shop."),
      msg("assistant", "Then the test failed.", { status: "FAILED" }),
    ];

    expect(findReply(oldestFirst, OPENED)).toEqual({
      status: "FAILED",
      text: "First I opened the shop.\n\nThen the test failed.",
    });
  });

  it("is pending while the newest assistant message still streams", () => {
    const oldestFirst = [
      msg("user", OUR_TEXT),
      msg("assistant", "First I opened the shop."),
      msg("assistant", "Now running", { status: "PARTIAL", isStreaming: true }),
    ];

    expect(findReply(oldestFirst, OPENED)).toBeNull();
  });

  it("goes by createdAt in any order, and leaves out messages whose time cannot be read", () => {
    const ours = msg("user", OUR_TEXT);
    const answer = msg("assistant", "The answer to ours.");
    const earlier = msg("assistant", "an earlier answer", { createdAt: "2020-01-01T00:00:00.000Z" });
    const undated = msg("assistant", "undated", { createdAt: "yesterday" });

    expect(findReply([answer, earlier, undated, ours], FOLLOW_UP)).toEqual({
      status: "COMPLETED",
      text: "The answer to ours.",
    });
  });
});

describe("newestAssistantMessage", () => {
  it.each([
    ["newest first", (m: ChatMessage[]) => m.slice().reverse()],
    ["oldest first", (m: ChatMessage[]) => m],
  ])("is the latest by createdAt with messages %s", (_, order) => {
    const oldestFirst = [
      msg("user", "a question"),
      msg("assistant", "the answer"),
      msg("user", "a follow-up"),
      msg("assistant", "Working", { status: "PARTIAL", isStreaming: true }),
    ];

    expect(newestAssistantMessage(order(oldestFirst))?.text).toBe("Working");
  });

  it("is undefined before any assistant message", () => {
    expect(newestAssistantMessage([msg("user", "a question")])).toBeUndefined();
  });
});

describe("noteOurMessage", () => {
  it("leaves the reference as it is while our follow-up does not show", () => {
    const messages = conversation(msg("user", "an earlier question"));

    expect(noteOurMessage(messages, FOLLOW_UP)).toBe(FOLLOW_UP);
  });

  it("keeps only a time rebuilt from QA.tech's createdAt, never its text", () => {
    const odd = msg("user", OUR_TEXT, { createdAt: "2026-11-20T11:00:00+01:00" });
    const unreadable = msg("user", OUR_TEXT, { createdAt: "x".repeat(10_000) });

    expect(noteOurMessage([odd], FOLLOW_UP).seenAt).toBe("2026-11-20T10:00:00.000Z");
    expect(noteOurMessage([unreadable], FOLLOW_UP)).toBe(FOLLOW_UP);
  });

  it("needs nothing for a conversation we opened", () => {
    expect(noteOurMessage(conversation(msg("user", OUR_TEXT)), OPENED)).toBe(OPENED);
  });
});
