#!/usr/bin/env node
// The CDK app: one stack per organisation, `npx cdk deploy -c org=<name>` with config/<name>.json.
// cdk-nag's AwsSolutions checks run on every synth; an unacknowledged finding fails it (see SECURITY.md).
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { ConfigFileError, checkDeployable, loadOrgConfig, stackName } from "../lib/config";
import { QaTicketStack } from "../lib/qa-ticket-stack";

const app = new App();
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
try {
  const org = app.node.tryGetContext("org");
  if (typeof org !== "string" || org === "") {
    throw new ConfigFileError(
      "Say which organisation to deploy: npx cdk deploy -c org=<name> (reads config/<name>.json)",
    );
  }
  const config = loadOrgConfig(org);
  // The example's placeholder project is refused for every org but `example` (CI synthesizes that one).
  checkDeployable(config);
  new QaTicketStack(app, stackName(config.org), {
    config,
    description: `qa-ticket for ${config.org}: labelled tickets become QA.tech conversations`,
    webhookReservedConcurrency: webhookReservedConcurrency(
      app.node.tryGetContext("webhookReservedConcurrency"),
    ),
  });
} catch (error) {
  // A wrong config is the operator's to fix: one line that names it, not a stack trace.
  if (!(error instanceof ConfigFileError)) throw error;
  console.error(`qa-ticket: ${error.message}`);
  process.exit(1);
}

/**
 * `-c webhookReservedConcurrency=<n>|unreserved`; default 10. Use "unreserved" in an account whose Lambda
 * concurrency quota is too small to reserve any (new accounts start at 10).
 */
function webhookReservedConcurrency(value: unknown): number | "unreserved" | undefined {
  if (value === undefined) return undefined;
  if (value === "unreserved") return value;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new ConfigFileError(
      `-c webhookReservedConcurrency must be a positive integer or "unreserved", got "${value}"`,
    );
  }
  return n;
}
