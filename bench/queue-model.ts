// Why the start of a conversation moved from a throttled Lambda to a queue: both are simulated on a seeded,
// simulated clock for a burst of tickets labelled at the same instant, so the comparison is repeatable and
// runs in well under a second. `npx tsx bench/queue-model.ts` prints the comparison on its own.
import { QATECH_RETRY } from "../lib/constructs/ticket-workflow";

/** How a start that finds the bound reached is handled. */
export type StartPolicy = "throttle-retry" | "queue";

export interface StartsScenario {
  tickets: number;
  /** Seconds one start of a conversation keeps its slot (or consumer) busy, failed or not. */
  startSeconds: number;
  /** Conversations started at once: qatech.maxConcurrency. */
  bound: number;
  policy: StartPolicy;
  /** Share of starts QA.tech answers with a transient error (503); default 0. */
  transientFailureRate?: number;
  seed?: number;
}

export interface StartsOutcome {
  /** Tickets whose conversation was started. */
  started: number;
  /** Tickets that ended without a conversation because of our own bound (the throttle retrier ran out). */
  lost: number;
  /** Tickets that ended with a failure comment because QA.tech kept failing (the transient retrier ran out). */
  refused: number;
  /** When the last start (successful or finally refused) completed; 0 if none did. */
  drainSeconds: number;
  /** From labelling to the beginning of the start that succeeded, over the started tickets. */
  p50WaitSeconds: number;
  maxWaitSeconds: number;
}

interface Retrier {
  intervalSeconds: number;
  backoffRate: number;
  maxAttempts: number;
  maxDelaySeconds: number;
}

/** The retrier on Lambda.TooManyRequestsException that bounded starts before the start queue (commit 8709e9e). */
export const THROTTLE_RETRIER: Retrier = {
  intervalSeconds: 2,
  backoffRate: 1.5,
  maxAttempts: 40,
  maxDelaySeconds: 60,
};
/** The queued start's retrier on TransientError, as lib/constructs/ticket-workflow.ts deploys it. */
export const TRANSIENT_RETRIER: Retrier = QATECH_RETRY;

/** Step Functions' FULL jitter: uniform in [0, min(interval * rate^k, max delay)] before retry k (from 0). */
function jitteredWait(r: Retrier, k: number, random: () => number): number {
  return random() * Math.min(r.intervalSeconds * r.backoffRate ** k, r.maxDelaySeconds);
}

/** mulberry32: small and fast, and enough for jitter; the same seed gives the same run on any machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `done` sorts before `arrive` at the same instant: a slot freed at t is free for an attempt at t. */
const DONE = 0;
const ARRIVE = 1;
interface SimEvent {
  at: number;
  kind: typeof DONE | typeof ARRIVE;
  seq: number;
  ticket: number;
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.at !== b.at ? a.at < b.at : a.kind !== b.kind ? a.kind < b.kind : a.seq < b.seq;
}

/** A binary min-heap: 10,000 tickets of 41 attempts each are far too many events for a sorted array. */
class EventQueue {
  private readonly heap: SimEvent[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(at: number, kind: SimEvent["kind"], ticket: number): void {
    const h = this.heap;
    h.push({ at, kind, ticket, seq: this.seq++ });
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  pop(): SimEvent {
    const h = this.heap;
    const top = h[0];
    const last = h.pop() as SimEvent;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

/**
 * Simulates N tickets labelled at 0 s starting their conversations under a bound of B at once.
 * `throttle-retry`: an attempt over the bound is refused at once and retried after the throttle retrier's
 * wait; after its last retry the ticket is lost. `queue`: starts wait in a FIFO queue served by B consumers.
 * In both, a start that fails transiently holds its slot for the whole start, then is retried after the
 * transient retrier's wait (in the queue: at the back of it); after its last retry the ticket is refused.
 * SQS polling and callback latency (well under a second) are left out.
 */
export function simulateStarts(scenario: StartsScenario): StartsOutcome {
  const { tickets, startSeconds, bound, policy, transientFailureRate = 0, seed = 1 } = scenario;
  const random = prng(seed);
  const events = new EventQueue();
  const throttles = new Array<number>(tickets).fill(0);
  const transients = new Array<number>(tickets).fill(0);
  const startedAt = new Array<number>(tickets).fill(0);
  const waits: number[] = [];
  const fifo: number[] = [];
  let head = 0;
  let busy = 0;
  let lost = 0;
  let refused = 0;
  let drainSeconds = 0;

  const begin = (ticket: number, now: number) => {
    busy++;
    startedAt[ticket] = now;
    events.push(now + startSeconds, DONE, ticket);
  };
  const serveQueue = (now: number) => {
    while (busy < bound && head < fifo.length) begin(fifo[head++], now);
  };

  for (let ticket = 0; ticket < tickets; ticket++) {
    if (policy === "queue") fifo.push(ticket);
    else events.push(0, ARRIVE, ticket);
  }
  if (policy === "queue") serveQueue(0);

  while (events.size > 0) {
    const { at: now, kind, ticket } = events.pop();
    if (kind === DONE) {
      busy--;
      if (transientFailureRate > 0 && random() < transientFailureRate) {
        const k = transients[ticket]++;
        if (k >= TRANSIENT_RETRIER.maxAttempts) {
          refused++;
          drainSeconds = now;
        } else {
          events.push(now + jitteredWait(TRANSIENT_RETRIER, k, random), ARRIVE, ticket);
        }
      } else {
        waits.push(startedAt[ticket]);
        drainSeconds = now;
      }
      if (policy === "queue") serveQueue(now);
    } else if (policy === "queue") {
      fifo.push(ticket);
      serveQueue(now);
    } else if (busy < bound) {
      begin(ticket, now);
    } else {
      const k = throttles[ticket]++;
      if (k >= THROTTLE_RETRIER.maxAttempts) lost++;
      else events.push(now + jitteredWait(THROTTLE_RETRIER, k, random), ARRIVE, ticket);
    }
  }

  waits.sort((a, b) => a - b);
  return {
    started: waits.length,
    lost,
    refused,
    drainSeconds,
    p50WaitSeconds: waits.length > 0 ? waits[Math.ceil(waits.length / 2) - 1] : 0,
    maxWaitSeconds: waits.at(-1) ?? 0,
  };
}

/** Seed of the benchmark's scenarios, fixed so the published numbers can be reproduced. */
export const QUEUE_MODEL_SEED = 1;

/** The scenarios bench/run.ts reports: a burst of tickets at 8 s per start and the default bound of 4. */
export const QUEUE_MODEL_SCENARIOS: StartsScenario[] = [
  ...[100, 500, 1000].flatMap((tickets) =>
    (["throttle-retry", "queue"] as const).map((policy) => ({ tickets, policy })),
  ),
  { tickets: 10_000, policy: "queue" as const },
  { tickets: 1000, policy: "queue" as const, transientFailureRate: 0.05 },
].map((s) => ({ ...s, startSeconds: 8, bound: 4, seed: QUEUE_MODEL_SEED }));

/** Runs QUEUE_MODEL_SCENARIOS. */
export function runQueueModel(): Array<StartsScenario & StartsOutcome> {
  return QUEUE_MODEL_SCENARIOS.map((s) => ({ ...s, ...simulateStarts(s) }));
}

/** Title, column headers and cells for the report's table. */
export function queueModelTable(rows: Array<StartsScenario & StartsOutcome>) {
  const pct = (n: number, of: number) => `${n} (${((100 * n) / of).toFixed(1)}%)`;
  const { startSeconds, bound } = rows[0];
  return {
    title: `Starting conversations for a burst of tickets (simulated clock): ${startSeconds} s per start, bound ${bound}`,
    headers: ["tickets", "policy", "503 rate", "started", "lost", "refused", "drain", "wait p50", "wait max"],
    cells: rows.map((r) => [
      r.tickets.toLocaleString("en-US"),
      r.policy,
      `${(100 * (r.transientFailureRate ?? 0)).toFixed(0)}%`,
      r.started,
      pct(r.lost, r.tickets),
      r.refused,
      `${r.drainSeconds.toFixed(0)} s`,
      `${r.p50WaitSeconds.toFixed(0)} s`,
      `${r.maxWaitSeconds.toFixed(0)} s`,
    ]),
  };
}

if (require.main === module) {
  const { title, headers, cells } = queueModelTable(runQueueModel());
  // A plain rendering: bench/run.ts's table() lives in a script that starts the whole benchmark on import.
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => String(c[i]).length)));
  const line = (r: Array<string | number>) => r.map((c, i) => String(c).padEnd(widths[i])).join("  ");
  console.log(
    [title, line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)].join("\n"),
  );
}
