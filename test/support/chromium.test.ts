import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { bundledChromium, findBrowser } from "./chromium";

describe("the browser the browser tests drive", () => {
  let dirs: string[];

  beforeEach(() => {
    dirs = [
      mkdtempSync(join(tmpdir(), "qa-ticket-path-a-")),
      mkdtempSync(join(tmpdir(), "qa-ticket-path-b-")),
    ];
  });
  afterEach(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  function program(dir: string, name: string, mode = 0o755): string {
    const path = join(dir, name);
    writeFileSync(path, "#!/bin/sh\n");
    chmodSync(path, mode);
    return path;
  }

  it("is CHROMIUM_PATH when it is set, whatever the PATH holds", () => {
    program(dirs[0], "chromium");
    expect(findBrowser({ CHROMIUM_PATH: "/opt/chrome/chrome", PATH: dirs[0] }, "linux")).toEqual({
      kind: "file",
      path: "/opt/chrome/chrome",
      from: "CHROMIUM_PATH",
    });
  });

  it("is the first browser name found on the PATH, searched in the PATH's order", () => {
    program(dirs[0], "google-chrome");
    const chromiumBrowser = program(dirs[1], "chromium-browser");
    const env = { PATH: [dirs[0], dirs[1]].join(delimiter) };
    // chromium-browser comes before google-chrome in the list of names, whichever folder holds it.
    expect(findBrowser(env, "linux")).toEqual({ kind: "file", path: chromiumBrowser, from: "PATH" });
    const chromium = program(dirs[1], "chromium");
    expect(findBrowser(env, "linux")).toEqual({ kind: "file", path: chromium, from: "PATH" });
  });

  it("skips a file by a browser's name that cannot be run", () => {
    program(dirs[0], "chromium", 0o644);
    const chrome = program(dirs[1], "google-chrome");
    expect(findBrowser({ PATH: [dirs[0], dirs[1]].join(delimiter) }, "linux")).toEqual({
      kind: "file",
      path: chrome,
      from: "PATH",
    });
  });

  it("is the one inside @sparticuz/chromium when the machine has none", () => {
    expect(findBrowser({ PATH: dirs.join(delimiter) }, "linux")).toEqual({ kind: "bundled" });
    expect(findBrowser({}, "linux")).toEqual({ kind: "bundled" });
  });

  const linuxX64 = process.platform === "linux" && process.arch === "x64" ? it : it.skip;
  linuxX64(
    "the one inside @sparticuz/chromium unpacks to a Chromium that runs, and the same path is reused",
    async () => {
      const [first, second] = await Promise.all([bundledChromium(), bundledChromium()]);
      expect(second).toBe(first);
      expect(await bundledChromium()).toBe(first);
      const version = execFileSync(first, ["--version"], { encoding: "utf8" });
      expect(version).toMatch(/^(Headless )?Chromium \d+\./);
    },
    60_000,
  );
});
