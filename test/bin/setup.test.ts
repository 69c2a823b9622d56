import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { SETUP_STEPS } from "../../tools/setup/setup";

const ROOT = join(__dirname, "..", "..");

/**
 * SECURITY.md: setup takes keys only from the environment or a masked prompt, never from flags (they would
 * stay in shell history and process lists). A key given as a flag is refused before anything runs, and the
 * refusal does not repeat its value.
 */
describe("npm run setup, given a key as a flag", () => {
  it.each([["--qatech-api-key", "qa-secret-123"], ["--qatech-api-key=qa-secret-123"]])(
    "refuses %s without echoing the value",
    (...flag) => {
      const run = spawnSync(process.execPath, ["--import", "tsx", "bin/setup.ts", "--org", "acme", ...flag], {
        cwd: ROOT,
        encoding: "utf8",
        // No AWS anywhere: the refusal must come before any client is used.
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", CI: "true" },
        timeout: 60_000,
      });
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/Unknown option '--qatech-api-key'/);
      expect(`${run.stdout}${run.stderr}`).not.toMatch(/secret/);
    },
    60_000,
  );
});

describe("npm run setup -- --help", () => {
  it("lists the steps from SETUP_STEPS, in order, with what each does in a dry run", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", "bin/setup.ts", "--help"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", CI: "true" },
      timeout: 60_000,
    });
    expect(run.status).toBe(0);
    const listed = SETUP_STEPS.map((s, i) => run.stdout.indexOf(`  ${i + 1}. ${s.label}: ${s.does}`));
    expect(listed.every((at) => at >= 0)).toBe(true);
    expect([...listed].sort((a, b) => a - b)).toEqual(listed);
    for (const s of SETUP_STEPS) expect(run.stdout).toContain(`--dry-run: ${s.dryRun}`);
  }, 60_000);
});
