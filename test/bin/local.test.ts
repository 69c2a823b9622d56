import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { type FakeLinear, startFakeLinear } from "../../simulators/linear";
import { type FakeQaTech, startFakeQaTech } from "../../simulators/qatech";

const ROOT = join(__dirname, "..", "..");

/** Whether any process of the group still exists (signal 0 only checks). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url, { method: "POST", signal: AbortSignal.timeout(2000) });
    return false;
  } catch {
    return true;
  }
}

/**
 * `npm start` as an operator runs it, against the simulators: a real npm, a real process tree. The bounds
 * are generous timeouts on events, never fixed sleeps, so a slow machine only makes it slower.
 */
describe("npm start", () => {
  let qatech: FakeQaTech;
  let linear: FakeLinear;
  let child: ChildProcess | undefined;
  beforeAll(async () => {
    qatech = await startFakeQaTech({ apiKey: "qa-key-123456" });
    linear = await startFakeLinear({ apiKey: "lin_api_123456" });
  });
  afterEach(() => {
    // Whatever the test did, nothing it started outlives it.
    if (child?.pid && groupAlive(child.pid)) process.kill(-child.pid, "SIGKILL");
  });
  afterAll(() => Promise.all([qatech.close(), linear.close()]));

  async function start(): Promise<{ url: string; output: () => string }> {
    let output = "";
    child = spawn("npm", ["start", "--silent"], {
      cwd: ROOT,
      // Its own process group, so the test can see every process it left behind.
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        QATECH_API_KEY: "qa-key-123456",
        QATECH_API_URL: qatech.url,
        LINEAR_API_KEY: "lin_api_123456",
        LINEAR_API_URL: linear.url,
        LINEAR_WEBHOOK_SECRET: "lin_wh_123456",
        PORT: "0",
      },
    });
    child.stdout?.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr?.on("data", (chunk) => {
      output += chunk;
    });
    await until("the runner to listen", () => /"local runner listening"/.test(output), 90_000);
    const url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output)?.[1] ?? "";
    return { url, output: () => output };
  }

  it.each<[string, NodeJS.Signals, "npm" | "group"]>([
    ["SIGTERM sent to npm alone (a supervisor stopping it)", "SIGTERM", "npm"],
    ["Ctrl-C (SIGINT to the whole foreground group)", "SIGINT", "group"],
  ])(
    "stops cleanly on %s: the port is released and no process is left",
    async (_what, signal, target) => {
      const { url, output } = await start();
      const pid = child?.pid ?? 0;
      expect(await refused(`${url}/webhooks/linear`)).toBe(false);
      const exited = new Promise<number | null>((resolve) => child?.once("exit", (code) => resolve(code)));

      process.kill(target === "npm" ? pid : -pid, signal);

      await exited;
      await until("every process of npm start to exit", () => !groupAlive(pid), 30_000);
      expect(await refused(`${url}/webhooks/linear`)).toBe(true);
      expect(output()).toMatch(new RegExp(`"local runner stopped".*"signal":"${signal}"`));
    },
    150_000,
  );
});

/** `npm start` with arguments, run until it exits: its exit code and everything it printed. */
function npmStart(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    let output = "";
    const started = spawn("npm", ["start", "--silent", "--", ...args], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    });
    started.stdout?.on("data", (chunk) => {
      output += chunk;
    });
    started.stderr?.on("data", (chunk) => {
      output += chunk;
    });
    started.once("exit", (code) => resolve({ code, output }));
  });
}

describe("npm start -- --org <org>", () => {
  it("reads config/<org>.json, and names that file when it is missing", async () => {
    const { code, output } = await npmStart(["--org", "nosuch-org"], {
      QATECH_API_KEY: "qa-key-123456",
      LINEAR_API_KEY: "lin_api_123456",
      LINEAR_WEBHOOK_SECRET: "lin_wh_123456",
      PORT: "0",
    });

    expect(code).toBe(1);
    expect(output).toContain(
      `qa-ticket local runner could not start: No config for org "nosuch-org": create ${join(ROOT, "config", "nosuch-org.json")}`,
    );
  }, 90_000);
});
