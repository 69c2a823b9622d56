import { composeComment } from "../../../../functions/shared/domain/comment";
import { CONVERSATION_URL, state } from "./ticket-fixture";

describe("composeComment", () => {
  it("posts a completed reply as it is, with the link to the conversation", () => {
    const comment = composeComment(
      "reply",
      state({ reply: { status: "COMPLETED", text: "## Tested\n\nAll good." } }),
    );

    expect(comment).toEqual({
      kind: "reply",
      markdown: "## Tested\n\nAll good.",
      link: { url: CONVERSATION_URL, label: expect.any(String) },
    });
  });

  it("says so when QA.tech completed without writing anything", () => {
    const comment = composeComment("reply", state({ reply: { status: "COMPLETED", text: "" } }));

    expect(comment.kind).toBe("reply");
    expect(comment.markdown).toMatch(/without a written reply/);
    expect(comment.link?.url).toBe(CONVERSATION_URL);
  });

  it("says a FAILED reply failed, and quotes what QA.tech wrote", () => {
    const comment = composeComment(
      "reply",
      state({ reply: { status: "FAILED", text: "The application did not load." } }),
    );

    expect(comment.kind).toBe("reply");
    expect(comment.markdown).toMatch(/failed/);
    expect(comment.markdown).toContain("The application did not load.");
    expect(comment.link?.url).toBe(CONVERSATION_URL);
  });

  it("says a CANCELLED reply was cancelled", () => {
    const comment = composeComment("reply", state({ reply: { status: "CANCELLED", text: "" } }));

    expect(comment.markdown).toMatch(/cancelled/);
    expect(comment.markdown).not.toMatch(/failed/);
    expect(comment.link?.url).toBe(CONVERSATION_URL);
  });

  it("after the reply deadline, says how long it waited and that the conversation may still finish", () => {
    const comment = composeComment(
      "failure",
      state({
        poll: { n: 71, elapsedSeconds: 3600, waitSeconds: 28, status: "deadline" },
        error: { Error: "ReplyDeadline", Cause: "QA.tech did not finish its reply in time" },
      }),
    );

    expect(comment.kind).toBe("failure");
    expect(comment.markdown).toContain("60 minutes");
    expect(comment.markdown).toMatch(/may still finish/);
    expect(comment.link?.url).toBe(CONVERSATION_URL);
    expect(comment.markdown).not.toMatch(/re-add/);
  });

  it("reads a PermanentError's message out of the Lambda's JSON Cause, without the JSON around it", () => {
    const cause = JSON.stringify({
      errorType: "PermanentError",
      errorMessage: "QA.tech answered 402 to POST /v1/chat: Out of credits",
      trace: ["PermanentError: QA.tech answered 402", "    at requestJson (/var/task/index.js:1:2345)"],
    });

    const comment = composeComment("failure", state({ error: { Error: "PermanentError", Cause: cause } }));

    expect(comment.kind).toBe("failure");
    expect(comment.markdown).toContain("QA.tech answered 402 to POST /v1/chat: Out of credits");
    expect(comment.markdown).not.toContain("errorType");
    expect(comment.markdown).not.toContain("/var/task");
    expect(comment.link?.url).toBe(CONVERSATION_URL);
  });

  it("reads a plain-text Cause as it is (the local runner's form)", () => {
    const comment = composeComment(
      "failure",
      state({
        error: { Error: "PermanentError", Cause: "QA.tech answered 403 to POST /v1/chat: Suspended" },
      }),
    );

    expect(comment.markdown).toContain("QA.tech answered 403 to POST /v1/chat: Suspended");
  });

  it("without a conversation, gives no link and tells people to re-add the label", () => {
    const cause = JSON.stringify({ errorType: "PermanentError", errorMessage: "Invalid API key" });

    const comment = composeComment(
      "failure",
      state({ conversation: undefined, poll: undefined, error: { Error: "PermanentError", Cause: cause } }),
    );

    expect(comment.kind).toBe("failure");
    expect(comment.link).toBeUndefined();
    expect(comment.markdown).toContain("Invalid API key");
    expect(comment.markdown).toMatch(/re-add the label/i);
  });

  it("reports an unexpected error by its name when it has no cause", () => {
    const comment = composeComment("failure", state({ error: { Error: "States.Timeout" } }));

    expect(comment.kind).toBe("failure");
    expect(comment.markdown).toContain("States.Timeout");
  });

  it("says what failed, not the acknowledgement, when the acknowledgement itself could not be posted", () => {
    const comment = composeComment(
      "failure",
      state({
        error: {
          Error: "TransientError",
          Cause: "Could not post the acknowledgement: Linear refused the comment (InternalError): down",
        },
      }),
    );

    expect(comment.kind).toBe("failure");
    expect(comment.markdown).toContain("Could not post the acknowledgement");
    expect(comment.markdown).not.toMatch(/is on it/);
    expect(comment.link?.url).toBe(CONVERSATION_URL);
  });

  it("reports a failure rather than a reply when an error came after the reply was read", () => {
    const comment = composeComment(
      "failure",
      state({
        reply: { status: "COMPLETED", text: "All good." },
        error: { Error: "PermanentError", Cause: "Linear refused the comment (InvalidInput): too long" },
      }),
    );

    expect(comment.kind).toBe("failure");
    expect(comment.markdown).toContain("too long");
    expect(comment.link?.url).toBe(CONVERSATION_URL);
  });

  it("does not blame QA.tech when it was Linear that refused the reply's comment", () => {
    const cause = JSON.stringify({
      errorType: "PermanentError",
      errorMessage: "Linear refused the comment (InvalidInput): body is too long",
    });

    const comment = composeComment(
      "failure",
      state({
        reply: { status: "COMPLETED", text: "All good." },
        error: { Error: "PermanentError", Cause: cause },
      }),
    );

    expect(comment.markdown).toContain("Linear refused the comment");
    expect(comment.markdown).not.toMatch(/QA\.tech could not take this ticket/);
  });
});
