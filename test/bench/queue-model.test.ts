import { type StartPolicy, simulateStarts } from "../../bench/queue-model";

/** A burst labelled at once, as the review measured it: 8 s per start, the default bound of 4, a fixed seed. */
const burst = (tickets: number, policy: StartPolicy, transientFailureRate = 0) =>
  simulateStarts({ tickets, startSeconds: 8, bound: 4, policy, transientFailureRate, seed: 1 });

describe("starting conversations for a burst of tickets", () => {
  it("starts every one of 1,000 tickets through the queue, in about tickets x start time / bound", () => {
    const tickets = 1000;

    const outcome = burst(tickets, "queue");

    expect(outcome.started).toBe(tickets);
    expect(outcome.lost).toBe(0);
    expect(outcome.refused).toBe(0);
    expect(Math.abs(outcome.drainSeconds - (tickets * 8) / 4)).toBeLessThanOrEqual(0.03 * 2000);
  });

  it("lost a substantial share of 1,000 tickets and some of 500 with the throttled Lambda's retrier", () => {
    const thousand = burst(1000, "throttle-retry");
    const fiveHundred = burst(500, "throttle-retry");

    expect(thousand.lost).toBeGreaterThan(0.2 * 1000);
    expect(fiveHundred.lost).toBeGreaterThan(0);
    expect(thousand.started + thousand.lost).toBe(1000);
  });

  it("ends a ticket QA.tech keeps failing with a refusal, never a loss, and starts the others", () => {
    const outcome = burst(1000, "queue", 0.05);

    expect(outcome.lost).toBe(0);
    expect(outcome.started + outcome.refused).toBe(1000);
    expect(outcome.started).toBeGreaterThan(990);
  });

  it("gives the same results for the same seed", () => {
    const policies: StartPolicy[] = ["throttle-retry", "queue"];

    const first = policies.map((p) => burst(1000, p, 0.05));
    const second = policies.map((p) => burst(1000, p, 0.05));

    expect(second).toEqual(first);
  });
});
