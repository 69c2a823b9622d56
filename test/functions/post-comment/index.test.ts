import { handler } from "../../../functions/post-comment";
import type { WorkflowState } from "../../../functions/shared/domain/workflow-state";
import { PermanentError, SessionStopped, TransientError } from "../../../functions/shared/platform/errors";
import { setLogSink } from "../../../functions/shared/platform/log";
import { clearSecretCache } from "../../../functions/shared/platform/secrets";
import { TRACKERS, type Tracker } from "../../../functions/shared/trackers";
import { type FakeLinear, ratelimitedFault, startFakeLinear } from "../../../simulators/linear";
import { settingsEnv } from "../../support/settings";

const LINEAR_KEY = "lin_api_post_comment_test";
const MARKER_KEY = "marker-key-post-comment-test";
const CONVERSATION = {
  id: "chat_7",
  url: "https://app.qa.tech/p/proj_demo/chat/chat_7",
  sentDigest: "0123456789abcdef",
};

/** A labelled Linear ticket's run, at the step that posts `more`'s comment. */
function state(more: Partial<WorkflowState> = {}): WorkflowState {
  return {
    runId: "linear-ENG-42-0123456789abcdef",
    ticket: {
      tracker: "linear",
      id: "issue-1",
      key: "ENG-42",
      title: "Checkout crashes on empty cart",
      url: "https://linear.app/acme/issue/ENG-42",
      description: "",
    },
    ...more,
  };
}

describe("post-comment", () => {
  let linear: FakeLinear;
  let lines: string[];
  let restoreSink: ReturnType<typeof setLogSink>;
  const saved = { ...process.env };
  const savedTrackers = { ...TRACKERS };

  beforeEach(async () => {
    linear = await startFakeLinear({ apiKey: LINEAR_KEY });
    Object.assign(
      process.env,
      { LINEAR_API_KEY: LINEAR_KEY, MARKER_KEY },
      settingsEnv({ linear: { apiUrl: linear.url } }),
    );
    delete process.env.LINEAR_API_KEY_SECRET_ARN;
    delete process.env.MARKER_KEY_SECRET_ARN;
    clearSecretCache();
    lines = [];
    restoreSink = setLogSink((line) => lines.push(line));
  });
  afterEach(async () => {
    setLogSink(restoreSink);
    process.env = { ...saved };
    Object.assign(TRACKERS, savedTrackers);
    clearSecretCache();
    await linear.close();
  });

  /** Replaces the Linear tracker's postComment with one that throws `error`. */
  function failingTracker(name: "linear" | "linear-agent", error: Error) {
    TRACKERS[name] = async () => ({ postComment: async () => Promise.reject(error) }) as unknown as Tracker;
  }

  it("acknowledges a labelled ticket with one comment and keeps its id as the thread's root", async () => {
    const out = await handler({ kind: "ack", state: state({ conversation: CONVERSATION }) });

    expect(linear.comments).toHaveLength(1);
    expect(linear.comments[0].body).toMatch(/^QA\.tech is on it/);
    expect(linear.comments[0].body).toContain(CONVERSATION.url);
    expect(out.ack).toEqual({ id: linear.comments[0].id });
  });

  it("posts QA.tech's completed reply with the conversation link, and records the comment", async () => {
    const out = await handler({
      kind: "reply",
      state: state({
        conversation: CONVERSATION,
        reply: { status: "COMPLETED", text: "All good on checkout." },
      }),
    });

    expect(linear.comments).toHaveLength(1);
    expect(linear.comments[0].body).toMatch(/^All good on checkout\./);
    expect(linear.comments[0].body).toContain(CONVERSATION.url);
    expect(out.comment).toEqual({ id: linear.comments[0].id, duplicate: false });
  });

  it("posts a failure comment that says QA.tech's reply failed", async () => {
    await handler({
      kind: "reply",
      state: state({
        conversation: CONVERSATION,
        reply: { status: "FAILED", text: "Could not open the page." },
      }),
    });

    expect(linear.comments).toHaveLength(1);
    expect(linear.comments[0].body).toContain("Could not open the page.");
    expect(linear.comments[0].body).toMatch(/fail/i);
  });

  it("posts a retried step's comment once", async () => {
    const event = { kind: "ack" as const, state: state({ conversation: CONVERSATION }) };

    const first = await handler(event);
    const again = await handler(event);

    expect(linear.comments).toHaveLength(1);
    expect(again.ack).toEqual(first.ack);
  });

  it("keeps a rate limit a TransientError (the state machine retries it) and names the comment", async () => {
    linear.failNext({ operation: "createComment", fault: ratelimitedFault({ retryAfterSeconds: 30 }) });

    const error = await handler({ kind: "ack", state: state({ conversation: CONVERSATION }) }).catch(
      (e) => e,
    );

    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toMatch(/^Could not post the acknowledgement: /);
    expect(linear.comments).toHaveLength(0);
  });

  it("keeps a refusal a PermanentError and names the comment", async () => {
    linear.failNext({
      operation: "createComment",
      fault: {
        status: 400,
        body: {
          errors: [
            { message: "Forbidden", extensions: { type: "forbidden", userPresentableMessage: "No." } },
          ],
        },
      },
    });

    const error = await handler({ kind: "failure", state: state() }).catch((e) => e);

    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toMatch(/^Could not post the failure comment: /);
  });

  it("skips a progress update that cannot be posted instead of failing the run", async () => {
    failingTracker("linear", new TransientError("Linear is rate limited"));
    const before = state({ conversation: CONVERSATION });

    await expect(handler({ kind: "progress", state: before })).resolves.toBe(before);
  });

  it("ends on a stopped agent session, whatever the comment: nothing more is posted", async () => {
    for (const kind of ["progress", "reply"] as const) {
      failingTracker("linear-agent", new SessionStopped("The agent session s-1 was stopped"));
      const agentState = state({ conversation: CONVERSATION, reply: { status: "COMPLETED", text: "ok" } });
      agentState.ticket = { ...agentState.ticket, tracker: "linear-agent" };

      const error = await handler({ kind, state: agentState }).catch((e) => e);

      expect(error).toBeInstanceOf(SessionStopped);
    }
  });

  it("logs no credential it holds", async () => {
    linear.failNext({ operation: "createComment", fault: ratelimitedFault({ retryAfterSeconds: 30 }) });
    await handler({ kind: "ack", state: state({ conversation: CONVERSATION }) }).catch(() => undefined);
    await handler({ kind: "ack", state: state({ conversation: CONVERSATION }) });

    expect(lines.length).toBeGreaterThan(0);
    const logged = lines.join("\n");
    expect(logged).not.toContain(LINEAR_KEY);
    expect(logged).not.toContain(MARKER_KEY);
  });
});
