#!/usr/bin/env node
// The CDK app: one stack per organisation, `npx cdk deploy -c org=<name>` with config/<name>.json.
import { App } from "aws-cdk-lib";
import { loadOrgConfig } from "../lib/config";
import { QaTicketStack } from "../lib/qa-ticket-stack";

const app = new App();
const org = app.node.tryGetContext("org");
if (typeof org !== "string" || org === "") {
  throw new Error(
    "Say which organisation to deploy: npx cdk deploy -c org=<name> (reads config/<name>.json)",
  );
}
const config = loadOrgConfig(org);
new QaTicketStack(app, `QaTicket-${config.org}`, {
  config,
  description: `qa-ticket for ${config.org}: labelled tickets become QA.tech conversations`,
});
