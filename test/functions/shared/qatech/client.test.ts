import { PermanentError, TransientError } from "../../../../functions/shared/platform/errors";
import { parseRetryAfter } from "../../../../functions/shared/platform/http";
import {
  type ChatMessage,
  type ConversationRef,
  messageDigest,
  QaTechClient,
  type QaTechClientOptions,
} from "../../../../functions/shared/qatech/client";
import { findPullRequest } from "../../../../functions/shared/qatech/pull-request";
import { findReply, newestAssistantMessage, noteOurMessage } from "../../../../functions/shared/qatech/reply";
import { type FakeQaTech, startFakeQaTech } from "../../../../simulators/qatech";

const OUR_TEXT = "Create a test for ENG-42\n\nCheckout crashes on empty cart";
const OURS = messageDigest(OUR_TEXT);

let clock = Date.parse("2026-11-20T10:00:00.000Z");
/** A message as QA.tech shows it; each one is created a second after the previous. */
function msg(role: ChatMessage["role"], text: string, more: Partial<ChatMessage> = {}): ChatMessage {
  clock += 1000;
  return {
    id: `msg_${clock}`,
    role,
    createdAt: new Date(clock).toISOString(),
    text,
    status: "COMPLETED",
    isStreaming: false,
    ...more,
  };
}

/** Messages given oldest first, returned newest first like the API. */
const conversation = (...oldestFirst: ChatMessage[]) => oldestFirst.slice().reverse();

const CHAT = { id: "chat_1", url: "https://app.qa.tech/p/proj_demo/chat/chat_1" };
/** A follow-up we sent to a conversation with earlier exchanges: ours is found by its digest. */
const FOLLOW_UP: ConversationRef = { ...CHAT, sentDigest: OURS };
/** A conversation we opened: nothing came before our message. */
const OPENED: ConversationRef = { ...CHAT, sentDigest: OURS, opened: true };

describe("findPullRequest", () => {
  const gitlabHosts = ["gitlab.acme.com"];

  it.each([
    [
      "a GitHub pull request",
      "Fix: https://github.com/acme/shop/pull/42.",
      "https://github.com/acme/shop/pull/42",
    ],
    [
      "a GitHub pull request's files tab in a markdown link",
      "[the fix](https://github.com/acme/shop/pull/42/files)",
      "https://github.com/acme/shop/pull/42",
    ],
    [
      "a gitlab.com merge request in a subgroup",
      "https://gitlab.com/acme/web/shop/-/merge_requests/7#note_1",
      "https://gitlab.com/acme/web/shop/-/merge_requests/7",
    ],
    [
      "a merge request on a configured GitLab host, in any case",
      "https://GitLab.Acme.com/shop/app/-/merge_requests/3",
      "https://gitlab.acme.com/shop/app/-/merge_requests/3",
    ],
    [
      "the first acceptable link after a refused one",
      "https://169.254.169.254/latest/-/merge_requests/1 and https://github.com/acme/shop/pull/2",
      "https://github.com/acme/shop/pull/2",
    ],
  ])("finds %s", (_, text, url) => {
    expect(findPullRequest(text, gitlabHosts)?.url).toBe(url);
  });

  it("names the provider of each", () => {
    const github = findPullRequest("https://github.com/acme/shop/pull/1");
    const gitlab = findPullRequest("https://gitlab.acme.com/shop/app/-/merge_requests/3", gitlabHosts);

    expect([github?.provider, gitlab?.provider]).toEqual(["github", "gitlab"]);
  });

  it.each([
    ["the cloud metadata address", "https://169.254.169.254/latest/-/merge_requests/1"],
    [
      "a host that only starts like gitlab.com",
      "https://gitlab.com.evil.example/acme/shop/-/merge_requests/1",
    ],
    ["a host that only ends like one", "https://evilgitlab.com/acme/shop/-/merge_requests/1"],
    ["gitlab.com in the path", "https://evil.example/gitlab.com/acme/shop/-/merge_requests/1"],
    ["github.com as userinfo", "https://github.com@evil.example/a/b/pull/1"],
    ["userinfo on the right host", "https://user:secret@github.com/a/b/pull/1"],
    ["a port", "https://github.com:8443/a/b/pull/1"],
    ["even the default port", "https://github.com:443/a/b/pull/1"],
    ["plain http", "http://github.com/a/b/pull/1"],
    ["a GitLab host that is not configured", "https://gitlab.other.example/a/b/-/merge_requests/1"],
    ["a subdomain of github.com", "https://gist.github.com/a/b/pull/1"],
    ["a merge request path on GitHub", "https://github.com/a/b/-/merge_requests/1"],
    ["a pull request path on GitLab", "https://gitlab.com/a/b/pull/1"],
    ["a merge request without a group", "https://gitlab.com/shop/-/merge_requests/1"],
    ["a pull request URL inside another URL", "https://evil.example/?next=https://github.com/a/b/pull/1"],
  ])("refuses %s", (_, text) => {
    expect(findPullRequest(text, gitlabHosts)).toBeNull();
  });
});

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
    clock += 10 * 60_000;
    const sentAt = new Date(clock).toISOString();

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

describe("QaTechClient against the fake QA.tech", () => {
  let qa: FakeQaTech;
  afterEach(() => qa?.close());

  const client = (options: Partial<QaTechClientOptions> = {}) =>
    new QaTechClient({ apiUrl: qa.url, apiKey: "qa-test-key", ...options });

  /** Runs `work` and returns what it threw. */
  async function failure(work: Promise<unknown>): Promise<unknown> {
    try {
      await work;
    } catch (error) {
      return error;
    }
    throw new Error("expected the call to fail");
  }

  it("opens a conversation with a bearer key, the project and the application overrides", async () => {
    qa = await startFakeQaTech({ keyScope: "organization" });
    const overrides = [
      { applicationShortId: "app_shop", environment: { url: "https://preview.shop.example", name: "PR-7" } },
    ];

    const ref = await client({
      projectShortId: "proj_shop",
      applicationOverrides: overrides,
    }).startConversation(OUR_TEXT);

    expect(ref).toEqual({
      id: "chat_1",
      url: "https://app.qa.tech/p/proj_shop/chat/chat_1",
      sentDigest: OURS,
      opened: true,
    });
    expect(qa.requests).toHaveLength(1);
    expect(qa.requests[0]).toMatchObject({
      method: "POST",
      path: "/v1/chat",
      headers: { authorization: "Bearer qa-test-key", "content-type": "application/json" },
      body: { message: OUR_TEXT, projectShortId: "proj_shop", applicationOverrides: overrides },
    });
  });

  it("names the project on a follow-up, as an organisation-scoped key requires", async () => {
    qa = await startFakeQaTech({ keyScope: "organization" });
    const qatech = client({ projectShortId: "proj_shop" });
    const { id } = await qatech.startConversation(OUR_TEXT);
    const before = Date.now();

    const ref = await qatech.sendMessage(id, "And on mobile?");

    expect(ref).toMatchObject({ id, sentDigest: messageDigest("And on mobile?") });
    expect(ref.opened).toBeUndefined();
    expect(Date.parse(ref.sentAt ?? "")).toBeGreaterThanOrEqual(before);
    expect(qa.requests.at(-1)).toMatchObject({
      method: "POST",
      path: `/v1/chat/${id}`,
      body: { message: "And on mobile?", projectShortId: "proj_shop" },
    });
  });

  it("names the project on a change review", async () => {
    qa = await startFakeQaTech({ keyScope: "organization" });
    const overrides = [{ applicationShortId: "app_shop", environment: { shortId: "env_preview" } }];
    const pr = { url: "https://github.com/acme/shop/pull/42", provider: "github" as const };

    await client({ projectShortId: "proj_shop", applicationOverrides: overrides }).startChangeReview(
      pr,
      OUR_TEXT,
    );

    expect(qa.requests[0].body).toMatchObject({ mode: "pr", projectShortId: "proj_shop" });
  });

  it("reads a conversation without naming the project (undocumented for GET)", async () => {
    qa = await startFakeQaTech({ keyScope: "organization" });
    const qatech = client({ projectShortId: "proj_shop" });
    const { id } = await qatech.startConversation(OUR_TEXT);

    await qatech.getConversation(id);

    expect(qa.requests.at(-1)).toMatchObject({ method: "GET", query: { limit: "20" } });
    expect(qa.requests.at(-1)?.query).not.toHaveProperty("projectShortId");
  });

  it("leaves out the project and empty overrides when none are configured", async () => {
    qa = await startFakeQaTech();

    await client({ applicationOverrides: [] }).startConversation(OUR_TEXT);

    expect(qa.requests[0].body).toEqual({ message: OUR_TEXT });
  });

  it("tolerates a trailing slash on the API url", async () => {
    qa = await startFakeQaTech();

    await client({ apiUrl: `${qa.url}/` }).startConversation(OUR_TEXT);

    expect(qa.requests[0].path).toBe("/v1/chat");
  });

  it("reads the conversation until findReply sees the final reply to our message", async () => {
    qa = await startFakeQaTech({ plan: () => ({ pollsUntilFinal: 2, text: "## Tested\n\nAll good." }) });
    const qatech = client();
    const ref = await qatech.startConversation(OUR_TEXT);

    const seen = [];
    for (let i = 0; i < 3; i++) {
      const read = await qatech.getConversation(ref.id);
      seen.push(findReply(read.messages, ref));
    }

    expect(seen).toEqual([null, null, { status: "COMPLETED", text: "## Tested\n\nAll good." }]);
    expect(qa.requests.at(-1)).toMatchObject({
      method: "GET",
      path: "/v1/chat/chat_1",
      headers: { authorization: "Bearer qa-test-key" },
    });
  });

  it("turns a 401 into a PermanentError carrying the status and QA.tech's message", async () => {
    qa = await startFakeQaTech({ apiKey: "the-right-key" });

    const error = await failure(client({ apiKey: "a-wrong-key" }).startConversation(OUR_TEXT));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ name: "PermanentError", status: 401 });
    expect((error as Error).message).toContain("Invalid API key");
    expect((error as Error).message).not.toContain("a-wrong-key");
  });

  it("turns a 404 for an unknown conversation into a PermanentError", async () => {
    qa = await startFakeQaTech();

    const error = await failure(client().getConversation("chat_missing"));

    expect(error).toMatchObject({ name: "PermanentError", status: 404 });
  });

  it("turns a 500 into a TransientError", async () => {
    qa = await startFakeQaTech();
    qa.failNext({ path: "/v1/chat", fault: { status: 500 } });

    const error = await failure(client().startConversation(OUR_TEXT));

    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ name: "TransientError" });
  });

  it("turns a malformed 200 body into a TransientError", async () => {
    qa = await startFakeQaTech();
    const ref = await client().startConversation(OUR_TEXT);
    qa.failNext({ method: "GET", fault: { malformed: true } });

    const error = await failure(client().getConversation(ref.id));

    expect(error).toBeInstanceOf(TransientError);
  });

  it("turns a dropped connection into a TransientError", async () => {
    qa = await startFakeQaTech();
    qa.failNext({ fault: { reset: true } });

    expect(await failure(client().startConversation(OUR_TEXT))).toBeInstanceOf(TransientError);
  });

  it("gives up on a hung QA.tech with a TransientError once its timeout has passed", async () => {
    qa = await startFakeQaTech();
    qa.failNext({ fault: { hang: true } });

    const error = await failure(client({ timeoutMs: 300 }).startConversation(OUR_TEXT));

    // The client's own timeout ended it (not a refused or reset connection), however slow the machine.
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toBe("QA.tech did not answer within 300 ms (POST /v1/chat)");
    expect((error as Error).cause).toMatchObject({ name: "TimeoutError" });
  });

  /** A sleep that records the waits asked for and returns at once: Retry-After without the wall clock. */
  function recordedSleep() {
    const waits: number[] = [];
    return { waits, sleep: async (ms: number) => void waits.push(ms) };
  }

  it("passes on a long Retry-After with a 429 instead of waiting inside the call", async () => {
    qa = await startFakeQaTech();
    qa.failNext({ fault: { status: 429, headers: { "retry-after": "17" } } });
    const { waits, sleep } = recordedSleep();

    const error = await failure(client({ sleep }).startConversation(OUR_TEXT));

    expect(error).toBeInstanceOf(TransientError);
    expect((error as TransientError).retryAfterSeconds).toBe(17);
    expect(qa.requests).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it("waits out a short Retry-After inside the call and then succeeds", async () => {
    qa = await startFakeQaTech();
    qa.failNext({ fault: { status: 429, headers: { "retry-after": "1" } } });
    const { waits, sleep } = recordedSleep();

    const ref = await client({ sleep }).startConversation(OUR_TEXT);

    expect(ref.id).toBe("chat_1");
    expect(qa.requests).toHaveLength(2);
    expect(waits).toEqual([1000]);
  });

  it("sends again only after the wait is over", async () => {
    qa = await startFakeQaTech();
    qa.failNext({ fault: { status: 429, headers: { "retry-after": "2" } } });
    let requestsWhenWaiting: number | undefined;
    const sleep = async (ms: number) => {
      expect(ms).toBe(2000);
      requestsWhenWaiting = qa.requests.length;
    };

    await client({ sleep }).startConversation(OUR_TEXT);

    expect(requestsWhenWaiting).toBe(1);
    expect(qa.requests).toHaveLength(2);
  });

  it("waits out a short Retry-After only once, then leaves the retry to the state machine", async () => {
    qa = await startFakeQaTech();
    qa.failNext({ fault: { status: 503, headers: { "retry-after": "0" } }, times: 3 });
    const { waits, sleep } = recordedSleep();

    const error = await failure(client({ sleep }).startConversation(OUR_TEXT));

    expect(error).toBeInstanceOf(TransientError);
    expect(qa.requests).toHaveLength(2);
    expect(waits).toEqual([0]);
  });

  it("lets one read lower the client's Retry-After limit, down to sending nothing again", async () => {
    qa = await startFakeQaTech();
    const qatech = client({ maxInlineRetryAfterSeconds: 10 });
    const { id } = await qatech.startConversation(OUR_TEXT);
    qa.failNext({ method: "GET", fault: { status: 429, headers: { "retry-after": "5" } } });
    qa.failNext({ method: "GET", fault: { status: 503, headers: { "retry-after": "0" } } });

    const lowered = await failure(qatech.getConversation(id, { maxInlineRetryAfterSeconds: 3 }));
    const none = await failure(qatech.getConversation(id, { maxInlineRetryAfterSeconds: -1 }));

    expect(lowered).toMatchObject({ name: "TransientError", retryAfterSeconds: 5 });
    expect(none).toMatchObject({ name: "TransientError", retryAfterSeconds: 0 });
    expect(qa.requests.filter((r) => r.method === "GET")).toHaveLength(2);
  });

  it("passes on a Retry-After given as an HTTP date with a 503", async () => {
    qa = await startFakeQaTech();
    const inAMinute = new Date(Date.now() + 60_000).toUTCString();
    qa.failNext({ fault: { status: 503, headers: { "retry-after": inAMinute } } });

    const error = (await failure(client().startConversation(OUR_TEXT))) as TransientError;

    expect(error).toBeInstanceOf(TransientError);
    expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(58);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(61);
  });

  it("does not retry a 402 (out of credits): it is permanent", async () => {
    qa = await startFakeQaTech();
    qa.failNext({ fault: { status: 402, body: { message: "Out of credits" } } });

    const error = await failure(client().startConversation(OUR_TEXT));

    expect(error).toMatchObject({ name: "PermanentError", status: 402 });
    expect((error as Error).message).toContain("Out of credits");
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-11-20T10:00:00.000Z");

  it("reads delay seconds", () => {
    expect(parseRetryAfter("120", now)).toBe(120);
    expect(parseRetryAfter(" 5 ", now)).toBe(5);
    expect(parseRetryAfter("0", now)).toBe(0);
  });

  it("reads an HTTP date as the seconds until then, rounded up", () => {
    expect(parseRetryAfter("Fri, 20 Nov 2026 10:01:30 GMT", now)).toBe(90);
    expect(parseRetryAfter(new Date(now + 1500).toUTCString(), now)).toBe(1);
  });

  it("treats a date in the past as no wait", () => {
    expect(parseRetryAfter("Fri, 20 Nov 2026 09:00:00 GMT", now)).toBe(0);
  });

  it("ignores an absent or unreadable header", () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter("", now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
  });

  it("ignores values that are neither delay seconds nor an HTTP date, instead of reading them as dates", () => {
    // V8's Date.parse reads "-5" as the year -5 and "1.5" as 5 January 2001: both would mean "retry now".
    expect(parseRetryAfter("-5", now)).toBeUndefined();
    expect(parseRetryAfter("1.5", now)).toBeUndefined();
  });
});
