import { composeComment } from "../../../../functions/shared/domain/comment";
import { decideVerdict } from "../../../../functions/shared/domain/verdict";
import type { WorkflowState } from "../../../../functions/shared/domain/workflow-state";
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

describe("composeComment: the verdict", () => {
  const failedRun = decideVerdict(
    [
      {
        shortId: "run_1",
        status: "COMPLETED",
        result: "FAILED",
        tests: [
          {
            shortId: "t1",
            name: "Checkout - empty cart",
            status: "COMPLETED",
            result: "FAILED",
            resultTitle: "Blank page",
            errorCode: "TEST_FAILED",
          },
        ],
      },
    ],
    (id) => `https://app.qa.tech/p/proj_shop/results/${id}`,
  );

  it("opens the reply with the verdict and its table, then QA.tech's reply", () => {
    const comment = composeComment(
      "reply",
      state({ reply: { status: "COMPLETED", text: "I ran it." }, verdict: failedRun }),
    );

    expect(comment.markdown.startsWith("**Failed**")).toBe(true);
    expect(comment.markdown).toContain("| Checkout \\- empty cart | failed | Blank page");
    expect(comment.markdown.indexOf("I ran it.")).toBeGreaterThan(comment.markdown.indexOf("| Test |"));
    // A failed test is the answer, not an error of the integration (an agent's `error` activity).
    expect(comment.failed).toBeUndefined();
  });

  it("says 'could not verify' with the reason when the runs could not be read past the retries", () => {
    const comment = composeComment(
      "reply",
      state({
        reply: { status: "COMPLETED", text: "I ran it." },
        runsError: { Error: "TransientError", Cause: "QA.tech answered 503 to GET /v1/run/run_1" },
      }),
    );

    expect(comment.markdown).toMatch(
      /^\*\*Could not verify\*\*: QA\\\.tech\\'s test results could not be read/,
    );
    expect(comment.markdown).toContain("I ran it.");
  });

  it("gives no verdict where none was found (a question answered without tests)", () => {
    const comment = composeComment("reply", state({ reply: { status: "COMPLETED", text: "It works." } }));

    expect(comment.markdown).toBe("It works.");
  });

  it("starts a labelled run's failure with 'could not verify', never a follow-up question's", () => {
    const error = { Error: "PermanentError", Cause: "QA.tech answered 402: no credits" };
    const labelled = composeComment("failure", state({ error }));
    const followUp = composeComment(
      "failure",
      state({
        error,
        followUp: { text: "and on mobile?", commentId: "c1", authorId: "u1" },
        thread: { action: "ask" },
      }),
    );

    expect(labelled.markdown.startsWith("**Could not verify**: QA.tech could not take this ticket")).toBe(
      true,
    );
    expect(followUp.markdown.startsWith("QA.tech could not take this ticket")).toBe(true);
  });

  it("ends the reply with what the run could not do beside it (a refused ticket move)", () => {
    const comment = composeComment(
      "reply",
      state({ reply: { status: "COMPLETED", text: "Done." }, verdict: failedRun }),
      { help: "", replyMode: "thread", notes: ['Could not move the ticket to "QA Failed": no such state'] },
    );

    const last = comment.markdown.split("\n\n").at(-1) ?? "";
    expect(last).toMatch(/^_Could not move the ticket to \\"QA Failed\\"\\: no such state_$/);
  });
});

describe("composeComment: `rerun` and `status`", () => {
  const rerunState = (runs: WorkflowState["runs"]) =>
    state({
      followUp: { text: "@qa rerun", commentId: "c1", authorId: "u1" },
      thread: { action: "rerun", rootId: "ack-1", conversation: { id: "chat_7", url: CONVERSATION_URL } },
      runs,
    });

  it("says which runs were restarted and that the verdict follows", () => {
    const comment = composeComment(
      "answer",
      rerunState({
        status: "waiting",
        links: { runs: ["run_2"], tests: [] },
        base: "https://app.qa.tech/p/proj_shop",
        reruns: [{ from: "run_1", to: "run_2", failedOnly: true, testCount: 2 }],
      }),
    );

    expect(comment.markdown).toContain("- the failed tests of run run_1: new run run_2 (2 tests)");
    expect(comment.markdown).toContain("The verdict follows in this thread");
  });

  it("says why nothing was rerun", () => {
    const note = "No reply in this conversation links a QA.tech test run, so there is nothing to rerun.";
    const comment = composeComment(
      "answer",
      rerunState({ status: "none", links: { runs: [], tests: [] }, base: "", note }),
    );

    expect(comment.markdown).toBe(note);
  });

  it("opens the rerun's reply with its verdict and says what was rerun", () => {
    const verdict = decideVerdict(
      [
        {
          shortId: "run_2",
          status: "COMPLETED",
          result: "PASSED",
          tests: [{ shortId: "t9", name: "Checkout", status: "COMPLETED", result: "PASSED" }],
        },
      ],
      (id) => `https://app.qa.tech/p/proj_shop/results/${id}`,
    );
    const comment = composeComment("reply", {
      ...rerunState({
        status: "final",
        links: { runs: ["run_2"], tests: [] },
        base: "https://app.qa.tech/p/proj_shop",
        reruns: [{ from: "run_1", to: "run_2", failedOnly: true, testCount: 1 }],
      }),
      verdict,
    });

    expect(comment.markdown.startsWith("**Passed**")).toBe(true);
    expect(comment.markdown).toContain("run run_2 reran the failed tests of run run_1");
  });

  it("lists where the linked runs stand under `status`", () => {
    const comment = composeComment(
      "answer",
      state({
        followUp: { text: "@qa status", commentId: "c1", authorId: "u1" },
        thread: { action: "status", latest: "COMPLETED", runs: ["run_1: running (1 of 3 tests done)"] },
      }),
    );

    expect(comment.markdown).toBe(
      "QA.tech's latest reply is completed.\n\nTest runs its latest replies link:\n- run_1: running (1 of 3 tests done)",
    );
  });
});

describe("composeComment: which step a progress update belongs to (the agent's plan)", () => {
  const runs = {
    links: { runs: ["run_1"], tests: [] },
    base: "https://app.qa.tech/p/proj_shop",
  };
  const progress = { sent: 1, atSeconds: 60, digest: "", text: "Waiting for QA.tech's test runs to finish." };

  it("marks progress while the test runs are waited for as the runs step", () => {
    const comment = composeComment("progress", state({ progress, runs: { ...runs, status: "waiting" } }));

    expect(comment.step).toBe("runs");
    expect(comment.markdown).toBe("Waiting for QA.tech's test runs to finish.");
  });

  it("leaves progress while QA.tech writes, and every other kind, without a step", () => {
    expect(composeComment("progress", state({ progress })).step).toBeUndefined();
    expect(
      composeComment("progress", state({ progress, runs: { ...runs, status: "final" } })).step,
    ).toBeUndefined();
    const waiting = state({
      runs: { ...runs, status: "waiting" },
      reply: { status: "COMPLETED", text: "x" },
    });
    for (const kind of ["ack", "reply", "failure", "answer"] as const)
      expect(composeComment(kind, waiting).step).toBeUndefined();
  });
});

describe("the acknowledgement of a routed ticket", () => {
  it("names the route's project, the route and its applications", () => {
    const route = { name: "mobile", projectShortId: "proj_mobile", applications: ["app_ios", "app_android"] };

    const comment = composeComment("ack", state({ route }));

    expect(comment.markdown).toMatch(/^QA\.tech is on it and will reply in this thread\./);
    expect(comment.markdown).toContain(
      "Sent to QA.tech project proj\\_mobile (route mobile), applications app\\_ios, app\\_android.",
    );
  });

  it("says the default project for a route without one, one application, and nothing without a route", () => {
    const route = { name: "web", applications: ["app_web"] };

    expect(composeComment("ack", state({ route })).markdown).toContain(
      "Sent to the default QA.tech project (route web), application app\\_web.",
    );
    expect(composeComment("ack", state({})).markdown).not.toContain("Sent to");
  });
});
