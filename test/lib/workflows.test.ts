import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { ORG_NAME } from "../../lib/config";

const ROOT = join(__dirname, "..", "..");
const WORKFLOWS = join(ROOT, ".github", "workflows");
const ORGS_SCRIPT = join(ROOT, ".github", "scripts", "orgs.sh");
/** The file name the issue reported: `touch x` ran in the deploy job. */
const MALICIOUS = `acme;touch\${IFS}x;#`;
/** A GitHub expression as it is written in a workflow. */
const expr = (inner: string): string => `\${{ ${inner} }}`;

interface Step {
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
  if?: string;
}
interface Job {
  if?: string;
  needs?: string | string[];
  env?: Record<string, string>;
  strategy?: { matrix?: Record<string, unknown> };
  steps: Step[];
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  jobs: Record<string, Job>;
}

const workflowFiles = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));
const text = (file: string): string => readFileSync(join(WORKFLOWS, file), "utf8");
const workflow = (file: string): Workflow => parse(text(file)) as Workflow;
const steps = (file: string): Step[] => Object.values(workflow(file).jobs).flatMap((job) => job.steps);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "qa-ticket-workflows-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs orgs.sh on a config directory holding these files, from `dir` (where a `touch x` would land). */
function listOrgs(files: string[]): { status: number | null; stdout: string; stderr: string } {
  const config = join(dir, "config");
  mkdirSync(config, { recursive: true });
  for (const file of files) writeFileSync(join(config, file), "{}");
  const result = spawnSync("bash", [ORGS_SCRIPT, "config"], { cwd: dir, encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("GitHub workflows", () => {
  it("has the two workflows", () => {
    expect(workflowFiles.sort()).toEqual(["ci.yml", "deploy.yml"]);
  });

  it.each(workflowFiles)(
    "%s pins every third-party action by full commit SHA, its release in a comment",
    (file) => {
      const uses = steps(file).flatMap((step) => (step.uses ? [step.uses] : []));
      expect(uses.length).toBeGreaterThan(0);
      for (const action of uses.filter((u) => !u.startsWith("./"))) {
        expect(action).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
        const line = text(file)
          .split("\n")
          .find((l) => l.includes(`uses: ${action}`));
        expect(line).toMatch(/@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
      }
    },
  );

  it.each(workflowFiles)(
    "%s has no expression inside any run: (they reach a shell only through env)",
    (file) => {
      for (const step of steps(file)) {
        if (step.run !== undefined) expect(step.run).not.toContain(expr("").slice(0, 3));
      }
    },
  );

  it("CI runs on Node 24 (the Lambda runtime), 22 (.nvmrc) and 20.19 (the oldest supported)", () => {
    const ci = workflow("ci.yml");
    expect(ci.jobs.test.strategy?.matrix?.node).toEqual(["24", "22", "20.19"]);
    expect(readFileSync(join(ROOT, ".nvmrc"), "utf8").trim()).toBe("22");
  });

  it("deploys only a commit CI passed on: after CI succeeded on a push to main, or by hand after checking", () => {
    const ci = workflow("ci.yml");
    const deploy = workflow("deploy.yml");
    expect(Object.keys(deploy.on).sort()).toEqual(["workflow_dispatch", "workflow_run"]);
    expect(deploy.on.workflow_run).toEqual({
      workflows: [ci.name],
      types: ["completed"],
      branches: ["main"],
    });
    const gate = deploy.jobs.orgs.if ?? "";
    expect(gate).toContain("github.event.workflow_run.conclusion == 'success'");
    expect(gate).toContain("github.event.workflow_run.event == 'push'");
    expect(gate).toContain("github.event.workflow_run.head_repository.full_name == github.repository");
    expect(gate).toContain("github.ref == 'refs/heads/main'");
    expect(deploy.jobs.deploy.needs).toBe("orgs");
    // Dispatched by hand: CI's successful runs on that commit are looked up first.
    const check = deploy.jobs.orgs.steps.find((s) => s.if === "github.event_name == 'workflow_dispatch'");
    expect(check?.run).toMatch(/actions\/workflows\/ci\.yml\/runs\?head_sha=\$SHA&status=success/);
    // The commit CI tested is the one checked out, not whatever main has become since.
    expect(deploy.jobs.orgs.steps[0].env?.SHA).toBe(expr("github.event.workflow_run.head_sha || github.sha"));
    for (const [name, job] of Object.entries(deploy.jobs)) {
      const checkouts = job.steps.filter((s) => s.uses?.startsWith("actions/checkout@"));
      expect({ name, refs: checkouts.map((s) => s.with?.ref) }).toEqual({
        name,
        refs: [name === "orgs" ? expr("steps.sha.outputs.sha") : expr("needs.orgs.outputs.sha")],
      });
    }
  });

  it("lists the orgs with orgs.sh, whose regex is the CLI's (lib/config.ts ORG_NAME)", () => {
    const script = readFileSync(ORGS_SCRIPT, "utf8");
    expect(script).toContain(`ORG_NAME='${ORG_NAME.source}'`);
    const list = workflow("deploy.yml").jobs.orgs.steps.find((s) => s.run?.includes("orgs.sh"));
    expect(list?.run).toContain("orgs=$(bash .github/scripts/orgs.sh config)");
  });

  it("passes the org to the deploy's shell only through env, always quoted", () => {
    const deploy = workflow("deploy.yml").jobs.deploy;
    expect(deploy.env?.ORG).toBe(expr("matrix.org"));
    const runs = deploy.steps.flatMap((s) => (s.run ? [s.run] : []));
    expect(runs.join("\n")).toContain("$ORG");
    for (const run of runs) expect(run.replace(/"[^"]*"/g, '""')).not.toContain("$ORG");
  });

  it("a malicious org name runs nothing in the deploy job's steps", () => {
    // Emulates the runner: ${{ }} is replaced by its value before bash sees the text, env is set; npx
    // and npm are stubs that record their arguments.
    const bin = join(dir, "bin");
    mkdirSync(bin);
    for (const tool of ["npx", "npm"]) {
      writeFileSync(join(bin, tool), `#!/usr/bin/env bash\nprintf '%s\\n' "$@" >> "${dir}/args"\n`);
      chmodSync(join(bin, tool), 0o755);
    }
    const deploy = workflow("deploy.yml").jobs.deploy;
    const expand = (s: string): string => s.replace(/\$\{\{\s*matrix\.org\s*\}\}/g, MALICIOUS);
    const env = Object.fromEntries(Object.entries(deploy.env ?? {}).map(([k, v]) => [k, expand(v)]));
    for (const step of deploy.steps.filter((s) => s.run)) {
      const result = spawnSync("bash", ["-e", "-c", expand(step.run ?? "")], {
        cwd: dir,
        env: { ...process.env, ...env, PATH: `${bin}:${process.env.PATH}` },
        encoding: "utf8",
      });
      expect(result.status).toBe(0);
    }
    expect(existsSync(join(dir, "x"))).toBe(false);
    expect(readFileSync(join(dir, "args"), "utf8")).toContain(`org=${MALICIOUS}\n`);
  });
});

describe(".github/scripts/orgs.sh", () => {
  it("lists the organisations' config files, sorted, without example and schema", () => {
    const result = listOrgs([
      "globex.json",
      "acme.json",
      "a-1.json",
      "example.json",
      "schema.json",
      "notes.md",
    ]);
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(["a-1", "acme", "globex"]);
  });

  it("lists nothing as []", () => {
    const result = listOrgs(["example.json", "schema.json"]);
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe("[]");
  });

  it("fails loudly on a file name that is not an org name, and runs nothing of it", () => {
    const result = listOrgs(["acme.json", `${MALICIOUS}.json`]);
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("::error::");
    expect(result.stderr).toContain("must be lowercase letters, digits and dashes");
    expect(existsSync(join(dir, "x"))).toBe(false);
    expect(existsSync(join(dir, "config", "x"))).toBe(false);
  });

  it.each([
    ["acme", true],
    ["a", true],
    ["0rg-2", true],
    ["a".repeat(31), true],
    ["a".repeat(32), false],
    ["-acme", false],
    ["Acme", false],
    ["ac_me", false],
    ["ac me", false],
    ["acmé", false],
    ["acme\nx", false],
    ["$(touch x)", false],
    ["`touch x`", false],
    ["", false],
  ])("accepts %j exactly when the CLI does (%s)", (name, accepted) => {
    expect(ORG_NAME.test(name)).toBe(accepted);
    const result = listOrgs([`${name}.json`]);
    expect(result.status === 0).toBe(accepted);
    if (accepted) expect(JSON.parse(result.stdout)).toEqual([name]);
    expect(existsSync(join(dir, "x"))).toBe(false);
  });
});
