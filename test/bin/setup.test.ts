import { spawnSync } from "node:child_process";
import { join } from "node:path";

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
