// `npm run bench`: what users feel (how soon the comment lands, how often QA.tech is polled), what a ticket
// costs, how fast the webhook answers, and how big and quick to load each function is. Schedules and a burst
// of conversation starts run on a simulated clock; the rest is measured on the real local runner against the
// simulators in simulators/.
import { execFile, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { DEFAULT_POLL_SCHEDULE, elapsedBeforePoll } from "../functions/shared/domain/poll-schedule";
import { setLogSink } from "../functions/shared/platform/log";
import { TRACKER_CATALOG } from "../functions/shared/trackers/catalog";
import { startLocalRunner } from "../local/runner";
import { LINEAR_API_KEY, LINEAR_WEBHOOK_SECRET, QATECH_API_KEY, startHarness } from "../simulators/harness";
import { linearFixture } from "../simulators/signing";
import { measureBundles } from "./bundles";
import { delayVersusPollsSvg } from "./chart";
import { BENCH_DOC_PATH, type BenchResults, docWithBenchTables, RESULTS_PATH, readResults } from "./docs";
import { ticketCost } from "./prices";
import { queueModelTable, runQueueModel } from "./queue-model";
import { delayTarget, REPLY_TIMES, SCHEDULES, type ScheduleOutcome, simulate } from "./schedules";
import { SECTIONS, sectionsToRun } from "./sections";
import { RUN_SECONDS, runWait, VERDICT_REPLY_TIMES } from "./verdict";

/** Memory as the stack deploys it (lib/qa-ticket-stack.ts): the config's 256 MB, the poll function 128 MB. */
const MEMORY_MB = 256;
const POLL_MEMORY_MB = 128;
const ARCHITECTURE = "arm64" as const;
/** Billed time per Task invocation: a round trip to QA.tech or the tracker, not loopback to a simulator. */
const ASSUMED_TASK_MS = 300;
const ASSUMED_WEBHOOK_MS = 50;
const CONCURRENT_WEBHOOKS = 200;
/** Bursts per measurement; their median is reported (one burst on a 2-core machine is noisy). */
const BURSTS = 5;
const run = promisify(execFile);

const fmt = (v: number, digits = 0) => v.toFixed(digits);
const usd = (v: number) => `$${v.toFixed(5)}`;
const label = (s: number) => (s < 60 ? `${s} s` : `${s / 60} min`);

function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join("  ");
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function issue(key: string, n: number): Record<string, unknown> {
  const base = linearFixture("Issue.update.label-added");
  const id = `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
  return { ...base, data: { ...(base.data as object), id, identifier: key, title: `Bench ${key}` } };
}

/** One ticket through the local runner: its reply final at poll `replyPolls`, linking a run when `run` says. */
interface TicketCase {
  /** The Linear identifier, also the key the simulator's plan finds in the message QA.tech receives. */
  key: string;
  replyPolls: number;
  /** A test run the reply links, still running for `readsUntilFinal` reads (one test, which passes). */
  run?: { readsUntilFinal: number };
}

/** What one ticket used, as counted on the local runner, and what it costs. */
export interface TicketMeasurement {
  key: string;
  /** GETs of the conversation. */
  polls: number;
  /** GETs of the test run the reply links (0 when it links none). */
  runReads: number;
  waitedInLambda: number;
  /** Seconds in the poll clock's Wait states: WaitForReply and WaitForRuns together. */
  waitedInStateMachine: number;
  /** Of those, seconds in WaitForRuns. */
  waitedForRuns: number;
  transitions: number;
  invocations: number;
  gbSeconds: number;
  secretReads: number;
  cost: ReturnType<typeof ticketCost>;
}

/**
 * Runs the tickets at once through the local runner against the simulators and counts, per ticket, QA.tech
 * reads, transitions (from the execution's event log), Lambda invocations and billed Lambda time.
 */
async function measureTickets(cases: TicketCase[]): Promise<TicketMeasurement[]> {
  const caseOf = (message: string) => cases.find((c) => message.includes(`${c.key}:`));
  const h = await startHarness({
    qatech: {
      plan: (m) => {
        const c = caseOf(m);
        return {
          pollsUntilFinal: (c?.replyPolls ?? 1) - 1,
          ...(c?.run
            ? {
                runs: [
                  {
                    tests: [{ name: `${c.key} check`, result: "PASSED" as const }],
                    readsUntilFinal: c.run.readsUntilFinal,
                  },
                ],
              }
            : {}),
        };
      },
    },
    env: { WAIT_SCALE: "0.001" },
  });
  try {
    for (const [i, c] of cases.entries()) await h.sendLinear(issue(c.key, i + 1));
    await h.runner.settled();
    return cases.map((c) => {
      const execution = [...h.runner.executions.values()].find((e) => e.input.ticket.key === c.key);
      if (execution?.status !== "SUCCEEDED") throw new Error(`run for ${c.key} failed`);
      const entered = execution.events.filter((e) => e.type === "StateEntered");
      const retried = execution.events.filter((e) => e.type === "StateRetried");
      const tasks = entered.filter((e) => e.state.type === "Task");
      const polled = tasks.filter((e) => e.state.name === "PollConversation").length;
      const conversation = h.qatech
        .conversations()
        .find((conv) => String((conv.body as { message: string }).message).includes(`${c.key}:`));
      const polls = h.qatech.requests.filter(
        (r) => r.method === "GET" && r.path === `/v1/chat/${conversation?.shortId}`,
      ).length;
      const run = h.qatech.runs().find((r) => r.tests[0]?.name === `${c.key} check`);
      const runReads = run
        ? h.qatech.requests.filter((r) => r.method === "GET" && r.path === `/v1/run/${run.shortId}`).length
        : 0;
      if (polls !== c.replyPolls || runReads !== (c.run ? c.run.readsUntilFinal + 1 : 0))
        throw new Error(`${c.key}: ${polls} polls and ${runReads} run reads, not as planned`);
      if (c.run && execution.output?.verdict?.outcome !== "passed")
        throw new Error(`${c.key}: the verdict is ${execution.output?.verdict?.outcome}, not passed`);
      const waited = (state: string) =>
        entered
          .filter((e) => e.state.name === state)
          .reduce(
            (sum, e) => sum + ((e.state.input as { poll: { waitSeconds: number } }).poll.waitSeconds ?? 0),
            0,
          );
      const waitedForReply = waited("WaitForReply");
      const waitedForRuns = waited("WaitForRuns");
      // The poll function waits out short waits itself: that time is billed Lambda time. ReadRuns does not:
      // each of its reads is an invocation of its own, billed like the other tasks.
      const waitedInLambda = elapsedBeforePoll(polls, DEFAULT_POLL_SCHEDULE) - waitedForReply;
      const usage = {
        transitions: entered.length + retried.length,
        invocations: tasks.length + 1,
        gbSeconds:
          (((tasks.length - polled) * ASSUMED_TASK_MS + ASSUMED_WEBHOOK_MS) / 1000) * (MEMORY_MB / 1024) +
          ((polled * ASSUMED_TASK_MS) / 1000 + waitedInLambda) * (POLL_MEMORY_MB / 1024),
        // One read per function per ticket (webhook, start, poll, comment, read-runs): an upper bound (warm
        // functions cache secrets for 5 minutes).
        secretReads: 5,
      };
      const cost = ticketCost(usage, ARCHITECTURE);
      return {
        key: c.key,
        polls,
        runReads,
        waitedInLambda,
        waitedInStateMachine: waitedForReply + waitedForRuns,
        waitedForRuns,
        ...usage,
        cost,
      };
    });
  } finally {
    await h.close();
  }
}

/** One ticket per reply time, with the reply final at the poll our schedule needs and no run linked. */
async function measureRuns(outcomes: ScheduleOutcome[]) {
  const ours = outcomes.filter((o) => o.schedule === SCHEDULES[0].name);
  const measured = await measureTickets(
    ours.map((o) => ({ key: `BENCH-${o.replySeconds}`, replyPolls: o.polls })),
  );
  return ours.map((o, i) => {
    const { key: _key, runReads: _runReads, waitedForRuns: _waitedForRuns, ...m } = measured[i];
    return { replySeconds: o.replySeconds, ...m };
  });
}

/**
 * The verdict's run wait: per reply time, the same ticket whose reply links no run (ReadRuns decides at once)
 * and one whose reply links a test run that finishes RUN_SECONDS after the reply, waited for on the poll clock.
 */
async function measureVerdict() {
  const waits = VERDICT_REPLY_TIMES.map((r) => ({
    replySeconds: r,
    ...runWait(r, RUN_SECONDS, DEFAULT_POLL_SCHEDULE),
  }));
  const measured = await measureTickets(
    waits.flatMap((w) => [
      { key: `NORUN-${w.replySeconds}`, replyPolls: w.replyPolls },
      {
        key: `RUN-${w.replySeconds}`,
        replyPolls: w.replyPolls,
        run: { readsUntilFinal: w.readsUntilFinal },
      },
    ]),
  );
  const strip = ({ key: _key, ...m }: TicketMeasurement) => m;
  return waits.map((w, i) => ({
    replySeconds: w.replySeconds,
    runSeconds: RUN_SECONDS,
    replySeenSeconds: w.replySeenSeconds,
    runSeenSeconds: w.runSeenSeconds,
    runDelaySeconds: w.delaySeconds,
    noRun: strip(measured[2 * i]),
    withRun: strip(measured[2 * i + 1]),
  }));
}

/** Runs bench/webhook-load.ts against `url` and returns the answer times, sorted. */
async function burst(url: string): Promise<number[]> {
  const tsx = join(__dirname, "..", "node_modules", ".bin", "tsx");
  const args = [join(__dirname, "webhook-load.ts"), url, LINEAR_WEBHOOK_SECRET, String(CONCURRENT_WEBHOOKS)];
  const { stdout } = await run(tsx, args);
  return (JSON.parse(stdout) as { times: number[] }).times.sort((a, b) => a - b);
}

/** Starts bench/simulators.ts in its own process and returns the simulators' URLs and a way to stop them. */
async function startSimulatorsProcess() {
  const child = spawn(
    join(__dirname, "..", "node_modules", ".bin", "tsx"),
    [join(__dirname, "simulators.ts")],
    {
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  const line = await new Promise<string>((resolve, reject) => {
    let buffered = "";
    child.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      if (buffered.includes("\n")) resolve(buffered.split("\n")[0]);
    });
    child.once("exit", (code) => reject(new Error(`simulators exited with ${code}`)));
  });
  const urls = JSON.parse(line) as { qatech: string; linear: string; jira: string };
  return { urls, stop: () => child.stdin.end() };
}

/**
 * CONCURRENT_WEBHOOKS signed trigger webhooks at once to the local runner with real waits (WAIT_SCALE 1,
 * as `npm start` runs). The load comes from one process and the simulators serve from another, as real
 * trackers and QA.tech would, so what is timed is the runner's work alone. The same burst against a server
 * that only answers "{}" is the floor this machine and client impose; the median of BURSTS bursts is kept.
 */
async function measureWebhookLatency() {
  const floorServer = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.end("{}"));
  });
  await new Promise<void>((resolve) => floorServer.listen(0, "127.0.0.1", resolve));
  const floorUrl = `http://127.0.0.1:${(floorServer.address() as AddressInfo).port}`;
  const simulators = await startSimulatorsProcess();
  const runner = await startLocalRunner({
    port: 0,
    env: {
      QATECH_API_KEY,
      QATECH_API_URL: simulators.urls.qatech,
      LINEAR_API_KEY,
      LINEAR_API_URL: simulators.urls.linear,
      LINEAR_WEBHOOK_SECRET,
      WAIT_SCALE: "1",
    },
  });
  const summary = (sorted: number[]) => ({ p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) });
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  try {
    const measured: Array<{ p50Ms: number; p99Ms: number }> = [];
    const floor: Array<{ p50Ms: number; p99Ms: number }> = [];
    for (let i = 0; i < BURSTS; i++) {
      floor.push(summary(await burst(floorUrl)));
      measured.push(summary(await burst(runner.url)));
    }
    return {
      requests: CONCURRENT_WEBHOOKS,
      p50Ms: median(measured.map((r) => r.p50Ms)),
      p99Ms: median(measured.map((r) => r.p99Ms)),
      floorP50Ms: median(floor.map((r) => r.p50Ms)),
      floorP99Ms: median(floor.map((r) => r.p99Ms)),
    };
  } finally {
    await runner.close(); // stops the executions the bursts started
    simulators.stop();
    floorServer.close();
  }
}

/** The targets, from whatever results the run has: measured now or kept from the last run. */
function benchTargets(r: BenchResults) {
  const [ours, five, twenty] = SCHEDULES.map((s) => s.name);
  const at = (name: string, reply: number) =>
    r.schedules.find((o) => o.schedule === name && o.replySeconds === reply) as ScheduleOutcome;
  const totals = r.pollTotals;
  const replyTimes = [...new Set(r.schedules.map((o) => o.replySeconds))];
  const labelEntries: string[] = Object.values(TRACKER_CATALOG)
    .filter((t) => t.kind === "label")
    .map((t) => t.webhookEntry);
  const webhookBundles = r.bundles.filter((b) => labelEntries.includes(b.fn));
  const tenMinutes = r.runs.find((x) => x.replySeconds === 600)?.cost.total ?? Number.NaN;
  const added = r.verdict.map((v) => ({
    reply: v.replySeconds,
    usd: v.withRun.cost.total - v.noRun.cost.total,
  }));
  return [
    {
      target: "detection delay <= max(3 s, 10% of reply time), every reply time",
      measured: replyTimes.map((t) => `${at(ours, t).delaySeconds}/${fmt(delayTarget(t))}`).join(", "),
      met: replyTimes.every((t) => at(ours, t).delaySeconds <= delayTarget(t)),
    },
    {
      target: "total polls over the six reply times < fixed 20 s",
      measured: `${totals[ours]} vs ${totals[twenty]}`,
      met: totals[ours] < totals[twenty],
    },
    {
      target: "polls at 10 and 30 min < 1/3 of fixed 5 s",
      measured: `${at(ours, 600).polls} vs ${fmt(at(five, 600).polls / 3, 1)}, ${at(ours, 1800).polls} vs ${fmt(at(five, 1800).polls / 3, 1)}`,
      met: at(ours, 600).polls < at(five, 600).polls / 3 && at(ours, 1800).polls < at(five, 1800).polls / 3,
    },
    {
      target: "cost per ticket < $0.002 for a 10-minute reply",
      measured: usd(tenMinutes),
      met: tenMinutes < 0.002,
    },
    {
      target: `verdict delay after the run ends <= max(3 s, 10% of reply + run time), replies after ${r.verdict.map((v) => label(v.replySeconds)).join(", ")}`,
      measured: r.verdict
        .map((v) => `${v.runDelaySeconds}/${fmt(delayTarget(v.replySeconds + v.runSeconds))}`)
        .join(", "),
      met: r.verdict.every((v) => v.runDelaySeconds <= delayTarget(v.replySeconds + v.runSeconds)),
    },
    {
      target: "added cost of a 5-minute run wait < $0.001 per ticket, each reply time",
      measured: added.map((a) => `${usd(a.usd)} (${label(a.reply)})`).join(", "),
      met: added.every((a) => a.usd < 0.001),
    },
    {
      target: "webhook p99 < 50 ms (local runner)",
      measured: `${fmt(r.webhook.p99Ms, 1)} ms (floor ${fmt(r.webhook.floorP99Ms, 1)} ms)`,
      met: r.webhook.p99Ms < 50,
    },
    {
      target: "webhook bundles < 600 KB and < 100 ms initialisation",
      measured: webhookBundles
        .map((b) => `${b.fn} ${fmt(b.bytes / 1024)} KB ${fmt(b.initMs, 1)} ms`)
        .join("; "),
      met: webhookBundles.every((b) => b.bytes < 600 * 1024 && b.initMs < 100),
    },
    {
      target: "no function loads a tracker SDK it does not use (Jira path never loads @linear/sdk)",
      measured: r.bundles.map((b) => `${b.fn}: ${b.loadsLinearSdk ? "loads" : "no"}`).join(", "),
      // Linear's two webhooks use it: the label webhook its 10 KB verifier, the agent's webhook its client.
      met: r.bundles
        .filter(
          (b) =>
            b.fn !== TRACKER_CATALOG.linear.webhookEntry &&
            b.fn !== TRACKER_CATALOG["linear-agent"].webhookEntry,
        )
        .every((b) => !b.loadsLinearSdk),
    },
  ];
}

async function main() {
  setLogSink(() => {});
  const only = sectionsToRun(process.argv.slice(2));
  const all = only.length === SECTIONS.length;
  const started = Date.now();
  // A partial run keeps the other sections as the last run measured them.
  const last: Partial<BenchResults> = all ? {} : readResults();
  const measured: Partial<BenchResults> = {};
  const outcomes = SCHEDULES.flatMap((s) => REPLY_TIMES.map((r) => simulate(s, r)));
  if (only.includes("schedules")) {
    measured.schedules = outcomes;
    measured.pollTotals = Object.fromEntries(
      SCHEDULES.map((s) => [
        s.name,
        outcomes.filter((o) => o.schedule === s.name).reduce((n, o) => n + o.polls, 0),
      ]),
    );
  }
  // A burst of tickets against the bound on starts: why a start waits in a queue rather than retrying a
  // throttled Lambda, whose retrier runs out and loses tickets.
  if (only.includes("starts")) measured.starts = runQueueModel();
  if (only.includes("runs")) measured.runs = await measureRuns(outcomes);
  if (only.includes("verdict")) measured.verdict = await measureVerdict();
  if (only.includes("webhook")) measured.webhook = await measureWebhookLatency();
  if (only.includes("bundles")) measured.bundles = await measureBundles();
  const seconds = (Date.now() - started) / 1000;
  const now = new Date().toISOString();

  const merged = { ...last, ...measured } as BenchResults;
  const results: BenchResults = {
    generatedAt: all ? now : merged.generatedAt,
    machine: all ? { node: process.version, cpus: cpus().length, model: cpus()[0]?.model } : merged.machine,
    assumptions: {
      memoryMb: MEMORY_MB,
      pollMemoryMb: POLL_MEMORY_MB,
      architecture: ARCHITECTURE,
      taskMs: ASSUMED_TASK_MS,
      webhookMs: ASSUMED_WEBHOOK_MS,
    },
    schedules: merged.schedules,
    pollTotals: merged.pollTotals,
    starts: merged.starts,
    runs: merged.runs,
    verdict: merged.verdict,
    webhook: merged.webhook,
    bundles: merged.bundles,
    targets: [],
    seconds: all ? seconds : merged.seconds,
    ...(all ? {} : { partial: { generatedAt: now, sections: only, seconds, node: process.version } }),
  };
  const missing = SECTIONS.filter((s) => results[s] === undefined);
  if (missing.length > 0) throw new Error(`bench/results.json has no ${missing.join(", ")}: run them too`);
  results.targets = benchTargets(results);
  writeFileSync(RESULTS_PATH, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(__dirname, "schedules.svg"), delayVersusPollsSvg(results.schedules));
  writeFileSync(BENCH_DOC_PATH, docWithBenchTables(readFileSync(BENCH_DOC_PATH, "utf8"), results));
  console.log(report(results));
  console.log(
    `\n${all ? "Measured everything" : `Measured ${only.join(", ")} (the rest kept from ${results.generatedAt})`} ` +
      `in ${fmt(seconds, 1)} s; wrote bench/results.json, bench/schedules.svg and docs/benchmark.md's tables`,
  );
}

/** The console's tables. */
function report(r: BenchResults): string {
  const at = (name: string, reply: number) =>
    r.schedules.find((o) => o.schedule === name && o.replySeconds === reply) as ScheduleOutcome;
  const replyTimes = [...new Set(r.schedules.map((o) => o.replySeconds))];
  const names = Object.keys(r.pollTotals);
  const a = r.assumptions;
  const out: string[] = [];
  out.push("Poll schedules (simulated clock): polls per ticket / detection delay");
  out.push(
    table(
      ["reply after", ...names, "delay target"],
      replyTimes
        .map((t) => [
          label(t),
          ...names.map((n) => `${at(n, t).polls} polls / ${at(n, t).delaySeconds} s`),
          `<= ${fmt(delayTarget(t), 0)} s`,
        ])
        .concat([["total polls", ...names.map((n) => String(r.pollTotals[n])), ""]]),
    ),
  );
  const startsTable = queueModelTable(r.starts);
  out.push("", startsTable.title);
  out.push(table(startsTable.headers, startsTable.cells));
  out.push(
    "",
    `Per ticket on the local runner (qa-ticket schedule; ${a.architecture}, ${a.memoryMb} MB, poll function ` +
      `${a.pollMemoryMb} MB, ${a.taskMs} ms per task)`,
  );
  out.push(
    table(
      ["reply after", "polls", "transitions", "invocations", "waited in Lambda", "Wait states", "total"],
      r.runs.map((x) => [
        label(x.replySeconds),
        x.polls,
        x.transitions,
        x.invocations,
        `${x.waitedInLambda} s`,
        `${x.waitedInStateMachine} s`,
        usd(x.cost.total),
      ]),
    ),
  );
  out.push("", `The verdict: a reply that links no run, and one that links a ${label(RUN_SECONDS)} test run`);
  out.push(
    table(
      ["reply after", "run", "chat GETs", "run GETs", "transitions", "invocations", "Wait states", "total"],
      r.verdict.flatMap((v) =>
        [v.noRun, v.withRun].map((x, i) => [
          label(v.replySeconds),
          i === 0 ? "none" : `${label(v.runSeconds)}, seen at ${v.runSeenSeconds} s`,
          x.polls,
          x.runReads ?? 0,
          x.transitions,
          x.invocations,
          `${x.waitedInStateMachine} s`,
          usd(x.cost.total),
        ]),
      ),
    ),
  );
  out.push(
    "",
    `Webhook answers, ${r.webhook.requests} concurrent signed webhooks (median of ${BURSTS} bursts): ` +
      `p50 ${fmt(r.webhook.p50Ms, 1)} ms, p99 ${fmt(r.webhook.p99Ms, 1)} ms; a server that only answers "{}" ` +
      `(the floor of this machine and client): p50 ${fmt(r.webhook.floorP50Ms, 1)} ms, p99 ${fmt(r.webhook.floorP99Ms, 1)} ms`,
  );
  out.push("", "Functions as deployed (esbuild, minified)");
  out.push(
    table(
      ["function", "bundle", "init (median)", "@linear/sdk at load", "marklassian at load"],
      r.bundles.map((b) => [
        b.fn,
        `${fmt(b.bytes / 1024)} KB`,
        `${fmt(b.initMs, 1)} ms`,
        b.loadsLinearSdk ? "yes" : "no",
        b.loadsMarklassian ? "yes" : "no",
      ]),
    ),
  );
  out.push("", "Targets");
  out.push(
    table(
      ["", "target", "measured"],
      r.targets.map((t) => [t.met ? "met" : "NOT MET", t.target, t.measured]),
    ),
  );
  return out.join("\n");
}

if (require.main === module)
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
