import { execFile } from "node:child_process";
import {
  accessSync,
  constants,
  existsSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { promisify } from "node:util";

/**
 * The headless Chromium the browser tests drive with playwright-core. Playwright's own browser download
 * cannot run on a machine with no network beyond the npm registry, so the browser is the machine's when it has
 * one, else the Chromium build that ships inside the npm package @sparticuz/chromium
 * (https://github.com/Sparticuz/chromium#readme): `npm ci` is then all the set-up the tests need.
 */

/** Browsers Playwright's library can drive, by the names Debian, Ubuntu, Fedora and Chrome's packages give them. */
export const BROWSER_NAMES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];
const MAC_CHROME = "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome";

/** Where the browser comes from: a file on this machine, or the build inside @sparticuz/chromium. */
export type BrowserSource =
  | { kind: "file"; path: string; from: "CHROMIUM_PATH" | "PATH" | "macOS" }
  | { kind: "bundled" };

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Which browser to use: CHROMIUM_PATH, else the first of BROWSER_NAMES on the PATH, else Chrome on macOS, else
 * the one inside @sparticuz/chromium. Looks the PATH up itself (no `which`, which a minimal image may lack).
 */
export function findBrowser(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): BrowserSource {
  if (env.CHROMIUM_PATH) return { kind: "file", path: env.CHROMIUM_PATH, from: "CHROMIUM_PATH" };
  const dirs = (env.PATH ?? "").split(delimiter).filter((dir) => dir !== "");
  for (const name of BROWSER_NAMES) {
    for (const dir of dirs) {
      const path = join(dir, name);
      if (isExecutable(path)) return { kind: "file", path, from: "PATH" };
    }
  }
  if (platform === "darwin" && existsSync(MAC_CHROME))
    return { kind: "file", path: MAC_CHROME, from: "macOS" };
  return { kind: "bundled" };
}

/**
 * The path of the Chromium inside @sparticuz/chromium, unpacked on first use (a few seconds) into a folder of
 * the temporary directory named after the package's version, and reused after that.
 */
export async function bundledChromium(): Promise<string> {
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(
      `No Chromium or Chrome found, and the one inside @sparticuz/chromium is built for Linux x64 only (this is ${process.platform} ${process.arch}): ` +
        "install Chromium or Chrome, or set CHROMIUM_PATH, then run the tests again.",
    );
  }
  // Its exports map hides package.json: the package's folder is two up from its CommonJS entry (build/cjs/).
  const main = require.resolve("@sparticuz/chromium");
  const { version } = JSON.parse(readFileSync(join(dirname(main), "..", "..", "package.json"), "utf8")) as {
    version: string;
  };
  const cache = join(tmpdir(), `qa-ticket-chromium-${version}`);
  const binary = join(cache, "chromium");
  if (existsSync(binary)) {
    // The temporary directory may be shared: run only a browser this user unpacked.
    if (statSync(cache).uid !== process.getuid?.()) throw new Error(`${cache} belongs to another user`);
    return binary;
  }

  // The package unpacks into os.tmpdir() and takes any `chromium` already there as done. Unpacked into a
  // folder of our own (its TMPDIR, in a child process so ours is untouched) and then renamed into place in one
  // step, a run stopped halfway or two test runs at once never leave or use a half-written browser.
  const staging = mkdtempSync(join(tmpdir(), `qa-ticket-chromium-${version}-unpacking-`));
  try {
    const script = "require(process.argv[1]).executablePath().then((p) => process.stdout.write(p))";
    const { stdout } = await promisify(execFile)(process.execPath, ["-e", script, main], {
      env: { ...process.env, TMPDIR: staging },
    });
    if (stdout !== join(staging, "chromium")) throw new Error(`@sparticuz/chromium unpacked to ${stdout}`);
    try {
      renameSync(staging, cache);
    } catch (error) {
      // Another run renamed its copy first: use that one.
      if (!existsSync(binary)) throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return binary;
}

/** The browser's executable: findBrowser's answer, with the bundled one unpacked when that is the answer. */
export async function chromiumExecutable(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const source = findBrowser(env);
  return source.kind === "file" ? source.path : bundledChromium();
}

/**
 * Flags for a headless browser that only talks to the simulators: no sandbox (tests may run as root), no GPU,
 * and none of the background traffic to Google's services. Not @sparticuz/chromium's own `args`: those are
 * tuned for AWS Lambda and turn the same-origin policy off (--disable-web-security), which would let pages pass
 * here that fail in a user's browser; its build runs with these, as Playwright launches it.
 */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
