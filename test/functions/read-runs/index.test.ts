import { createReadRunsHandler } from "../../../functions/read-runs";
import {
  afterPoll,
  DEFAULT_POLL_SCHEDULE,
  elapsedBeforePoll,
} from "../../../functions/shared/domain/poll-schedule";
import type { WorkflowState } from "../../../functions/shared/domain/workflow-state";
import { TransientError } from "../../../functions/shared/platform/errors";
import { QaTechRuns } from "../../../functions/shared/qatech/runs";
import { type FakeQaTech, type RunPlan, startFakeQaTech } from "../../../simulators/qatech";
import { settingsEnv } from "../../support/settings";

const KEY = "qa-test-key";
const PROJECT = "proj_demo";
const CONVERSATION_URL = `https://app.qa.tech/p/${PROJECT}/chat/chat_1`;
const FAILED_TEST = { name: "Checkout", result: "FAILED" as const, resultTitle: "Blank page" };

describe("read-runs", () => {
  let qa: FakeQaTech;
  const saved = { ...process.env };
  afterEach(async () => {
    process.env = { ...saved };
    await qa?.close();
  });

  async function setUp(options: Parameters<typeof startFakeQaTech>[0] = {}, replyTimeoutMinutes = 60) {
    await qa?.close();
    qa = await startFakeQaTech({ apiKey: KEY, projectShortId: PROJECT, ...options });
    Object.assign(
      process.env,
      { QATECH_API_KEY: KEY },
      settingsEnv({ qatech: { apiUrl: qa.url }, replyTimeoutMinutes }),
    );
    delete process.env.QATECH_API_KEY_SECRET_ARN;
    return createReadRunsHandler({ runs: async () => new QaTechRuns({ apiUrl: qa.url, apiKey: KEY }) });
  }

  /** The state after the final reply was read on poll `n`, linking `runs` (by short id). */
  function afterReply(runs: string[], n = 4, more: Partial<WorkflowState> = {}): WorkflowState {
    return {
      runId: "run-1",
      ticket: {
        tracker: "linear",
        id: "i1",
        key: "ENG-42",
        title: "t",
        url: "https://linear.app/x",
        description: "",
      },
      conversation: { id: "chat_1", url: CONVERSATION_URL, sentDigest: "d", opened: true },
      // What poll-conversation leaves when the reply was final on read n.
      poll: {
        n,
        elapsedSeconds: elapsedBeforePoll(n - 1, DEFAULT_POLL_SCHEDULE),
        waitSeconds: 3,
        status: "final",
      },
      reply: { status: "COMPLETED", text: "done", links: { runs, tests: [] } },
      ...more,
    };
  }

  const add = (plan: RunPlan) => qa.addRun(plan).shortId;

  it("gives the verdict at once when every linked run is final", async () => {
    const read = await setUp();
    const id = add({ tests: [FAILED_TEST, { name: "Login", result: "PASSED" }] });

    const out = await read({ step: "read", state: afterReply([id]) });

    expect(out.runs?.status).toBe("final");
    expect(out.verdict).toMatchObject({ outcome: "failed", source: "runs" });
    expect(out.verdict?.tests.map((t) => t.name)).toEqual(["Checkout", "Login"]);
  });

  it("waits for a run still running on the poll clock where the reply's read left it", async () => {
    const read = await setUp();
    const id = add({ tests: [FAILED_TEST], readsUntilFinal: 1 });
    const state = afterReply([id], 4);

    const out = await read({ step: "read", state });

    // The runs were read at once after the reply's read 4: the next read is the schedule's fifth.
    expect(out.runs?.status).toBe("waiting");
    expect(out.poll).toEqual({
      ...afterPoll({ n: 3, elapsedSeconds: 0, waitSeconds: 0 }, DEFAULT_POLL_SCHEDULE),
      status: "pending",
    });
    expect(out.verdict).toBeUndefined();
    const again = await read({ step: "read", state: out });
    expect(again.runs?.status).toBe("final");
    expect(again.verdict?.outcome).toBe("failed");
  });

  it("at the deadline, says the runs had not finished; a product failure already read stays 'failed'", async () => {
    const read = await setUp({}, 1);
    const running = add({ tests: [{ name: "Slow", result: "PASSED" }], readsUntilFinal: 1_000 });
    const failed = add({ tests: [FAILED_TEST] });
    const schedule = { ...DEFAULT_POLL_SCHEDULE, replyTimeoutSeconds: 60 };
    let last = 0;
    for (let n = 1; elapsedBeforePoll(n, schedule) < 60; n++) last = n;

    const late = await read({ step: "read", state: afterReply([running], last + 1) });
    const lateWithFailure = await read({ step: "read", state: afterReply([running, failed], last + 1) });

    expect(late.verdict).toMatchObject({ outcome: "unverified" });
    expect(late.verdict?.reason).toMatch(/had not finished when the ticket's 1-minute deadline came/);
    expect(lateWithFailure.verdict?.outcome).toBe("failed");
  });

  it("uses the reply's verdict line when it links no run, and leaves a question's answer without one", async () => {
    const read = await setUp();
    const reply = (verdictLine?: "failed") => ({ status: "COMPLETED" as const, text: "x", verdictLine });

    const labelled = await read({ step: "read", state: afterReply([], 4, { reply: reply("failed") }) });
    const question = await read({
      step: "read",
      state: afterReply([], 4, {
        reply: reply(),
        followUp: { text: "and on mobile?", commentId: "c1", authorId: "u1" },
        thread: { action: "ask" },
      }),
    });

    expect(labelled.verdict).toMatchObject({ outcome: "failed", source: "assistant" });
    expect(question.verdict).toBeUndefined();
    expect(qa.requests).toEqual([]);
  });

  it("says 'could not verify' when the key may not read runs, and throws an outage for the retries", async () => {
    const read = await setUp({ runsAccess: "none" });
    const id = add({ tests: [FAILED_TEST] });

    const out = await read({ step: "read", state: afterReply([id]) });

    expect(out.verdict).toMatchObject({ outcome: "unverified" });
    expect(out.verdict?.reason).toMatch(/could not be read/);

    const down = await setUp();
    const other = add({ tests: [FAILED_TEST] });
    qa.failNext({ method: "GET", path: /^\/v1\/run\//, fault: { status: 503 }, times: 10 });
    await expect(down({ step: "read", state: afterReply([other]) })).rejects.toBeInstanceOf(TransientError);
  });

  it("reads a test linked on its own as part of its run", async () => {
    const read = await setUp();
    const added = qa.addRun({ tests: [FAILED_TEST] });

    const out = await read({
      step: "read",
      state: afterReply([], 4, {
        reply: { status: "COMPLETED", text: "x", links: { runs: [], tests: [added.tests[0].shortId] } },
      }),
    });

    expect(out.verdict).toMatchObject({ outcome: "failed", runUrls: [added.url] });
  });

  it("an agent run posts a thought naming the runs it starts waiting for", async () => {
    const read = await setUp();
    const id = add({ tests: [FAILED_TEST], readsUntilFinal: 2 });
    const state = afterReply([id]);

    const out = await read({
      step: "read",
      state: { ...state, ticket: { ...state.ticket, tracker: "linear-agent" } },
    });

    expect(out.poll?.status).toBe("progress");
    expect(out.progress?.text).toBe(`Waiting for QA.tech's test runs to finish: ${id} (INITIATED).`);
    const next = await read({ step: "read", state: out });
    expect(next.poll?.status).toBe("pending");
  });
});
