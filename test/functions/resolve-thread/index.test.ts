import { handler as postComment } from "../../../functions/post-comment";
import { handler } from "../../../functions/resolve-thread";
import type { WorkflowState } from "../../../functions/shared/domain/workflow-state";
import { ConfigError, PermanentError, TransientError } from "../../../functions/shared/platform/errors";
import { setLogSink } from "../../../functions/shared/platform/log";
import { clearSecretCache } from "../../../functions/shared/platform/secrets";
import { qatechClientFromSettings } from "../../../functions/shared/qatech/from-settings";
import { type FakeLinear, ratelimitedFault, startFakeLinear } from "../../../simulators/linear";
import { type FakeQaTech, startFakeQaTech } from "../../../simulators/qatech";
import { settingsEnv } from "../../support/settings";

const LINEAR_KEY = "lin_api_resolve_thread_test";
const QATECH_KEY = "qa-key-resolve-thread-test";
const MARKER_KEY = "marker-key-resolve-thread-test";
const BOT = "user-qa-bot";
const HUMAN = "user-human";

const TICKET: WorkflowState["ticket"] = {
  tracker: "linear",
  id: "issue-1",
  key: "ENG-42",
  title: "Checkout",
  url: "https://linear.app/acme/issue/ENG-42",
  description: "",
};

describe("resolve-thread", () => {
  let linear: FakeLinear;
  let qa: FakeQaTech;
  let lines: string[];
  let restoreSink: ReturnType<typeof setLogSink>;
  const saved = { ...process.env };

  beforeEach(async () => {
    qa = await startFakeQaTech({ apiKey: QATECH_KEY, plan: () => ({ status: "NEVER" }) });
    linear = await startFakeLinear({
      apiKey: LINEAR_KEY,
      viewerId: BOT,
      issues: {
        "issue-1": {
          identifier: "ENG-42",
          title: "Checkout crashes on an empty cart",
          description: "Steps: open the cart.",
          url: TICKET.url,
        },
      },
    });
    Object.assign(
      process.env,
      { LINEAR_API_KEY: LINEAR_KEY, QATECH_API_KEY: QATECH_KEY, MARKER_KEY },
      settingsEnv({ linear: { apiUrl: linear.url }, qatech: { apiUrl: qa.url } }),
    );
    for (const name of ["LINEAR_API_KEY", "QATECH_API_KEY", "MARKER_KEY"])
      delete process.env[`${name}_SECRET_ARN`];
    clearSecretCache();
    lines = [];
    restoreSink = setLogSink((line) => lines.push(line));
  });
  afterEach(async () => {
    setLogSink(restoreSink);
    process.env = { ...saved };
    clearSecretCache();
    await linear.close();
    await qa.close();
  });

  /** A labelled run that opened a conversation and acknowledged it: our thread's root, with its marker. */
  async function ourThread(): Promise<{ rootId: string; conversationId: string }> {
    const client = await qatechClientFromSettings();
    const conversation = await client.startConversation("Create a test for ENG-42");
    const out = await postComment({
      kind: "ack",
      state: { runId: "linear-ENG-42-run", ticket: TICKET, conversation },
    });
    return { rootId: out.ack?.id ?? "", conversationId: conversation.id };
  }

  /** The run a comment in a thread starts. */
  function followUp(text: string, parentId?: string, authorId = HUMAN): WorkflowState {
    const comment = linear.addComment({ issueId: TICKET.id, body: text, userId: authorId, parentId });
    return {
      runId: "linear-ENG-42-followup",
      ticket: TICKET,
      followUp: { commentId: comment.id, authorId, parentId, text },
    };
  }

  it("takes a question in our thread for the thread's conversation", async () => {
    const { rootId, conversationId } = await ourThread();

    const out = await handler(followUp("And on mobile?", rootId));

    expect(out.thread).toEqual({ action: "ask", rootId, conversation: { id: conversationId } });
  });

  it("for `status`, asks QA.tech where the conversation stands", async () => {
    const { rootId, conversationId } = await ourThread();

    const out = await handler(followUp("status", rootId));

    expect(out.thread).toMatchObject({ action: "status", rootId, conversation: { id: conversationId } });
    expect(out.thread?.conversation?.url).toContain(conversationId);
    expect(out.thread?.latest).toEqual(expect.any(String));
  });

  it("for `retry`, reads the ticket's text back for the new conversation", async () => {
    const { rootId } = await ourThread();

    const out = await handler(followUp("retry", rootId));

    expect(out.thread?.action).toBe("retry");
    expect(out.ticket).toMatchObject({
      title: "Checkout crashes on an empty cart",
      description: "Steps: open the cart.",
    });
  });

  it("ignores a reply in someone else's thread", async () => {
    const root = linear.addComment({ issueId: TICKET.id, body: "Any idea why?", userId: HUMAN });

    const out = await handler(followUp("And on mobile?", root.id));

    expect(out.thread).toEqual({
      action: "ignore",
      rootId: undefined,
      conversation: undefined,
      latest: undefined,
    });
  });

  it("ignores a thread whose root copies our marker but was not written by us", async () => {
    const { rootId } = await ourThread();
    const copied = linear.comments.find((c) => c.id === rootId)?.body ?? "";
    const forged = linear.addComment({ issueId: TICKET.id, body: copied, userId: HUMAN });

    const out = await handler(followUp("retry", forged.id));

    expect(out.thread?.action).toBe("ignore");
  });

  it("ignores a comment outside any thread, and our own comments", async () => {
    const { rootId } = await ourThread();

    expect((await handler(followUp("And on mobile?"))).thread?.action).toBe("ignore");
    expect((await handler(followUp("And on mobile?", rootId, BOT))).thread?.action).toBe("ignore");
  });

  it("answers `help` even where no conversation exists yet", async () => {
    expect((await handler(followUp("help"))).thread?.action).toBe("help");
  });

  it("keeps Linear's rate limit a TransientError, for the state machine to retry", async () => {
    const { rootId } = await ourThread();
    const state = followUp("And on mobile?", rootId);
    linear.failNext({ operation: "comment", fault: ratelimitedFault({ retryAfterSeconds: 30 }) });

    const error = await handler(state).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(TransientError);
    expect((error as TransientError).retryAfterSeconds).toBe(30);
  });

  it("turns QA.tech refusing the key into a PermanentError", async () => {
    const { rootId } = await ourThread();
    const state = followUp("status", rootId);
    process.env.QATECH_API_KEY = "a-revoked-key";
    clearSecretCache();

    await expect(handler(state)).rejects.toBeInstanceOf(PermanentError);
  });

  it("refuses to run without a follow-up", async () => {
    await expect(handler({ runId: "run-1", ticket: TICKET })).rejects.toBeInstanceOf(ConfigError);
  });

  it("logs no credential it holds", async () => {
    const { rootId } = await ourThread();
    await handler(followUp("status", rootId));

    const logged = lines.join("\n");
    expect(logged).toContain("thread resolved");
    for (const secret of [LINEAR_KEY, QATECH_KEY, MARKER_KEY]) expect(logged).not.toContain(secret);
  });
});
