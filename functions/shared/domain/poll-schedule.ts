/**
 * When to look for the assistant's reply. The wait before poll n depends only on n and the schedule, so
 * the same schedule runs in Step Functions, on the local runner at any WAIT_SCALE, and in the benchmark.
 *
 * Shape: `minWaitSeconds` between polls at first; once the conversation is older, each wait is
 * `fraction` of the time already waited (the reply is then at most that fraction late), up to
 * `maxWaitSeconds`. Waits are whole seconds because Step Functions' Wait takes whole seconds.
 */
export interface PollSchedule {
  /** First and shortest wait. Default 3 s. */
  minWaitSeconds: number;
  /** Each later wait as a fraction of the time waited so far. Default 0.1. */
  fraction: number;
  /** Longest wait. Default 120 s. */
  maxWaitSeconds: number;
  /** Time after which we stop waiting and say so on the ticket. Default 3600 s. */
  replyTimeoutSeconds: number;
}

export const DEFAULT_POLL_SCHEDULE: PollSchedule = {
  minWaitSeconds: 3,
  fraction: 0.1,
  maxWaitSeconds: 120,
  replyTimeoutSeconds: 3600,
};

/** The wait (s) before the next poll, given the total already waited. */
function nextWait(elapsedSeconds: number, s: PollSchedule): number {
  const wanted = Math.floor(elapsedSeconds * s.fraction);
  const wait = Math.min(s.maxWaitSeconds, Math.max(s.minWaitSeconds, wanted));
  return Math.max(1, Math.min(wait, s.replyTimeoutSeconds - elapsedSeconds));
}

/** Seconds waited in total before poll n (n >= 1): the workflow's clock. */
export function elapsedBeforePoll(n: number, s: PollSchedule): number {
  let elapsed = 0;
  for (let i = 1; i <= n; i++) elapsed += nextWait(elapsed, s);
  return elapsed;
}

/** The wait (s) before poll n (n >= 1). */
export function waitBeforePoll(n: number, s: PollSchedule): number {
  return nextWait(elapsedBeforePoll(n - 1, s), s);
}

/** The poll state carried through the workflow between Wait and Poll. */
export interface PollState {
  /** Polls done so far. */
  n: number;
  /** Seconds waited so far (sum of the waits before polls 1..n). */
  elapsedSeconds: number;
  /** Seconds the Wait state waits before the next poll. */
  waitSeconds: number;
}

/** The poll state before the first poll. */
export function firstPoll(s: PollSchedule): PollState {
  return { n: 0, elapsedSeconds: 0, waitSeconds: waitBeforePoll(1, s) };
}

/** The poll state after a poll that did not find a final reply; `null` once the deadline is reached. */
export function afterPoll(state: PollState, s: PollSchedule): PollState | null {
  const n = state.n + 1;
  const elapsedSeconds = elapsedBeforePoll(n, s);
  if (elapsedSeconds >= s.replyTimeoutSeconds) return null;
  return { n, elapsedSeconds, waitSeconds: waitBeforePoll(n + 1, s) };
}
