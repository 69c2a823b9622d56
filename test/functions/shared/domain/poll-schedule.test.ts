import fc from "fast-check";
import {
  afterPoll,
  DEFAULT_POLL_SCHEDULE,
  elapsedBeforePoll,
  firstPoll,
  type PollSchedule,
  type PollState,
  waitBeforePoll,
} from "../../../../functions/shared/domain/poll-schedule";

/** Runs the loop the way the workflow does (firstPoll, then afterPoll after each poll) up to the deadline. */
function runLoop(s: PollSchedule): { waits: number[]; pollTimes: number[]; states: PollState[] } {
  const waits: number[] = [];
  const pollTimes: number[] = [];
  const states: PollState[] = [];
  let state: PollState | null = firstPoll(s);
  let clock = 0;
  while (state) {
    states.push(state);
    waits.push(state.waitSeconds);
    clock += state.waitSeconds;
    pollTimes.push(clock);
    state = afterPoll(state, s);
    if (states.length > 100_000) throw new Error("the poll loop never reaches its deadline");
  }
  return { waits, pollTimes, states };
}

/** Seconds between a reply becoming final at `t` and the first poll that sees it. */
function detectionDelay(pollTimes: number[], t: number): number {
  const seenAt = pollTimes.find((p) => p >= t);
  if (seenAt === undefined) throw new Error(`no poll at or after ${t} s`);
  return seenAt - t;
}

// Bounded so a loop stays a few hundred polls: the properties do not depend on the size.
const schedules = fc
  .record({
    minWaitSeconds: fc.integer({ min: 3, max: 30 }),
    fraction: fc.double({ min: 0, max: 1, noNaN: true }),
    extraMax: fc.integer({ min: 0, max: 300 }),
    replyTimeoutSeconds: fc.integer({ min: 10, max: 600 }),
  })
  .map(({ extraMax, ...s }) => ({ ...s, maxWaitSeconds: s.minWaitSeconds + extraMax }));

describe("poll schedule", () => {
  const s = DEFAULT_POLL_SCHEDULE;

  it("first looks for the reply about 3 s after starting the conversation", () => {
    expect(firstPoll(s)).toEqual({ n: 0, elapsedSeconds: 0, waitSeconds: 3 });
    expect(waitBeforePoll(1, s)).toBe(3);
  });

  it("never shortens the wait between polls, except the last one that lands on the deadline", () => {
    const { waits } = runLoop(s);

    const beforeLast = waits.slice(0, -1);
    beforeLast.forEach((wait, i) => {
      if (i > 0) expect(wait).toBeGreaterThanOrEqual(beforeLast[i - 1]);
    });
    expect(waits.at(-1)).toBeLessThanOrEqual(s.maxWaitSeconds);
  });

  it("stops growing the wait at the cap", () => {
    const { waits } = runLoop(s);

    expect(Math.max(...waits)).toBe(s.maxWaitSeconds);
  });

  it("waits whole seconds of at least 1, as Step Functions' Wait state requires", () => {
    fc.assert(
      fc.property(schedules, (schedule) => {
        const { waits } = runLoop(schedule);

        const bad = waits.filter((w) => !Number.isInteger(w) || w < 1 || w > schedule.maxWaitSeconds);
        expect(bad).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it("reaches the deadline exactly when the time waited reaches replyTimeoutSeconds", () => {
    fc.assert(
      fc.property(schedules, (schedule) => {
        const { states, pollTimes } = runLoop(schedule);

        const wrong = states.filter((state, i) => {
          const next = afterPoll(state, schedule);
          const waitedAfterThisPoll = pollTimes[i];
          return waitedAfterThisPoll >= schedule.replyTimeoutSeconds
            ? next !== null
            : next?.elapsedSeconds !== waitedAfterThisPoll;
        });
        expect(wrong).toEqual([]);
        // Only the very last poll finds the deadline reached.
        expect(pollTimes.slice(0, -1).every((p) => p < schedule.replyTimeoutSeconds)).toBe(true);
        // The last poll happens at the deadline itself, never after it.
        expect(pollTimes.at(-1)).toBe(schedule.replyTimeoutSeconds);
      }),
      { numRuns: 60 },
    );
  });

  it("gives up after an hour by default, in a number of polls that stays cheap", () => {
    const { pollTimes } = runLoop(s);

    expect(s.replyTimeoutSeconds).toBe(3600);
    expect(pollTimes.at(-1)).toBe(3600);
    // 3 state transitions per poll at $0.025 per 1,000: an hour of waiting stays well under a cent.
    expect(pollTimes.length).toBeLessThan(100);
  });

  it("is the same schedule however it is computed: the workflow's loop and the per-poll formulas agree", () => {
    fc.assert(
      fc.property(schedules, (schedule) => {
        const first = runLoop(schedule);
        const second = runLoop(schedule);

        expect(second).toEqual(first);
        expect(first.waits.map((_, i) => waitBeforePoll(i + 1, schedule))).toEqual(first.waits);
        expect(first.waits.map((_, i) => elapsedBeforePoll(i + 1, schedule))).toEqual(first.pollTimes);
      }),
      { numRuns: 40 },
    );
  });

  it("sees a final reply at most max(3 s, 10% of the reply time) after it arrives, from 1 s to an hour", () => {
    const { pollTimes } = runLoop(s);

    const late: number[] = [];
    for (let t = 1; t <= 3600; t++) {
      if (detectionDelay(pollTimes, t) > Math.max(3, 0.1 * t)) late.push(t);
    }
    expect(late).toEqual([]);
    fc.assert(
      fc.property(fc.double({ min: 1, max: 3600, noNaN: true }), (t) => {
        expect(detectionDelay(pollTimes, t)).toBeLessThanOrEqual(Math.max(3, 0.1 * t));
      }),
    );
  });

  it("keeps the detection delay within max(minimum wait, fraction of the reply time) for any schedule", () => {
    fc.assert(
      fc.property(schedules, fc.double({ min: 0, max: 1, noNaN: true }), (schedule, at) => {
        const { pollTimes } = runLoop(schedule);
        const t = Math.max(1, at * schedule.replyTimeoutSeconds);

        const bound = Math.max(schedule.minWaitSeconds, schedule.fraction * t);
        expect(detectionDelay(pollTimes, t)).toBeLessThanOrEqual(bound);
      }),
      { numRuns: 100 },
    );
  });
});
