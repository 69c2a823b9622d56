import type { SQSEvent } from "aws-lambda";
import type { WorkflowState } from "../../../functions/shared/domain/workflow-state";
import {
  createStartConsumer,
  type StartRequest,
  type TaskResults,
} from "../../../functions/start-conversation";
import { type FakeQaTech, startFakeQaTech } from "../../../simulators/qatech";
import { settingsEnv } from "../../support/settings";

const KEY = "qa-test-key";

/**
 * docs/architecture.md: QA.tech's Retry-After on a start sends the request back to the queue with that delay (up to 15
 * minutes, SQS's limit, and 10 times), so no slot is held meanwhile; then the error goes to the workflow.
 */
/** A labelled Linear ticket's state as the start queue receives it. */
function ticketState(runId: string): WorkflowState {
  return {
    runId,
    ticket: {
      tracker: "linear",
      id: "issue-1",
      key: "ENG-42",
      title: "Checkout",
      url: "https://linear.app/acme/issue/ENG-42",
      description: "",
    },
  };
}

describe("the start queue's consumer, when QA.tech answers 429 with Retry-After", () => {
  let qa: FakeQaTech;
  const saved = { ...process.env };
  afterEach(async () => {
    process.env = { ...saved };
    await qa?.close();
  });

  const state = ticketState("run-1");

  /** What the consumer did with one request: postponed (and by how long), succeeded or failed. */
  async function consume(request: StartRequest) {
    const outcome: {
      postponed?: { request: StartRequest; delaySeconds: number };
      failed?: string;
      ok?: boolean;
    } = {};
    const results: TaskResults = {
      succeed: async () => {
        outcome.ok = true;
      },
      fail: async (_token, error) => {
        outcome.failed = error;
      },
      heartbeat: async () => {},
      postpone: async (next, delaySeconds) => {
        outcome.postponed = { request: next, delaySeconds };
      },
    };
    const event = { Records: [{ messageId: "m-1", body: JSON.stringify(request) }] } as unknown as SQSEvent;
    await createStartConsumer(results, process.env)(event);
    return outcome;
  }

  async function refusingFor(retryAfter: string) {
    qa = await startFakeQaTech({ apiKey: KEY });
    Object.assign(process.env, { QATECH_API_KEY: KEY }, settingsEnv({ qatech: { apiUrl: qa.url } }));
    delete process.env.QATECH_API_KEY_SECRET_ARN;
    qa.failNext({
      method: "POST",
      path: "/v1/chat",
      fault: { status: 429, headers: { "retry-after": retryAfter } },
    });
  }

  it("puts the request back in the queue for at most 15 minutes, counting the postponement", async () => {
    await refusingFor("3600");

    const outcome = await consume({ taskToken: "token-1", kind: "start", state });

    expect(outcome.postponed?.delaySeconds).toBe(900);
    expect(outcome.postponed?.request).toEqual({ taskToken: "token-1", kind: "start", state, postponed: 1 });
    expect(outcome.ok ?? outcome.failed).toBeUndefined();
    expect(qa.conversations()).toEqual([]);
  });

  it("after 10 postponements hands the error to the workflow instead of postponing again", async () => {
    await refusingFor("120");

    const outcome = await consume({ taskToken: "token-1", kind: "start", state, postponed: 10 });

    expect(outcome.postponed).toBeUndefined();
    expect(outcome.failed).toBe("TransientError");
  });
});

/**
 * docs/architecture.md: the consumer confirms with SendTaskHeartbeat that the execution still waits before it calls QA.tech,
 * and retries SendTaskSuccess before letting SQS deliver the message again (QA.tech's POSTs are not
 * idempotent: a second delivery would open a second conversation).
 */
describe("the start queue's consumer and Step Functions' answers", () => {
  let qa: FakeQaTech;
  const saved = { ...process.env };
  beforeEach(async () => {
    qa = await startFakeQaTech({ apiKey: KEY });
    Object.assign(process.env, { QATECH_API_KEY: KEY }, settingsEnv({ qatech: { apiUrl: qa.url } }));
    delete process.env.QATECH_API_KEY_SECRET_ARN;
  });
  afterEach(async () => {
    process.env = { ...saved };
    await qa.close();
  });

  const state = ticketState("run-2");
  const named = (name: string) => Object.assign(new Error(name), { name });

  /** Delivers the request as SQS does: again (at most 3 times in all) while the consumer throws. */
  async function deliver(results: TaskResults): Promise<number> {
    const body = JSON.stringify({ taskToken: "token-2", kind: "start", state });
    const event = { Records: [{ messageId: "m-2", body }] } as unknown as SQSEvent;
    for (let delivery = 1; ; delivery++) {
      try {
        await createStartConsumer(results, process.env)(event);
        return delivery;
      } catch (error) {
        if (delivery === 3) throw error;
      }
    }
  }

  it("drops the request without calling QA.tech when the execution no longer waits (stopped or timed out)", async () => {
    for (const gone of ["TaskTimedOut", "TaskDoesNotExist", "InvalidToken"]) {
      const reported: string[] = [];
      const results: TaskResults = {
        heartbeat: async () => {
          throw named(gone);
        },
        succeed: async () => void reported.push("success"),
        fail: async () => void reported.push("failure"),
        postpone: async () => void reported.push("postponed"),
      };

      expect(await deliver(results)).toBe(1);
      expect(reported).toEqual([]);
    }
    expect(qa.requests.filter((r) => r.method === "POST")).toEqual([]);
  });

  it("retries a SendTaskSuccess that fails, so one conversation is opened, not two", async () => {
    let successes = 0;
    let attempts = 0;
    const results: TaskResults = {
      heartbeat: async () => {},
      succeed: async () => {
        attempts++;
        if (attempts === 1) throw named("ServiceUnavailable");
        successes++;
      },
      fail: async () => {},
      postpone: async () => {},
    };

    expect(await deliver(results)).toBe(1);
    expect(attempts).toBe(2);
    expect(successes).toBe(1);
    expect(qa.conversations()).toHaveLength(1);
  });

  it("does not retry a report the execution can no longer take (TaskTimedOut): the message is done", async () => {
    let attempts = 0;
    const results: TaskResults = {
      heartbeat: async () => {},
      succeed: async () => {
        attempts++;
        throw named("TaskTimedOut");
      },
      fail: async () => {},
      postpone: async () => {},
    };

    expect(await deliver(results)).toBe(1);
    expect(attempts).toBe(1);
  });
});
