import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const ROOT = join(__dirname, "..", "..");
const TSX = pathToFileURL(require.resolve("tsx")).href;

let home: string;
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), "qa-ticket-no-aws-"));
  writeFileSync(join(home, "empty"), "");
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

/**
 * A machine where AWS is not set up: no region, no credentials, empty AWS files, and no instance metadata
 * endpoint to try (so the SDK answers at once instead of waiting on a network timeout).
 */
function run(script: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  const result = spawnSync(process.execPath, ["--import", TSX, join(ROOT, script), ...args], {
    cwd: options.cwd ?? ROOT,
    encoding: "utf8",
    env: {
      PATH: process.env.PATH ?? "",
      HOME: home,
      CI: "true",
      AWS_SHARED_CREDENTIALS_FILE: join(home, "empty"),
      AWS_CONFIG_FILE: join(home, "empty"),
      AWS_EC2_METADATA_DISABLED: "true",
      ...options.env,
    },
    timeout: 90_000,
  });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

describe("setup and doctor on a machine without AWS set up", () => {
  it("setup --dry-run names the missing region and credentials and how to set them, exit 1", () => {
    const { status, out } = run("bin/setup.ts", ["--org", "acme", "--dry-run", "--yes"]);

    expect(status).toBe(1);
    expect(out).toMatch(/no AWS region/);
    expect(out).toMatch(/no AWS credentials/);
    expect(out).toMatch(/AWS_REGION/);
    expect(out).toMatch(/AWS_PROFILE/);
    expect(out).toMatch(/aws sso login/);
    expect(out).toMatch(/cdk deploy/);
    expect(out).not.toMatch(/Error: Region is missing|setup stopped: CredentialsProviderError/);
  }, 90_000);

  it("setup names the profile it was given when that profile has no credentials", () => {
    const { status, out } = run("bin/setup.ts", ["--org", "acme", "--dry-run", "--yes"], {
      env: { AWS_PROFILE: "prod", AWS_REGION: "eu-west-1" },
    });

    expect(status).toBe(1);
    expect(out).not.toMatch(/no AWS region/);
    expect(out).toMatch(/no AWS credentials for AWS_PROFILE=prod/);
    expect(out).toMatch(/aws sso login --profile prod/);
  }, 90_000);

  it("doctor checks the config, lists every AWS-dependent check as not checked, exit 1", () => {
    const { status, out } = run("bin/doctor.ts", ["--org", "example"]);

    expect(status).toBe(1);
    expect(out).toMatch(/ok\s+config\s+config\/example\.json is valid/);
    expect(out).toMatch(/FAIL\s+AWS access\s+.*no AWS region.*no AWS credentials/);
    expect(out).toMatch(/fix: .*AWS_REGION.*AWS_PROFILE.*aws sso login/);
    for (const check of [
      "stack deployed",
      "secrets set",
      "QA.tech key",
      "Linear key",
      "Linear endpoint answers",
      "alarms reach someone",
    ])
      expect(out).toMatch(new RegExp(`warn\\s+${check}\\s+not checked: needs AWS`));
    expect(out).not.toMatch(/doctor stopped/);
  }, 90_000);

  it("setup does not read a .env in the current folder, and says so", () => {
    const cwd = mkdtempSync(join(tmpdir(), "qa-ticket-dotenv-"));
    try {
      // A local runner's .env: were setup to load it, its region would be used and its keys stored.
      writeFileSync(join(cwd, ".env"), "AWS_REGION=eu-west-1\nQATECH_API_KEY=local-runner-key-123\n");

      const { status, out } = run("bin/setup.ts", ["--org", "acme", "--dry-run", "--yes"], { cwd });

      expect(status).toBe(1);
      expect(out).toMatch(/setup does not read \.env/);
      expect(out).toMatch(/no AWS region/);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 90_000);
});
