// `npm run setup -- --org <name>`: one command from a clone to a working deployment (tools/setup/setup.ts).
// Interactive on a terminal; with --yes, CI=true or no terminal it never asks (flags and variables answer).
// Credentials come only from the environment or the masked prompt, never from flags (shell history, ps).
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { redactSecrets } from "../functions/shared/platform/redact";
import { defaultAwsClients } from "../tools/ops/aws";
import { cdkCliDeployer } from "../tools/setup/deployer";
import { MissingInputError, noPrompter, terminalPrompter } from "../tools/setup/prompt";
import { openInBrowser, runSetup, SETUP_STEPS, SetupError } from "../tools/setup/setup";

const USAGE = `npm run setup -- --org <name> [options]

  --org <name>               organisation: config/<name>.json, stack QaTicket-<name> (required)
  --dry-run                  show what would change, change nothing
  --yes                      never ask (also when CI=true or stdin is not a terminal)
  --deploy                   deploy even if the stack already runs this config (after an upgrade)
  --qatech-project <proj_>   QA.tech project of a new config        (QATECH_PROJECT_SHORT_ID)
  --alarm-email <address>    where alarms go                         (ALARM_EMAIL)
  --no-linear                a new config does not serve Linear
  --jira-base-url <url>      a new config serves this Jira site      (JIRA_BASE_URL)
  --jira-project-keys <A,B>  Jira projects to act on                 (JIRA_PROJECT_KEYS)
  --jira-webhook-done        the Jira webhook was created by hand with the printed values
  --qatech-api-url, --linear-api-url   other service URLs for a new config (QATECH_API_URL, LINEAR_API_URL)

Credentials, from the environment or asked for (masked): QATECH_API_KEY, LINEAR_API_KEY, JIRA_EMAIL,
JIRA_API_TOKEN; with linear.agent.enabled, the Linear OAuth app's LINEAR_AGENT_CLIENT_SECRET and
LINEAR_AGENT_WEBHOOK_SECRET (Linear shows them in the app's settings only). Webhook signing secrets are
generated and stored by setup. On a terminal, setup opens the agent's install link in the browser.
AWS: the usual AWS_PROFILE / AWS_REGION / credentials, as for cdk deploy (aws sso login where it applies).
A .env file is not read: it belongs to the local runner, and its keys must not replace the deployed ones.

Steps, in order (each changes only what differs, so a re-run changes nothing):
${SETUP_STEPS.map((s, i) => `  ${i + 1}. ${s.label}: ${s.does}\n     --dry-run: ${s.dryRun}`).join("\n")}`;

async function main(): Promise<number> {
  // A .env here is the local runner's (npm start): its keys, loaded silently, would replace the deployed
  // ones in Secrets Manager. Setup takes only what the shell exports, and says why a .env is ignored.
  if (existsSync(".env"))
    console.error(
      "setup does not read .env (the local runner's file for npm start): export the variables setup should use",
    );
  const { values } = parseArgs({
    options: {
      org: { type: "string" },
      "dry-run": { type: "boolean" },
      yes: { type: "boolean" },
      deploy: { type: "boolean" },
      "qatech-project": { type: "string" },
      "alarm-email": { type: "string" },
      "no-linear": { type: "boolean" },
      "jira-base-url": { type: "string" },
      "jira-project-keys": { type: "string" },
      "jira-webhook-done": { type: "boolean" },
      "qatech-api-url": { type: "string" },
      "linear-api-url": { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help || !values.org) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const env = process.env;
  const interactive = !values.yes && env.CI !== "true" && process.stdin.isTTY === true;
  const keys = values["jira-project-keys"] ?? env.JIRA_PROJECT_KEYS;
  try {
    const result = await runSetup({
      org: values.org,
      clients: defaultAwsClients(),
      deployer: cdkCliDeployer(),
      prompter: interactive ? terminalPrompter(process.stdin, process.stdout) : noPrompter(),
      print: (line) => console.log(line),
      dryRun: values["dry-run"],
      deploy: values.deploy,
      interactive,
      openUrl: openInBrowser,
      answers: {
        qatechProject: values["qatech-project"] ?? env.QATECH_PROJECT_SHORT_ID,
        alarmEmail: values["alarm-email"] ?? env.ALARM_EMAIL,
        linear: values["no-linear"] ? false : undefined,
        jiraBaseUrl: values["jira-base-url"] ?? env.JIRA_BASE_URL,
        jiraProjectKeys: keys
          ? keys
              .split(",")
              .map((k) => k.trim())
              .filter(Boolean)
          : undefined,
        jiraWebhookDone: values["jira-webhook-done"],
        qatechApiUrl: values["qatech-api-url"] ?? env.QATECH_API_URL,
        linearApiUrl: values["linear-api-url"] ?? env.LINEAR_API_URL,
        qatechApiKey: env.QATECH_API_KEY || undefined,
        linearApiKey: env.LINEAR_API_KEY || undefined,
        jiraEmail: env.JIRA_EMAIL || undefined,
        jiraApiToken: env.JIRA_API_TOKEN || undefined,
        linearAgentClientSecret: env.LINEAR_AGENT_CLIENT_SECRET || undefined,
        linearAgentWebhookSecret: env.LINEAR_AGENT_WEBHOOK_SECRET || undefined,
      },
    });
    return result.ok ? 0 : 1;
  } catch (error) {
    if (error instanceof SetupError || error instanceof MissingInputError) {
      console.error(`setup stopped: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    // Typically AWS (no credentials or region, a missing permission) or a failed cdk deploy.
    console.error(`setup stopped: ${error.name}: ${redactSecrets(error.message)}`);
    process.exit(1);
  },
);
