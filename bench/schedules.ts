import { DEFAULT_POLL_SCHEDULE, waitBeforePoll } from "../functions/shared/domain/poll-schedule";

/** A poll schedule as the benchmark sees it: the wait (s) before poll n (n >= 1). */
export interface NamedSchedule {
  name: string;
  waitBeforePoll(n: number): number;
}

/** The three schedules compared: ours, QA.tech's suggested fixed 5 s, and QA.tech's GitHub Action's 20 s. */
export const SCHEDULES: NamedSchedule[] = [
  { name: "qa-ticket (adaptive)", waitBeforePoll: (n) => waitBeforePoll(n, DEFAULT_POLL_SCHEDULE) },
  { name: "fixed 5 s", waitBeforePoll: () => 5 },
  { name: "fixed 20 s", waitBeforePoll: () => 20 },
];

/** Reply times (s) the benchmark measures: 10 s, 30 s, 1 min, 3 min, 10 min, 30 min. */
export const REPLY_TIMES = [10, 30, 60, 180, 600, 1800];

export interface ScheduleOutcome {
  schedule: string;
  replySeconds: number;
  /** GETs of the conversation until the final reply is seen. */
  polls: number;
  /** Seconds from the reply turning final to the poll that sees it (the comment follows at once). */
  delaySeconds: number;
}

/**
 * Runs a schedule on a simulated clock against a reply that turns final just after `replySeconds`
 * (a poll at exactly that second still sees it pending: the worst case for every schedule alike).
 */
export function simulate(schedule: NamedSchedule, replySeconds: number): ScheduleOutcome {
  let t = 0;
  let n = 0;
  while (t <= replySeconds) {
    n++;
    t += schedule.waitBeforePoll(n);
  }
  return { schedule: schedule.name, replySeconds, polls: n, delaySeconds: t - replySeconds };
}

/** The delay target: at most max(3 s, 10% of the reply time). */
export function delayTarget(replySeconds: number): number {
  return Math.max(3, 0.1 * replySeconds);
}
