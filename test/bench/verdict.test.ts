import { SCHEDULES, simulate } from "../../bench/schedules";
import { RUN_SECONDS, runWait, VERDICT_REPLY_TIMES } from "../../bench/verdict";
import {
  afterPoll,
  DEFAULT_POLL_SCHEDULE,
  elapsedBeforePoll,
  type PollState,
} from "../../functions/shared/domain/poll-schedule";

const schedule = DEFAULT_POLL_SCHEDULE;

/** The times of ReadRuns' reads as functions/read-runs keeps its clock: the first at the reply's read. */
function readRunsTimes(replyPolls: number, reads: number): number[] {
  const times = [elapsedBeforePoll(replyPolls, schedule)];
  let state = afterPoll({ n: replyPolls - 1, elapsedSeconds: 0, waitSeconds: 0 }, schedule) as PollState;
  while (times.length < reads) {
    times.push(state.elapsedSeconds + state.waitSeconds);
    state = afterPoll(state, schedule) as PollState;
  }
  return times;
}

describe("the run wait on the poll clock (bench/verdict.ts)", () => {
  it("sees the reply at the poll the schedule benchmark finds for it", () => {
    for (const reply of VERDICT_REPLY_TIMES)
      expect(runWait(reply, RUN_SECONDS, schedule).replyPolls).toBe(simulate(SCHEDULES[0], reply).polls);
  });

  it("keeps the run running for every read up to its end, and final at the first read after it", () => {
    for (const reply of VERDICT_REPLY_TIMES) {
      const wait = runWait(reply, RUN_SECONDS, schedule);
      const times = readRunsTimes(wait.replyPolls, wait.runReads);
      const ends = reply + RUN_SECONDS;

      expect(times.slice(0, wait.readsUntilFinal).every((t) => t <= ends)).toBe(true);
      expect(times[wait.readsUntilFinal]).toBeGreaterThan(ends);
      expect(wait.runSeenSeconds).toBe(times[wait.readsUntilFinal]);
      expect(wait.delaySeconds).toBe(wait.runSeenSeconds - ends);
      expect(wait.runReads).toBe(wait.readsUntilFinal + 1);
      expect(wait.withinDeadline).toBe(true);
    }
  });

  it("gives the numbers the benchmark measured: a 1-minute reply's 5-minute run is read 20 times", () => {
    expect(runWait(60, 300, schedule)).toEqual({
      replyPolls: 19,
      replySeenSeconds: 66,
      readsUntilFinal: 19,
      runReads: 20,
      runSeenSeconds: 377,
      delaySeconds: 17,
      withinDeadline: true,
    });
    expect(runWait(600, 300, schedule)).toMatchObject({ readsUntilFinal: 5, runSeenSeconds: 972 });
  });

  it("finds a run already over at the reply's read final at the first read", () => {
    expect(runWait(180, 0, schedule)).toMatchObject({ readsUntilFinal: 0, runReads: 1, runSeenSeconds: 196 });
  });

  it("says when the ticket's deadline comes before the run is seen", () => {
    expect(runWait(3300, 300, schedule).withinDeadline).toBe(false);
    expect(runWait(3300, 300, { ...schedule, replyTimeoutSeconds: 7200 }).withinDeadline).toBe(true);
  });
});
