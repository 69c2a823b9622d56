import { type Harness, startHarness } from "../../simulators/harness";
import { linearFixture } from "../../simulators/signing";

/**
 * 500 signed trigger webhooks at once (at most 100 in flight): 450 distinct Linear issues and 50
 * redeliveries. Every delivery is answered 200, each issue gets exactly one execution, one conversation and
 * one comment, and the heap stays bounded.
 */

const ISSUES = 450;
const DUPLICATES = 50;
const IN_FLIGHT = 100;
const HEAP_GROWTH_LIMIT = 300 * 1024 * 1024;

const MB = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/** The label-added fixture for issue i: its own id, identifier and title. */
function issuePayload(i: number): Record<string, unknown> {
  const base = linearFixture("Issue.update.label-added");
  const data = base.data as Record<string, unknown>;
  const suffix = i.toString(16).padStart(12, "0");
  return {
    ...base,
    data: {
      ...data,
      id: `539068e2-ae88-4d09-bd75-${suffix}`,
      identifier: `LOAD-${i}`,
      number: i,
      title: `Load issue ${i}`,
    },
  };
}

/** Runs `work` over `items` with at most `limit` in flight, keeping the results in order. */
async function mapLimited<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

describe("load: 500 concurrent trigger webhooks on the local runner", () => {
  let h: Harness;
  afterAll(async () => {
    await h.runner.settled();
    await h.close();
  });

  it("answers every delivery 200 and runs each of 450 issues exactly once, with bounded memory", async () => {
    h = await startHarness();
    const payloads = Array.from({ length: ISSUES }, (_, i) => issuePayload(i));
    // Duplicates are spread among the originals, so some arrive while the first run is still going.
    const deliveries = [...payloads];
    for (let d = 0; d < DUPLICATES; d++) deliveries.splice(d * 10 + 5, 0, payloads[d * 9]);

    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    let heapPeak = heapBefore;
    const sampler = setInterval(() => {
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    }, 50);
    const started = Date.now();

    const answers = await mapLimited(deliveries, IN_FLIGHT, (payload) => h.sendLinear(payload));
    const answeredMs = Date.now() - started;
    await h.runner.settled();
    const settledMs = Date.now() - started;
    clearInterval(sampler);
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    global.gc?.();
    const heapAfter = process.memoryUsage().heapUsed;

    // Printed for the record: timings and heap, in MB.
    process.stdout.write(
      `${JSON.stringify({
        deliveries: deliveries.length,
        answeredMs,
        settledMs,
        heapBeforeMB: MB(heapBefore),
        heapPeakMB: MB(heapPeak),
        heapAfterMB: MB(heapAfter),
        peakGrowthMB: MB(heapPeak - heapBefore),
        gcExposed: Boolean(global.gc),
        outcomes: answers.reduce<Record<string, number>>((n, a) => {
          const key = String(a.body.outcome);
          n[key] = (n[key] ?? 0) + 1;
          return n;
        }, {}),
      })}\n`,
    );

    expect(answers).toHaveLength(ISSUES + DUPLICATES);
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    const outcomes = answers.map((a) => a.body.outcome);
    expect(outcomes.filter((o) => o !== "started" && o !== "duplicate")).toEqual([]);
    expect(new Set(answers.map((a) => a.body.runId)).size).toBe(ISSUES);

    const executions = [...h.runner.executions.values()];
    expect(executions).toHaveLength(ISSUES);
    expect(executions.filter((e) => e.status !== "SUCCEEDED").map((e) => [e.name, e.error])).toEqual([]);

    const conversations = h.qatech.conversations();
    expect(conversations).toHaveLength(ISSUES);
    const sentKeys = conversations.map(
      (c) => /\n(LOAD-\d+): /.exec(String((c.body as { message: string }).message))?.[1],
    );
    expect(new Set(sentKeys).size).toBe(ISSUES);

    const comments = h.linearReplies();
    expect(comments).toHaveLength(ISSUES);
    const commentedIssues = new Set(comments.map((c) => c.issueId));
    expect(commentedIssues.size).toBe(ISSUES);
    for (const payload of payloads) {
      expect(commentedIssues.has((payload.data as { id: string }).id)).toBe(true);
    }

    expect(heapPeak - heapBefore).toBeLessThan(HEAP_GROWTH_LIMIT);
  }, 180_000);
});

describe("load: a bulk relabel of 1,000 tickets", () => {
  let h: Harness;
  afterAll(async () => {
    await h.runner.settled();
    await h.close();
  });

  it("is processed to the last comment while QA.tech never sees more than the configured calls at once", async () => {
    // At most 4 conversations are started at once (the start queue's consumer concurrency); the rest wait
    // in the queue, however long that takes on this machine: nothing is retried, nothing can run out.
    h = await startHarness({ qatech: { latencyMs: 10 }, env: { QATECH_MAX_CONCURRENCY: "4" } });
    const payloads = Array.from({ length: 1000 }, (_, i) => issuePayload(10_000 + i));

    const answers = await mapLimited(payloads, IN_FLIGHT, (payload) => h.sendLinear(payload));
    await h.runner.settled();

    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    const executions = [...h.runner.executions.values()];
    expect(executions.filter((e) => e.status !== "SUCCEEDED").map((e) => [e.name, e.error])).toEqual([]);
    expect(h.qatech.conversations()).toHaveLength(1000);
    expect(new Set(h.linearReplies().map((c) => c.issueId)).size).toBe(1000);
    expect(h.linearReplies()).toHaveLength(1000);
    expect(h.qatech.maxInFlight("POST")).toBeLessThanOrEqual(4);
    expect(h.qatech.maxInFlight("POST")).toBeGreaterThan(1);
    const retried = executions.flatMap((e) => e.events).filter((e) => e.type === "StateRetried");
    expect(retried).toHaveLength(0);
  }, 180_000);
});

describe("load: a backlog of slow starts", () => {
  let h: Harness;
  afterAll(async () => {
    await h.runner.settled();
    await h.close();
  });

  it("drains at the bound, each ticket waiting its turn, none lost however long the queue takes", async () => {
    // Each start takes 250 ms at QA.tech and only 2 run at once: 40 tickets need at least 5 s of queue.
    h = await startHarness({
      qatech: { latencyMs: 250 },
      env: { QATECH_MAX_CONCURRENCY: "2", WAIT_SCALE: "0.001" },
    });
    const payloads = Array.from({ length: 40 }, (_, i) => issuePayload(20_000 + i));
    const started = Date.now();

    const answers = await mapLimited(payloads, IN_FLIGHT, (payload) => h.sendLinear(payload));
    await h.runner.settled();

    expect(answers.map((a) => a.body.outcome)).toEqual(payloads.map(() => "started"));
    expect(Date.now() - started).toBeGreaterThanOrEqual((40 / 2) * 250);
    expect(h.qatech.maxInFlight("POST")).toBe(2);
    expect(h.qatech.conversations()).toHaveLength(40);
    expect(new Set(h.linearAcks().map((c) => c.issueId)).size).toBe(40);
    expect(new Set(h.linearReplies().map((c) => c.issueId)).size).toBe(40);
    const executions = [...h.runner.executions.values()];
    expect(executions.filter((e) => e.status !== "SUCCEEDED")).toEqual([]);
  }, 120_000);
});
