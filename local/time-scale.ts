import type { StateMachineDefinition } from "./definition";

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: string;
}

/**
 * Scales one execution's pauses by WAIT_SCALE. aws-local-stepfunctions reads its wait and retry overrides
 * each time a Wait or Retry happens, so setting them after each Task reproduces the deployed schedule,
 * backoff and jitter included, only faster.
 */
export function timeScaler(definition: StateMachineDefinition, scale: number) {
  const waitTimeOverrides: Record<string, number> = {};
  const retryIntervalOverrides: Record<string, number[]> = {};
  const attempts = new Map<string, number[]>();
  // The Wait states that wait the poll clock's next wait (WaitForReply, WaitForRuns), read off the definition.
  const pollWaits = Object.entries(definition.States)
    .filter(([, state]) => state.Type === "Wait" && state.SecondsPath === "$.poll.waitSeconds")
    .map(([name]) => name);
  return {
    overrides: scale === 1 ? {} : { waitTimeOverrides, retryIntervalOverrides },
    /** After a Task succeeded: its attempts start over, and the next Wait is the one its output asks for. */
    succeeded(stateName: string, output: unknown) {
      attempts.delete(stateName);
      const poll = (output as { poll?: { waitSeconds?: number } } | null)?.poll;
      if (typeof poll?.waitSeconds === "number")
        for (const name of pollWaits) waitTimeOverrides[name] = poll.waitSeconds * 1000 * scale;
    },
    /** After a Task failed: the pause before its retry, as the matching retrier computes it, scaled. */
    failed(stateName: string, error: unknown) {
      const retriers = (definition.States[stateName]?.Retry ?? []) as Retrier[];
      const name = error instanceof Error ? error.name : "Error";
      const i = retriers.findIndex(
        (r) => r.ErrorEquals.includes(name) || r.ErrorEquals.includes("States.ALL"),
      );
      if (i === -1) return;
      const counts = attempts.get(stateName) ?? retriers.map(() => 0);
      const r = retriers[i];
      const base = (r.IntervalSeconds ?? 1) * (r.BackoffRate ?? 2) ** counts[i];
      let seconds = Math.min(base, r.MaxDelaySeconds ?? Number.POSITIVE_INFINITY);
      if (r.JitterStrategy === "FULL") seconds *= Math.random();
      counts[i]++;
      attempts.set(stateName, counts);
      retryIntervalOverrides[stateName] = retriers.map((_, j) => (j === i ? seconds * 1000 * scale : -1));
    },
  };
}
