import { spawn } from "node:child_process";
import { join } from "node:path";

/** How setup deploys the stack; tests inject one that deploys nothing. */
export interface Deployer {
  /** Creates or updates the organisation's stack (`cdk deploy`). */
  deploy(org: string): Promise<void>;
  /**
   * Adopts secrets retained from an earlier deployment of the same org into a new stack (`cdk import`),
   * mapping each secret's logical id to its ARN, before the first deploy creates the rest.
   */
  importSecrets(org: string, mapping: Record<string, { Id: string }>): Promise<void>;
}

function run(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    // The project's own CDK CLI (devDependency aws-cdk), in the project root where cdk.json is.
    const child = spawn("npx", ["cdk", ...args], { cwd: join(__dirname, "..", ".."), stdio: "inherit" });
    child.once("error", reject);
    child.once("exit", (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`npx cdk ${args[0]} failed (${signal ?? `exit ${code}`})`)),
    );
  });
}

/** Deploys with the CDK CLI, as the README's manual steps do, showing its progress. */
export function cdkCliDeployer(): Deployer {
  return {
    deploy: (org) => run(["deploy", "-c", `org=${org}`, "--require-approval", "never", "--no-notices"]),
    importSecrets: (org, mapping) =>
      run([
        "import",
        "-c",
        `org=${org}`,
        "--resource-mapping-inline",
        JSON.stringify(mapping),
        "--force",
        "--no-notices",
      ]),
  };
}
