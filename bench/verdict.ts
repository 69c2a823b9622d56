// The verdict's run wait on the poll clock: after the final reply, ReadRuns reads the runs the reply links
// at the poll that saw the reply, then on the same schedule (functions/read-runs: the first read follows the
// reply's read at once). Given when a run finishes, this says how many reads still see it running: the
// QA.tech simulator's `readsUntilFinal`, so the run ends where the benchmark wants it on any machine.
import { elapsedBeforePoll, type PollSchedule } from "../functions/shared/domain/poll-schedule";

/** Reply times (s) the verdict measurement uses: 1, 3 and 10 minutes. */
export const VERDICT_REPLY_TIMES = [60, 180, 600];
/** How long the test run the reply links takes after the reply: 5 minutes. */
export const RUN_SECONDS = 300;

/** Where a reply and the run it links land on the poll clock. */
export interface RunWait {
  /** Conversation reads until the reply is seen final (a read at exactly `replySeconds` still sees it pending). */
  replyPolls: number;
  /** Schedule time (s) of the read that sees the reply: the first run read happens then too. */
  replySeenSeconds: number;
  /** Run reads that still see the run running: the simulator's `readsUntilFinal`. */
  readsUntilFinal: number;
  /** Run reads in all, the final one included. */
  runReads: number;
  /** Schedule time (s) of the read that sees the run final: the verdict comment follows at once. */
  runSeenSeconds: number;
  /** Seconds from the run finishing to the read that sees it. */
  delaySeconds: number;
  /** False when the ticket's deadline comes first (the verdict is then "could not verify"). */
  withinDeadline: boolean;
}

/**
 * A reply final just after `replySeconds` linking a run that finishes `runSeconds` later: run read k (k >= 1)
 * happens at elapsedBeforePoll(replyPolls + k - 1), and a read at exactly the run's end still sees it running.
 */
export function runWait(replySeconds: number, runSeconds: number, schedule: PollSchedule): RunWait {
  let replyPolls = 1;
  while (elapsedBeforePoll(replyPolls, schedule) <= replySeconds) replyPolls++;
  const runEnds = replySeconds + runSeconds;
  let readsUntilFinal = 0;
  while (elapsedBeforePoll(replyPolls + readsUntilFinal, schedule) <= runEnds) readsUntilFinal++;
  const runSeenSeconds = elapsedBeforePoll(replyPolls + readsUntilFinal, schedule);
  return {
    replyPolls,
    replySeenSeconds: elapsedBeforePoll(replyPolls, schedule),
    readsUntilFinal,
    runReads: readsUntilFinal + 1,
    runSeenSeconds,
    delaySeconds: runSeenSeconds - runEnds,
    withinDeadline: runSeenSeconds < schedule.replyTimeoutSeconds,
  };
}
