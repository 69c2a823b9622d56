/**
 * Bundle size and cold-start cost of each Lambda function, bundled the way lib/constructs/ticket-function.ts deploys it (lib/bundling.ts).
 *
 *   npx tsx bench/bundles.ts [--runs N]
 *
 * For every function it records:
 * - bytes: size of the minified CJS bundle (esbuild JS API, same options as the stack; no source map).
 * - initMs: module initialisation time, the median over `runs` fresh node processes of the time
 *   `require(bundle)` takes, minus the same median for an empty file.
 * - loadsLinearSdk / loadsMarklassian: whether loading the bundle *evaluates* any module of that package
 *   (not merely whether the package is in the bundle: post-comment contains both, behind lazy imports).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { type BuildOptions, build, type Metafile, type Plugin } from "esbuild";
import { SETTINGS_VARIABLE } from "../functions/shared/platform/settings";
import { parseSettings } from "../functions/shared/platform/settings-schema";
import { TRACKER_CATALOG } from "../functions/shared/trackers/catalog";
import { esbuildOptions } from "../lib/bundling";

export const FUNCTIONS = [
  TRACKER_CATALOG.linear.webhookEntry,
  TRACKER_CATALOG.jira.webhookEntry,
  "start-conversation",
  "poll-conversation",
  "post-comment",
  "resolve-thread",
  "read-runs",
  // The Linear agent's webhook: a function of its own, with the Agent API client (no size target of its own).
  TRACKER_CATALOG["linear-agent"].webhookEntry,
] as const;

export interface BundleResult {
  fn: string;
  /** Size of the minified .js bundle. */
  bytes: number;
  /** Module initialisation time (median, empty-file baseline subtracted), in ms. */
  initMs: number;
  /** Some module of @linear/sdk (the client or its /webhooks entry) is evaluated when the bundle is loaded. */
  loadsLinearSdk: boolean;
  /** marklassian is evaluated when the bundle is loaded. */
  loadsMarklassian: boolean;
  /** @linear/sdk is in the bundle at all (metafile inputs), lazily or not. */
  bundlesLinearSdk: boolean;
  /** marklassian is in the bundle at all (metafile inputs). */
  bundlesMarklassian: boolean;
  /** Bytes of the bundle that come from @linear/sdk (metafile output inputs). */
  linearSdkBytes: number;
  /** The @linear/sdk modules evaluated at load, relative to the package (e.g. "dist/webhooks/index.mjs"). */
  linearSdkModules: string[];
  /** Median wall time of the whole `node probe bundle` process minus the empty-file process, in ms. */
  processMs: number;
  /**
   * post-comment only, the control for "no (lazy)": whether @linear/sdk (resp. marklassian) has run once the
   * handler posted a comment on a Linear (resp. Jira) ticket. Proves the instrumentation would see it.
   */
  control?: {
    linearSdkAfterLinearPost: boolean;
    marklassianAfterJiraPost: boolean;
    linearSdkAfterJiraPost: boolean;
  };
  /** Set when requiring the bundle threw: the handler does work at import that fails without config. */
  importError?: string;
}

const ROOT = join(__dirname, "..");
const TRACKED = { linear: "@linear/sdk", marklassian: "marklassian" } as const;
/** The global the instrumented bundle records evaluated modules in. */
const MARK = "__qaTicketBenchEvaluated";

/**
 * The stack's bundling options (BUNDLING, lib/bundling.ts), minus the source map, which does not change the
 * .js size. esbuild 0.28 accepts target node24, so it is used as deployed.
 */
export function deployedOptions(fn: string, outfile: string): BuildOptions {
  return {
    ...esbuildOptions(),
    entryPoints: [join(ROOT, "functions", fn, "index.ts")],
    outfile,
    metafile: true,
    logLevel: "silent",
  };
}

/**
 * One function bundled as the stack bundles it, in memory: its .js size and the files it holds (metafile
 * inputs). The bundle tests (test/functions/<fn>/bundle.test.ts) read what each bundle contains from it.
 */
export async function bundleContents(fn: string): Promise<{ bytes: number; inputs: string[] }> {
  const { metafile, outputFiles } = await build({ ...deployedOptions(fn, "index.js"), write: false });
  const js = outputFiles.find((f) => f.path.endsWith(".js"));
  return { bytes: js?.contents.byteLength ?? 0, inputs: Object.keys(metafile?.inputs ?? {}) };
}

/** `node_modules/@linear/sdk/dist/x.mjs` → `@linear/sdk`, for the tracked packages only. */
function trackedPackage(path: string): { pkg: string; file: string } | undefined {
  const norm = path.split(sep).join("/");
  for (const pkg of Object.values(TRACKED)) {
    const at = norm.lastIndexOf(`node_modules/${pkg}/`);
    if (at >= 0) return { pkg, file: norm.slice(at + `node_modules/${pkg}/`.length) };
  }
  return undefined;
}

/**
 * Prepends to every module of the tracked packages a statement that records its evaluation. esbuild keeps a
 * module's top-level code in its lazy wrapper (`__esm`/`__commonJS` init) when it is reached only through a
 * dynamic import, so the record runs exactly when, and if, the module body runs. ESM imports are hoisted,
 * so a statement before them is still valid.
 */
const instrument: Plugin = {
  name: "record-evaluation",
  setup(b) {
    b.onLoad(
      { filter: /[\\/]node_modules[\\/](@linear[\\/]sdk|marklassian)[\\/].*\.(m?js|cjs)$/ },
      (args) => {
        const tracked = trackedPackage(args.path);
        if (!tracked) return undefined;
        const source = readFileSync(args.path, "utf8");
        const record = `(globalThis.${MARK} ??= []).push(${JSON.stringify(`${tracked.pkg}/${tracked.file}`)});\n`;
        return { contents: record + source, loader: "js" };
      },
    );
  },
};

/** Marks the probe's report among the lines a handler may log to stdout. */
const RESULT = "BENCH-RESULT ";

/**
 * Runs in a fresh node process: requires the bundle and reports how long that took, which tracked modules
 * were evaluated, and any import error. Timing inside the child excludes node's own start-up (~40 ms,
 * noisy), leaving what the bundle adds to a cold start: parsing, compiling and running its top level.
 */
const PROBE = `
const RESULT = ${JSON.stringify(RESULT)};
const t = process.hrtime.bigint();
let error;
let loaded;
try { loaded = require(process.argv[2]); } catch (e) { error = String((e && e.stack) || e).split("\\n").slice(0, 3).join(" | "); }
const report = (ms) =>
  process.stdout.write("\\n" + RESULT + JSON.stringify({ ms, error, evaluated: [...(globalThis.${MARK} ?? [])] }));
const tracker = process.argv[3];
if (process.env.TRACKER && loaded) {
  // A webhook loads its tracker's half on its first request: that is part of its cold start. An unsigned
  // request is answered 401 before any secret or network is needed.
  loaded.handler({ headers: {}, body: "{}", isBase64Encoded: false })
    .catch((e) => { error = String(e); })
    .then(() => report(Number(process.hrtime.bigint() - t) / 1e6));
} else if (!tracker) report(Number(process.hrtime.bigint() - t) / 1e6);
else {
  // Control: post a comment for a ticket of that tracker (to a closed port) and report what ran by then.
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const ticket = { tracker, id: "issue-1", key: "ENG-1", title: "t", url: "https://example.com", description: "" };
  Promise.resolve()
    .then(() => loaded.handler({ kind: "failure", state: { runId: "bench", ticket, error: { Error: "Bench" } } }))
    .catch(() => undefined)
    .then(() => report(ms));
}
`;

interface ProbeResult {
  ms: number;
  wallMs: number;
  error?: string;
  evaluated: string[];
}

/** No AWS credentials: a handler must not reach AWS at import. The settings, as the stack sets them. */
function childEnv(): NodeJS.ProcessEnv {
  const settings = parseSettings(
    {
      qatech: {},
      linear: { apiUrl: "http://127.0.0.1:9/graphql" },
      jira: { enabled: true, baseUrl: "http://127.0.0.1:9" },
    },
    "bench",
  );
  return {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    TZ: "UTC",
    [SETTINGS_VARIABLE]: JSON.stringify(settings),
  };
}

/** Credentials for the post-comment control: real-looking, every API on a closed local port. */
const CONTROL_ENV = {
  LINEAR_API_KEY: "lin_api_bench",
  JIRA_EMAIL: "bench@example.com",
  JIRA_API_TOKEN: "bench",
  MARKER_KEY: "bench-marker-key",
};

function probe(probeFile: string, target: string, postFor?: "linear" | "jira"): ProbeResult {
  const start = process.hrtime.bigint();
  const args = postFor ? [probeFile, target, postFor] : [probeFile, target];
  const env = postFor ? { ...childEnv(), ...CONTROL_ENV } : childEnv();
  const child = spawnSync(process.execPath, args, { env, encoding: "utf8", timeout: 60_000 });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (child.status !== 0) throw new Error(`probe of ${target} exited ${child.status}: ${child.stderr}`);
  const report = child.stdout.split("\n").find((line) => line.startsWith(RESULT)) ?? "";
  return { ...(JSON.parse(report.slice(RESULT.length)) as Omit<ProbeResult, "wallMs">), wallMs };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

function timed(probeFile: string, target: string, runs: number): { ms: number; wallMs: number } {
  const results = Array.from({ length: runs }, () => probe(probeFile, target));
  return { ms: median(results.map((r) => r.ms)), wallMs: median(results.map((r) => r.wallMs)) };
}

function packageBytes(metafile: Metafile, pkg: string): { bundled: boolean; bytes: number } {
  let bundled = false;
  for (const input of Object.keys(metafile.inputs)) if (trackedPackage(input)?.pkg === pkg) bundled = true;
  let bytes = 0;
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      if (trackedPackage(input)?.pkg === pkg) bytes += bytesInOutput;
    }
  }
  return { bundled, bytes };
}

/** Bundles every function as deployed and measures its size, its module initialisation time and what it loads. */
export async function measureBundles(options: { runs?: number } = {}): Promise<BundleResult[]> {
  const runs = Math.max(1, options.runs ?? 7);
  const dir = mkdtempSync(join(tmpdir(), "qa-ticket-bundles-"));
  try {
    const probeFile = join(dir, "probe.js");
    writeFileSync(probeFile, PROBE);
    const empty = join(dir, "empty.js");
    writeFileSync(empty, "");
    const results: BundleResult[] = [];
    for (const fn of FUNCTIONS) {
      mkdirSync(join(dir, fn));
      const deployed = join(dir, fn, "index.js");
      const { metafile } = await build(deployedOptions(fn, deployed));
      // A second, instrumented build only answers "what is evaluated at load"; sizes and times come from
      // the deployed one.
      const instrumented = join(dir, fn, "instrumented.js");
      await build({ ...deployedOptions(fn, instrumented), metafile: false, plugins: [instrument] });
      const evaluation = probe(probeFile, instrumented);
      const linear = packageBytes(metafile ?? { inputs: {}, outputs: {} }, TRACKED.linear);
      const marklassian = packageBytes(metafile ?? { inputs: {}, outputs: {} }, TRACKED.marklassian);
      const load = timed(probeFile, deployed, runs);
      // Measured right after each bundle so drift in machine load hits both alike.
      const baseline = timed(probeFile, empty, runs);
      const loaded = (r: ProbeResult, pkg: string) => r.evaluated.some((m) => m.startsWith(`${pkg}/`));
      let control: BundleResult["control"];
      if (fn === "post-comment") {
        const afterLinear = probe(probeFile, instrumented, "linear");
        const afterJira = probe(probeFile, instrumented, "jira");
        control = {
          linearSdkAfterLinearPost: loaded(afterLinear, TRACKED.linear),
          marklassianAfterJiraPost: loaded(afterJira, TRACKED.marklassian),
          linearSdkAfterJiraPost: loaded(afterJira, TRACKED.linear),
        };
      }
      results.push({
        fn,
        bytes: statSync(deployed).size,
        initMs: round(load.ms - baseline.ms),
        loadsLinearSdk: evaluation.evaluated.some((m) => m.startsWith(`${TRACKED.linear}/`)),
        loadsMarklassian: evaluation.evaluated.some((m) => m.startsWith(`${TRACKED.marklassian}/`)),
        bundlesLinearSdk: linear.bundled,
        bundlesMarklassian: marklassian.bundled,
        linearSdkBytes: linear.bytes,
        linearSdkModules: evaluation.evaluated
          .filter((m) => m.startsWith(`${TRACKED.linear}/`))
          .map((m) => m.slice(TRACKED.linear.length + 1)),
        processMs: round(load.wallMs - baseline.wallMs),
        ...(control ? { control } : {}),
        ...(evaluation.error ? { importError: evaluation.error } : {}),
      });
    }
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The results as a fixed-width table. */
export function formatTable(results: BundleResult[]): string {
  const yesNo = (evaluated: boolean, bundled: boolean) => (evaluated ? "yes" : bundled ? "no (lazy)" : "no");
  const header = [
    "function",
    "bytes",
    "KB",
    "init ms",
    "process ms",
    "@linear/sdk at load",
    "marklassian at load",
  ];
  const rows = results.map((r) => [
    r.fn,
    String(r.bytes),
    (r.bytes / 1024).toFixed(0),
    r.initMs.toFixed(1),
    r.processMs.toFixed(1),
    r.loadsLinearSdk ? `yes (${r.linearSdkModules.join(", ")})` : yesNo(false, r.bundlesLinearSdk),
    yesNo(r.loadsMarklassian, r.bundlesMarklassian),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  const out = [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)];
  for (const r of results) {
    if (!r.control) continue;
    const c = r.control;
    out.push(
      `${r.fn} control: after posting on Linear, @linear/sdk ran: ${c.linearSdkAfterLinearPost ? "yes" : "NO"};` +
        ` after posting on Jira, marklassian ran: ${c.marklassianAfterJiraPost ? "yes" : "NO"},` +
        ` @linear/sdk ran: ${c.linearSdkAfterJiraPost ? "YES" : "no"}`,
    );
  }
  for (const r of results) if (r.importError) out.push(`! ${r.fn} threw at import: ${r.importError}`);
  return out.join("\n");
}

if (require.main === module) {
  const at = process.argv.indexOf("--runs");
  const runs = at >= 0 ? Number(process.argv[at + 1]) : undefined;
  measureBundles({ runs })
    .then((results) => {
      console.log(formatTable(results));
      console.log(
        `\ninit ms: median over ${runs ?? 7} fresh processes of require(bundle) timed inside the process, minus an empty file;` +
          "\nprocess ms: the same for the whole process wall time (node start-up subtracted)." +
          "\nat load: a module of the package runs when the bundle is required (instrumented build);" +
          " 'no (lazy)': bundled, only behind a dynamic import.",
      );
    })
    .catch((error) => {
      console.error(error);
      process.exitCode = 1;
    });
}
