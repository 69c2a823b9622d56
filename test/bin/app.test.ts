import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");

/** Runs the CDK app as `cdk synth -c org=<org>` does (the context in CDK_CONTEXT_JSON), with a config file. */
function synthWith(config: unknown): { status: number | null; stderr: string } {
  const org = `zz-test-${randomBytes(3).toString("hex")}`;
  const file = join(ROOT, "config", `${org}.json`);
  writeFileSync(file, JSON.stringify(config));
  try {
    const run = spawnSync(process.execPath, ["--import", "tsx", "bin/app.ts"], {
      cwd: ROOT,
      encoding: "utf8",
      env: {
        ...process.env,
        CDK_CONTEXT_JSON: JSON.stringify({ org }),
        CDK_OUTDIR: join(ROOT, "cdk.out", org),
      },
      timeout: 60_000,
    });
    return { status: run.status, stderr: run.stderr.replaceAll(org, "<org>") };
  } finally {
    rmSync(file, { force: true });
    rmSync(join(ROOT, "cdk.out", org), { recursive: true, force: true });
  }
}

describe("bin/app.ts on a config it cannot use", () => {
  it.each<[string, unknown, RegExp]>([
    [
      "the example's placeholder project",
      { qatech: { projectShortId: "proj_example" } },
      /still the example's placeholder "proj_example"/,
    ],
    [
      "a fractional number where a whole one belongs",
      { qatech: { maxConcurrency: 2.5 } },
      /qatech\.maxConcurrency must be a whole number/,
    ],
    ["no qatech block", { linear: { enabled: true } }, /qatech is required/],
    [
      "a log retention CloudWatch does not offer",
      { qatech: {}, logRetentionDays: 10 },
      /logRetentionDays must be one of CloudWatch's retention periods/,
    ],
  ])(
    "refuses %s with one line naming it, and exit status 1",
    (_what, config, message) => {
      const { status, stderr } = synthWith(config);

      expect(status).toBe(1);
      const lines = stderr
        .split("\n")
        .filter(
          (line) =>
            line.trim() &&
            !/NodeVersionSupportWarning|node >=22|AWS SDK|upgrade to node|a\.co\/|trace-warnings|To continue receiving|versions published|^\s*$/.test(
              line,
            ),
        );
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^qa-ticket: .*config\/<org>\.json: /);
      expect(lines[0]).toMatch(message);
    },
    90_000,
  );
});
