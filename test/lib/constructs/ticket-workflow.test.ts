import { TRACKER_RETRY } from "../../../lib/constructs/ticket-workflow";
import { renderWorkflowDefinition } from "../../../local/definition";

type Retrier = {
  ErrorEquals: string[];
  IntervalSeconds: number;
  BackoffRate: number;
  MaxDelaySeconds: number;
  MaxAttempts: number;
  JitterStrategy?: string;
};

const definition = renderWorkflowDefinition(3600);
const COMMENT_TASKS = ["PostAcknowledgement", "PostReply", "PostAnswer", "PostFailure", "ResolveThread"];

/** The waits before each retry, at their maximum (full jitter waits a uniform time up to each). */
function maxWaits(r: Retrier): number[] {
  return Array.from({ length: r.MaxAttempts }, (_, k) =>
    Math.min(r.IntervalSeconds * r.BackoffRate ** k, r.MaxDelaySeconds),
  );
}

function trackerRetrier(state: string): Retrier {
  const retriers = (definition.States[state].Retry ?? []) as Retrier[];
  const found = retriers.find((r) => r.ErrorEquals.includes("TransientError"));
  if (!found) throw new Error(`${state} does not retry TransientError`);
  return found;
}

describe("the workflow's retries of the trackers", () => {
  it.each(COMMENT_TASKS)(
    "%s retries transient tracker errors with capped backoff and full jitter",
    (state) => {
      expect(trackerRetrier(state)).toEqual({
        ErrorEquals: ["TransientError"],
        IntervalSeconds: TRACKER_RETRY.intervalSeconds,
        BackoffRate: TRACKER_RETRY.backoffRate,
        MaxDelaySeconds: TRACKER_RETRY.maxDelaySeconds,
        MaxAttempts: TRACKER_RETRY.maxAttempts,
        JitterStrategy: "FULL",
      });
    },
  );

  it("outlasts a one-hour outage: about 4 hours on average, and under an hour with probability below 1e-11", () => {
    const waits = maxWaits(trackerRetrier("PostReply"));
    const max = waits.reduce((a, b) => a + b, 0);
    const mean = max / 2;
    // Hoeffding: the sum of independent waits, each uniform in [0, d], falls t below its mean with
    // probability at most exp(-2 t^2 / sum d^2).
    const t = mean - 3600;
    const bound = Math.exp((-2 * t * t) / waits.reduce((a, d) => a + d * d, 0));

    expect(mean).toBeGreaterThan(3.5 * 3600);
    expect(max).toBeLessThanOrEqual(8 * 3600);
    expect(bound).toBeLessThan(1e-11);
  });

  it("names the kind of each comment in the definition, so a failure comment is never taken for another", () => {
    const kinds = Object.fromEntries(
      ["PostAcknowledgement", "PostReply", "PostAnswer", "PostFailure"].map((state) => [
        state,
        (definition.States[state].Parameters as { kind?: string }).kind,
      ]),
    );

    expect(kinds).toEqual({
      PostAcknowledgement: "ack",
      PostReply: "reply",
      PostAnswer: "answer",
      PostFailure: "failure",
    });
  });

  it.each(["PollConversation", ...COMMENT_TASKS])(
    "%s retries a Lambda that ran out of time (Sandbox.Timedout, States.Timeout) before any Catch",
    (state) => {
      const errors = ((definition.States[state].Retry ?? []) as Retrier[]).flatMap((r) => r.ErrorEquals);

      expect(errors).toEqual(expect.arrayContaining(["Sandbox.Timedout", "States.Timeout"]));
    },
  );

  it("outlives the queue, the reply deadline and the comments' retries before it times out", () => {
    const days = (definition.TimeoutSeconds ?? 0) / 86_400;

    expect(days).toBeGreaterThanOrEqual(4 + 1 / 24 + 2 * (8 / 24));
  });
});
