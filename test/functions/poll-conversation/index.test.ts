import { createPollHandler } from "../../../functions/poll-conversation";
import { DEFAULT_POLL_SCHEDULE, firstPoll } from "../../../functions/shared/domain/poll-schedule";
import type { WorkflowState } from "../../../functions/shared/domain/workflow-state";
import { TransientError } from "../../../functions/shared/platform/errors";
import { QaTechClient } from "../../../functions/shared/qatech/client";
import { type FakeQaTech, type FakeQaTechOptions, startFakeQaTech } from "../../../simulators/qatech";
import { settingsEnv } from "../../support/settings";

const KEY = "qa-test-key";

describe("poll-conversation", () => {
  let qa: FakeQaTech;
  const saved = { ...process.env };
  afterEach(async () => {
    process.env = { ...saved };
    await qa?.close();
  });

  /** The fake QA.tech and the environment the handler reads it from. */
  async function setUp(options: FakeQaTechOptions = {}) {
    qa = await startFakeQaTech({ apiKey: KEY, ...options });
    Object.assign(process.env, { QATECH_API_KEY: KEY }, settingsEnv({ qatech: { apiUrl: qa.url } }));
    delete process.env.QATECH_API_KEY_SECRET_ARN;
    return new QaTechClient({ apiUrl: qa.url, apiKey: KEY });
  }

  /** The state the workflow hands the poll function after a start or a follow-up. */
  function stateFor(conversation: WorkflowState["conversation"]): WorkflowState {
    return {
      runId: "run-1",
      ticket: {
        tracker: "linear",
        id: "issue-1",
        key: "ENG-42",
        title: "Checkout",
        url: "https://linear.app/acme/issue/ENG-42",
        description: "",
      },
      conversation,
      poll: { ...firstPoll(DEFAULT_POLL_SCHEDULE), status: "pending" },
    };
  }

  /**
   * A virtual clock: `sleep` records the wait asked for and moves the clock on at once, and each read of
   * QA.tech takes `readMs` of it. No test here depends on how fast the machine is.
   */
  function virtualClock(readMs = 0) {
    let slept = 0;
    const waits: number[] = [];
    const now = () => slept + readMs * qa.requests.filter((r) => r.method === "GET").length;
    const sleep = async (ms: number) => {
      waits.push(ms);
      slept += ms;
    };
    /** A Lambda context whose invocation ends `ms` from now, on this clock. */
    const endingIn = (ms: number) => {
      const deadline = now() + ms;
      return { getRemainingTimeInMillis: () => deadline - now() };
    };
    return { now, waits, endingIn, handler: createPollHandler({ sleep }) };
  }

  it("stops before an inline wait when the wait and a read after it would outlive the invocation", async () => {
    const client = await setUp({ plan: () => ({ status: "NEVER" }) });
    const state = stateFor(await client.startConversation("Create a test for ENG-42"));
    // 3 s of wait and a read of up to 10 s do not fit in 12 s.
    const clock = virtualClock();

    const out = await clock.handler(state, clock.endingIn(12_000));

    expect(clock.waits).toEqual([]);
    expect(clock.now()).toBe(0);
    expect(out.poll).toEqual({ n: 1, elapsedSeconds: 3, waitSeconds: 3, status: "pending" });
    expect(qa.requests.filter((r) => r.method === "GET")).toHaveLength(1);
  });

  it("with a slow QA.tech, reads only while a read still fits before the invocation ends", async () => {
    const client = await setUp({ plan: () => ({ status: "NEVER" }) });
    const state = stateFor(await client.startConversation("Create a test for ENG-42"));
    // Each read takes 1 s; its inline budget alone (60 s of waits) would take longer than the invocation has.
    const clock = virtualClock(1_000);
    const context = clock.endingIn(14_000);

    const out = await clock.handler(state, context);

    expect(out.poll?.status).toBe("pending");
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(1_000);
    expect(qa.requests.filter((r) => r.method === "GET").length).toBeGreaterThanOrEqual(1);
  });

  it("passes on a Retry-After that would outlive the invocation instead of waiting it out", async () => {
    const client = await setUp();
    const state = stateFor(await client.startConversation("Create a test for ENG-42"));
    qa.failNext({ method: "GET", fault: { status: 429, headers: { "retry-after": "8" } } });
    // A read, 8 s, and a second read do not fit in 25 s with a margin.
    const clock = virtualClock();

    const error = await clock.handler(state, clock.endingIn(25_000)).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(TransientError);
    expect((error as TransientError).retryAfterSeconds).toBe(8);
    expect(clock.waits).toEqual([]);
    expect(qa.requests.filter((r) => r.method === "GET")).toHaveLength(1);
  });

  it("waits out a short Retry-After inside the invocation when there is time for it", async () => {
    const client = await setUp({ plan: () => ({ pollsUntilFinal: 0 }) });
    const state = stateFor(await client.startConversation("Create a test for ENG-42"));
    qa.failNext({ method: "GET", fault: { status: 429, headers: { "retry-after": "1" } } });
    const clock = virtualClock();

    const out = await clock.handler(state, clock.endingIn(120_000));

    expect(clock.waits[0]).toBe(1_000);
    expect(out.poll?.status).toBe("final");
    expect(qa.requests.filter((r) => r.method === "GET").length).toBeGreaterThanOrEqual(2);
  });

  it("keeps the time its follow-up showed in the state, for later reads that no longer reach it", async () => {
    const client = await setUp({ plan: (m) => (m === "And on mobile?" ? { status: "NEVER" } : {}) });
    const { id } = await client.startConversation("Create a test for ENG-42");
    const sent = await client.sendMessage(id, "And on mobile?");

    const out = await virtualClock().handler(stateFor(sent));

    const followUp = qa.conversations()[0].messages.find((m) => m.text === "And on mobile?");
    expect(out.poll?.status).toBe("pending");
    expect(out.conversation).toEqual({ ...sent, seenAt: followUp?.createdAt });
  });
});
