import { jsonBytes } from "../../../../functions/shared/domain/limits";
import {
  afterPoll,
  DEFAULT_POLL_SCHEDULE,
  firstPoll,
} from "../../../../functions/shared/domain/poll-schedule";
import {
  HEARTBEAT_SECONDS,
  HEARTBEAT_TEXT,
  nextProgress,
  PROGRESS_MAX_BYTES,
  PROGRESS_MAX_PER_RUN,
  PROGRESS_MIN_INTERVAL_SECONDS,
  type ProgressState,
} from "../../../../functions/shared/domain/progress";

describe("progress updates while QA.tech works", () => {
  it("shows the first partial text at once", () => {
    expect(nextProgress(undefined, "Opening the shop", 6)).toMatchObject({
      sent: 1,
      atSeconds: 6,
      text: "Opening the shop",
    });
  });

  it("shows nothing for no text, or for the same text again", () => {
    const first = nextProgress(undefined, "Opening the shop", 6) as ProgressState;

    expect(nextProgress(undefined, "  ", 6)).toBeNull();
    expect(nextProgress(first, "Opening the shop", 6 + PROGRESS_MIN_INTERVAL_SECONDS)).toBeNull();
  });

  it("waits PROGRESS_MIN_INTERVAL_SECONDS of the run's clock between two updates", () => {
    const first = nextProgress(undefined, "Opening the shop", 6) as ProgressState;

    expect(
      nextProgress(first, "Opening the shop, cart empty", 6 + PROGRESS_MIN_INTERVAL_SECONDS - 1),
    ).toBeNull();
    expect(
      nextProgress(first, "Opening the shop, cart empty", 6 + PROGRESS_MIN_INTERVAL_SECONDS),
    ).toMatchObject({
      sent: 2,
    });
  });

  it("sends at most PROGRESS_MAX_PER_RUN updates in a run", () => {
    let state: ProgressState | null | undefined;
    let sent = 0;
    for (let i = 0; i < 3 * PROGRESS_MAX_PER_RUN; i++) {
      const next = nextProgress(state ?? undefined, `step ${i}`, i * PROGRESS_MIN_INTERVAL_SECONDS);
      if (next) {
        state = next;
        sent++;
      }
    }
    expect(sent).toBe(PROGRESS_MAX_PER_RUN);
  });

  it("keeps the end of a long text, within its bytes, marked as cut", () => {
    const long = `${"a".repeat(10_000)}NOW`;

    const update = nextProgress(undefined, long, 3) as ProgressState;

    expect(update.text.endsWith("NOW")).toBe(true);
    expect(update.text.startsWith("…")).toBe(true);
    expect(jsonBytes(update.text)).toBeLessThanOrEqual(PROGRESS_MAX_BYTES + 2);
  });

  /** The poll clock times at which a run posts a thought, for a QA.tech that writes `partial(elapsed)`. */
  function thoughtTimes(schedule: typeof DEFAULT_POLL_SCHEDULE, partial: (elapsed: number) => string) {
    const times = [0]; // the first thought, as the session opened
    let progress: ProgressState | undefined;
    let poll = firstPoll(schedule);
    for (;;) {
      const next = afterPoll(poll, schedule);
      if (!next) break;
      const update = nextProgress(
        progress,
        partial(next.elapsedSeconds),
        next.elapsedSeconds,
        next.waitSeconds,
      );
      if (update) {
        progress = update;
        times.push(next.elapsedSeconds);
      }
      poll = next;
    }
    return { times, end: poll.elapsedSeconds + poll.waitSeconds, last: progress };
  }

  it("posts a thought at least every 25 minutes of a long run, even with nothing new to show", () => {
    const schedule = { ...DEFAULT_POLL_SCHEDULE, replyTimeoutSeconds: 3 * 3600 };
    for (const partial of [() => "", () => "Opening the shop", (e: number) => `step ${Math.floor(e / 7)}`]) {
      const { times, end } = thoughtTimes(schedule, partial);
      const gaps = [...times.slice(1), end].map((t, i) => t - times[i]);
      expect(Math.max(...gaps)).toBeLessThan(HEARTBEAT_SECONDS);
      expect(Math.max(...gaps)).toBeGreaterThan(HEARTBEAT_SECONDS - 2 * schedule.maxWaitSeconds);
    }
  });

  it("a heartbeat while QA.tech has written nothing says it is still testing", () => {
    const { last } = thoughtTimes({ ...DEFAULT_POLL_SCHEDULE, replyTimeoutSeconds: 3 * 3600 }, () => "");
    expect(last?.text).toBe(HEARTBEAT_TEXT);
    expect(last?.sent).toBeGreaterThanOrEqual(6);
  });
});
