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
const COMMENT_TASKS = [
  "PostAcknowledgement",
  "PostReply",
  "PostAnswer",
  "PostFailure",
  "ResolveThread",
  "PostRerunStarted",
  "PostRunsProgress",
];

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

  it.each(["PollConversation", "ReadRuns", "StartRerun", ...COMMENT_TASKS])(
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

type Choice = { Choices: Array<Record<string, unknown> & { Next: string }>; Default?: string };

describe("the verdict's states", () => {
  const state = (name: string) => definition.States[name] as Record<string, unknown>;
  const choice = (name: string) => definition.States[name] as unknown as Choice;

  it("reads the runs after a final reply, and waits for them on the poll clock until they are final", () => {
    const final = choice("IsReplyFinal").Choices.find((c) => c.StringEquals === "final");
    expect(final?.Next).toBe("ReadRuns");
    expect(state("ReadRuns").Next).toBe("AreRunsFinal");
    const waiting = choice("AreRunsFinal").Choices.filter((c) => JSON.stringify(c).includes('"waiting"'));
    expect(waiting.map((c) => c.Next).sort()).toEqual(["PostRunsProgress", "WaitForRuns"]);
    expect(choice("AreRunsFinal").Default).toBe("PostReply");
    expect(state("WaitForRuns")).toMatchObject({ SecondsPath: "$.poll.waitSeconds", Next: "ReadRuns" });
    expect(state("PostRunsProgress").Next).toBe("WaitForRuns");
  });

  it("posts the reply with 'could not verify' when the runs cannot be read, never the failure comment", () => {
    const catchers = (state("ReadRuns").Catch ?? []) as Array<{
      ErrorEquals: string[];
      Next: string;
      ResultPath: string;
    }>;
    expect(catchers).toEqual([{ ErrorEquals: ["States.ALL"], Next: "PostReply", ResultPath: "$.runsError" }]);
  });

  it("tells read-runs which step it runs: ReadRuns reads, StartRerun reruns", () => {
    const step = (name: string) => (state(name).Parameters as { step: string }).step;
    expect([step("ReadRuns"), step("StartRerun")]).toEqual(["read", "rerun"]);
  });

  it("answers a refused request (`retry on` a URL the allowlist refuses) in the thread, starting nothing", () => {
    const refused = choice("WhatWasAsked").Choices.find((c) => JSON.stringify(c).includes('"refused"'));
    expect(refused?.Next).toBe("PostAnswer");
  });

  it("takes `rerun` to StartRerun, then to the runs loop once a rerun started, else to the answer", () => {
    const rerun = choice("WhatWasAsked").Choices.find((c) => c.StringEquals === "rerun");
    expect(rerun?.Next).toBe("StartRerun");
    expect(state("StartRerun").Next).toBe("IsRerunStarted");
    expect(choice("IsRerunStarted").Choices).toEqual([
      { Variable: "$.runs.status", StringEquals: "waiting", Next: "PostRerunStarted" },
    ]);
    expect(choice("IsRerunStarted").Default).toBe("PostAnswer");
    expect(state("PostRerunStarted").Next).toBe("WaitForRuns");
  });
});
