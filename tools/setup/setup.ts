import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { redactSecrets, registerSecret } from "../../functions/shared/platform/redact";
import type { SecretName } from "../../functions/shared/platform/secrets";
import { TRACKER_CATALOG } from "../../functions/shared/trackers/catalog";
import { parseTokens } from "../../functions/shared/trackers/linear-agent/tokens";
import {
  ConfigFileError,
  checkDeployable,
  loadOrgConfig,
  type OrgConfig,
  parseOrgConfig,
  type StackSecret,
  secretId,
  settingsHash,
  stackName,
  webhookUrlOutput,
} from "../../lib/config";
import { type DoctorRow, formatDoctorTable, neededSecrets, runDoctor } from "../doctor/doctor";
import {
  type AwsClients,
  awsAccessProblem,
  isUsable,
  readSecret,
  readStack,
  type SecretState,
  storeSecret,
} from "../ops/aws";
import {
  type CheckResult,
  checkJira,
  checkLinear,
  checkQaTech,
  checkQaTechRuns,
  checkRouteProject,
  newSigningSecret,
  routeProjects,
} from "../ops/credentials";
import { JIRA_EVENTS, JiraAdmin, JiraNotAdminError, jiraWebhookJql, jiraWebhookName } from "../ops/jira";
import { LINEAR_RESOURCE_TYPES, LinearAdmin, webhookLabel } from "../ops/linear";
import type { Deployer } from "./deployer";
import { secretLogicalIds } from "./import-mapping";
import type { Prompter } from "./prompt";

/** What setup may be told up front (flags and environment variables), so CI never has to be asked. */
export interface SetupAnswers {
  qatechProject?: string;
  alarmEmail?: string;
  /** Serve Linear (default yes for a new config). */
  linear?: boolean;
  /** Serve Jira with this site (a new config). */
  jiraBaseUrl?: string;
  jiraProjectKeys?: string[];
  /** Service URLs of a new config (default the real services; the simulators in tests). */
  qatechApiUrl?: string;
  linearApiUrl?: string;
  qatechApiKey?: string;
  linearApiKey?: string;
  jiraEmail?: string;
  jiraApiToken?: string;
  /** The Linear agent's OAuth app: its client secret and its webhook signing secret (Linear shows both). */
  linearAgentClientSecret?: string;
  linearAgentWebhookSecret?: string;
  /** The Jira webhook was created by hand with the values setup printed. */
  jiraWebhookDone?: boolean;
}

export interface SetupOptions {
  org: string;
  clients: AwsClients;
  deployer: Deployer;
  prompter: Prompter;
  answers: SetupAnswers;
  /** Each progress line, and what the operator must read. */
  print: (line: string) => void;
  /** Show what would change; change nothing. */
  dryRun?: boolean;
  /** Deploy even when the stack already runs this config (after an upgrade). */
  deploy?: boolean;
  /** Where config/<org>.json lives; default the project's config/. */
  configDir?: string;
  /**
   * Someone is at a terminal: setup may open the Linear agent's install link in the browser and wait for
   * them to authorize it. Default false (CI: the link is printed, doctor checks the install).
   */
  interactive?: boolean;
  /** Opens a link in the browser (interactive runs only); default openInBrowser. Tests pass their own. */
  openUrl?: (url: string) => void;
}

/** Setup stopped: the message names what is wrong and what to do. */
export class SetupError extends Error {
  override name = "SetupError";
}

/** What a run did: whether it ended well, how many things it changed, and the doctor's verdict. */
export interface SetupResult {
  ok: boolean;
  changes: string[];
  doctor?: { rows: DoctorRow[]; ok: boolean };
}

/** One step of setup, in the order they run: what it is called in the progress lines and in --help. */
export interface SetupStep {
  readonly id: string;
  /** The name each progress line gives it: `[n/9] <label>: <outcome>`. */
  readonly label: string;
  /** What it sees to. */
  readonly does: string;
  /** What it does under --dry-run. */
  readonly dryRun: string;
  /** Does it, reading what the earlier steps found from `run`; `report` prints its progress lines. */
  readonly run: (run: SetupRun, report: Report) => Promise<void>;
}

/** Setup's steps, in order: runSetup runs them from this table, numbers their lines by it, and --help lists it. */
export const SETUP_STEPS = [
  {
    id: "config",
    label: "config",
    does: "config/<org>.json: kept when valid, written from a few answers when missing",
    dryRun: "says whether it would write the file or add alarmEmail",
    run: configStep,
  },
  {
    id: "credentials",
    label: "credentials",
    does: "the API keys (environment, Secrets Manager or asked), each checked against its service; warns when QA.tech's key may not read test runs",
    dryRun: "checks them as usual (reads only)",
    run: credentialsStep,
  },
  {
    id: "stack",
    label: "stack",
    does: "cdk deploy when the stack is missing or runs other settings; kept secrets adopted first",
    dryRun: "says what it would import and deploy",
    run: stackStep,
  },
  {
    id: "secrets",
    label: "secrets",
    does: "the credentials into Secrets Manager, where the functions read them",
    dryRun: "says which it would store",
    run: secretsStep,
  },
  {
    id: "linear-webhook",
    label: "Linear webhook",
    does: "Linear's webhook, by API, with a stored signing secret",
    dryRun: "says whether it would create or update it",
    run: linearWebhookStep,
  },
  {
    id: "linear-labels",
    label: "Linear labels",
    does: "the trigger label and the config's lifecycle labels",
    dryRun: "says which it would create",
    run: linearLabelsStep,
  },
  {
    id: "linear-agent",
    label: "Linear agent",
    does: "the agent's OAuth app values, its two secrets, and the install link",
    dryRun: "says which secrets it would store",
    run: linearAgentStep,
  },
  {
    id: "jira-webhook",
    label: "Jira webhook",
    does: "Jira's admin webhook, by REST, or by hand with printed values",
    dryRun: "says what it would register or create",
    run: jiraWebhookStep,
  },
  {
    id: "doctor",
    label: "doctor",
    does: "the checks of npm run doctor, on what was set up",
    dryRun: "skipped; counts the changes to make",
    run: doctorStep,
  },
] as const satisfies readonly SetupStep[];

export type SetupStepId = (typeof SETUP_STEPS)[number]["id"];

/** The start of a step's progress lines, `[n/9] <label>` (tests match on it). */
export function stepPrefix(id: SetupStepId): string {
  const at = SETUP_STEPS.findIndex((s) => s.id === id);
  return `[${at + 1}/${SETUP_STEPS.length}] ${SETUP_STEPS[at].label}`;
}

/**
 * `npm run setup -- --org <name>`: from nothing (or from any earlier state) to a deployment that works,
 * one step per line. Every step first looks at what is there and changes only what differs, so a re-run
 * changes nothing; `dryRun` says what it would change. Credentials are checked before anything uses them.
 */
export async function runSetup(options: SetupOptions): Promise<SetupResult> {
  // Every credential setup was given is known to the redactor before any call; stored ones are registered
  // as read, asked ones as typed. Errors carry peer text (a refusal may echo our Authorization header).
  const { answers } = options;
  for (const value of [
    answers.qatechApiKey,
    answers.linearApiKey,
    answers.jiraApiToken,
    answers.linearAgentClientSecret,
    answers.linearAgentWebhookSecret,
  ])
    registerSecret(value);
  try {
    return await setupSteps(options);
  } catch (error) {
    if (error instanceof Error) error.message = redactSecrets(error.message);
    throw error;
  }
}

/** A run's state, filled in step by step: each step reads what the steps before it found. */
export class SetupRun {
  readonly changes: string[] = [];
  readonly configDir: string;
  config!: OrgConfig;
  /** The Linear agent is enabled (and Linear). */
  agent = false;
  /** Each stack secret as step 2 read it, updated as setup stores them. */
  readonly stored = new Map<StackSecret, SecretState>();
  stack: Awaited<ReturnType<typeof readStack>> = null;
  stackExisted = false;
  retained: Array<[StackSecret, Exclude<SecretState, { kind: "missing" }>]> = [];
  logicalIds: Record<string, string> = {};
  /** The credentials, given, stored or asked, once checked. */
  readonly values = new Map<SecretName, string>();
  result?: SetupResult;
  private admin?: LinearAdmin;

  constructor(readonly options: SetupOptions) {
    this.configDir = options.configDir ?? join(__dirname, "..", "..", "config");
  }

  /** Records a change; in a dry run, says it would make it. */
  change(what: string): string {
    this.changes.push(what);
    return this.options.dryRun ? `would ${what}` : what;
  }

  storedValue(name: StackSecret): string | undefined {
    const s = this.stored.get(name);
    return s?.kind === "set" ? s.value : undefined;
  }

  urlOf(key: string): string {
    return this.stack?.outputs[key] ?? `<${key} of the stack, once deployed>`;
  }

  /** Stores a secret unless it already holds the value; false when it did. */
  async put(name: SecretName, value: string, why = `store ${secretId(this.options.org, name)}`) {
    const { org, clients, dryRun } = this.options;
    if (this.storedValue(name) === value) return false;
    this.changes.push(why);
    if (!dryRun) await storeSecret(clients, org, name, value);
    this.stored.set(name, { kind: "set", arn: secretId(org, name), value });
    return true;
  }

  /** A signing secret: the stored one, or a new one stored before any tracker is given it. */
  async signingSecret(name: (typeof TRACKER_CATALOG)["linear" | "jira"]["signingSecret"]) {
    const existing = this.storedValue(name);
    if (existing) return { secret: existing, fresh: false };
    const secret = newSigningSecret();
    await this.put(name, secret, `generate and store ${secretId(this.options.org, name)}`);
    return { secret, fresh: true };
  }

  linearAdmin(): LinearAdmin {
    this.admin ??= new LinearAdmin(this.config.linear.apiUrl, this.values.get("LINEAR_API_KEY") ?? "");
    return this.admin;
  }
}

/** Prints one progress line of the step that runs it. */
export type Report = (outcome: string) => void;

async function setupSteps(options: SetupOptions): Promise<SetupResult> {
  const run = new SetupRun(options);
  // Numbered by the step, not by the line: a step may print two lines (the stack: adopt, then deploy).
  for (const step of SETUP_STEPS)
    await step.run(run, (outcome) => options.print(`${stepPrefix(step.id)}: ${outcome}`));
  return run.result ?? { ok: true, changes: run.changes };
}

/** 1. The config file: kept as it is when it exists, written from a few answers when it does not. */
async function configStep(run: SetupRun, report: Report): Promise<void> {
  run.config = await ensureConfig(
    run.options,
    run.configDir,
    (what) => report(run.change(what)),
    (what) => report(what),
  );
}

/** 2. Credentials: given, or already stored, or asked for; each checked before it is used or stored. */
async function credentialsStep(run: SetupRun, report: Report): Promise<void> {
  const { org, clients, prompter, answers } = run.options;
  const { config } = run;
  // AWS before anything reads a secret: a missing region or credentials named with their fix.
  const aws = await awsAccessProblem(clients);
  if (aws) throw new SetupError(`AWS: ${aws.detail}.\nFix: ${aws.fix}`);

  run.agent = config.linear.enabled && config.linear.agent.enabled;
  // The agent's token set too: setup never writes it (the install does), but adopts it after a destroy.
  for (const name of [
    ...neededSecrets(config),
    "MARKER_KEY" as const,
    ...(run.agent ? ["LINEAR_AGENT_TOKENS" as const] : []),
  ])
    run.stored.set(name, await readSecret(clients, org, name));
  run.stack = await readStack(clients, org);
  run.stackExisted = run.stack !== null;
  run.retained = [...run.stored.entries()].filter(
    (entry): entry is [StackSecret, Exclude<SecretState, { kind: "missing" }>] => entry[1].kind !== "missing",
  );
  // Each retained secret's logical id, from the tag CloudFormation gave it; synthesized when a tag is missing,
  // now, before any connection to a tracker is open (the synth holds the event loop for seconds).
  const untagged = run.retained.some(([, s]) => !s.logicalId);
  run.logicalIds = !run.stack && untagged ? secretLogicalIds(config) : {};
  const credential = async (
    name: SecretName,
    given: string | undefined,
    question: string,
    visible = false,
  ) => {
    const value =
      given ??
      run.storedValue(name) ??
      (visible ? await prompter.ask(question) : await prompter.secret(question));
    if (!visible) registerSecret(value);
    return value;
  };
  const { values } = run;
  const checks: string[] = [];
  const require = (what: string, result: CheckResult) => {
    if (!result.ok) throw new SetupError(`${what}: ${result.detail}. Fix: ${result.fix}`);
    checks.push(`${what} ${result.detail}`);
  };
  values.set("QATECH_API_KEY", await credential("QATECH_API_KEY", answers.qatechApiKey, "QA.tech API key:"));
  require("QA.tech", await checkQaTech(
    config.qatech.apiUrl,
    values.get("QATECH_API_KEY") ?? "",
    config.qatech.projectShortId,
  ));
  // Every route's project, with the same key: a route the key may not use would fail each ticket it takes.
  for (const route of routeProjects(config.routes ?? [], config.qatech.projectShortId))
    require("QA.tech", await checkRouteProject(
      config.qatech.apiUrl,
      values.get("QATECH_API_KEY") ?? "",
      route,
    ));
  // A key that may not read test runs still works (the verdict says "Could not verify"): a warning, not a stop.
  const runs = await checkQaTechRuns(config.qatech.apiUrl, values.get("QATECH_API_KEY") ?? "");
  checks.push(runs.ok ? runs.detail : `warning: ${runs.detail} (fix: ${runs.fix})`);
  if (config.linear.enabled) {
    values.set("LINEAR_API_KEY", await credential("LINEAR_API_KEY", answers.linearApiKey, "Linear API key:"));
    const result = await checkLinear(config.linear.apiUrl, values.get("LINEAR_API_KEY") ?? "");
    require("Linear", result);
    if (!result.viewer?.admin)
      throw new SetupError(
        `Linear: the key's user (${result.viewer?.name}) is not a workspace admin, and only admins may create ` +
          "webhooks. Fix: use an admin's API key (or make that user an admin), then run setup again",
      );
  }
  if (config.jira.enabled) {
    values.set("JIRA_EMAIL", await credential("JIRA_EMAIL", answers.jiraEmail, "Jira account email:", true));
    values.set("JIRA_API_TOKEN", await credential("JIRA_API_TOKEN", answers.jiraApiToken, "Jira API token:"));
    require("Jira", await checkJira(
      config.jira.baseUrl ?? "",
      values.get("JIRA_EMAIL") ?? "",
      values.get("JIRA_API_TOKEN") ?? "",
    ));
  }
  report(`checked: ${checks.join("; ")}`);
}

/** 3. The stack: deployed when missing or running other settings; retained secrets adopted first. */
async function stackStep(run: SetupRun, report: Report): Promise<void> {
  const { org, clients, dryRun } = run.options;
  const { stack, retained } = run;
  const current = stack && isUsable(stack.status) && stack.outputs.SettingsHash === settingsHash(run.config);
  if (current && !run.options.deploy) return report(`${stackName(org)} is up to date with the config`);
  if (!stack && retained.length) {
    // `cdk destroy` left these (RemovalPolicy.RETAIN); CloudFormation would refuse to create them again.
    const mapping: Record<string, { Id: string }> = {};
    for (const [name, state] of retained) {
      const logicalId = state.logicalId ?? run.logicalIds[secretId(org, name)];
      if (logicalId) mapping[logicalId] = { Id: state.arn };
    }
    report(
      run.change(`adopt ${Object.keys(mapping).length} secrets kept from an earlier deployment (cdk import)`),
    );
    if (!dryRun) await run.options.deployer.importSecrets(org, mapping);
  }
  report(run.change(`${stack ? "update" : "deploy"} ${stackName(org)} (cdk deploy)`));
  if (!dryRun) {
    await run.options.deployer.deploy(org);
    run.stack = await readStack(clients, org);
    if (!run.stack || !isUsable(run.stack.status))
      throw new SetupError(
        `${stackName(org)} is ${run.stack?.status ?? "missing"} after the deploy: see its events in CloudFormation`,
      );
  }
}

/** 4. The credentials into Secrets Manager, where the functions read them. */
async function secretsStep(run: SetupRun, report: Report): Promise<void> {
  const storedNow: string[] = [];
  for (const [name, value] of run.values)
    if (await run.put(name, value)) storedNow.push(secretId(run.options.org, name));
  report(
    storedNow.length
      ? `${run.options.dryRun ? "would store" : "stored"} ${storedNow.join(", ")}`
      : "unchanged",
  );
}

/** 5. Linear's webhook, by API: found by its URL (or label) and brought in line, else created. */
async function linearWebhookStep(run: SetupRun, report: Report): Promise<void> {
  const { org, dryRun } = run.options;
  if (!run.config.linear.enabled) return report("Linear is not enabled in the config");
  const url = run.urlOf(webhookUrlOutput("linear"));
  const admin = run.linearAdmin();
  const label = webhookLabel(org);
  const webhook = run.stack ? await admin.findWebhook(url, label) : null;
  const { secret, fresh } = await run.signingSecret(TRACKER_CATALOG.linear.signingSecret);
  const differs =
    webhook &&
    (fresh ||
      !webhook.enabled ||
      webhook.url !== url ||
      !LINEAR_RESOURCE_TYPES.every((t) => webhook.resourceTypes.includes(t)) ||
      // Linear shows the secret to admins; when it does not, the stored one is trusted (doctor probes it).
      (webhook.secret != null && webhook.secret !== secret));
  if (!webhook) {
    report(run.change(`create the webhook ${url} (Issue, Comment) with the stored signing secret`));
    if (!dryRun) await admin.createWebhook({ url, label, secret });
  } else if (differs) {
    report(run.change(`update webhook ${webhook.id}: ${url}, Issue + Comment, enabled, the stored secret`));
    if (!dryRun) await admin.updateWebhook(webhook.id, { url, label, secret });
  } else report(`unchanged (${webhook.id})`);
}

/** 6. The trigger label (any team's counts) and the lifecycle labels (workspace-wide) the config names. */
async function linearLabelsStep(run: SetupRun, report: Report): Promise<void> {
  const { config, changes } = run;
  if (!config.linear.enabled) return report("Linear is not enabled in the config");
  const admin = run.linearAdmin();
  const wanted: Array<[string, boolean]> = [
    [config.linear.triggerLabel, true],
    ...[config.labels.testing, config.labels.tested, config.labels.testFailed, config.labels.unverified]
      .filter((name): name is string => Boolean(name))
      .map((name): [string, boolean] => [name, false]),
  ];
  const created: string[] = [];
  for (const [name, anyTeam] of wanted) {
    if (await admin.hasLabel(name, anyTeam)) continue;
    changes.push(`create label "${name}"`);
    created.push(`"${name}"`);
    if (!run.options.dryRun) await admin.createLabel(name);
  }
  report(
    created.length ? `${run.options.dryRun ? "would create" : "created"} ${created.join(", ")}` : "unchanged",
  );
}

/** 7. The Linear agent: what to enter in its OAuth app, the two secrets only Linear's UI shows, the install. */
async function linearAgentStep(run: SetupRun, report: Report): Promise<void> {
  if (!run.agent) return report("not enabled in the config");
  await linearAgent(run.options, run.config, {
    deployed: Boolean(run.stack),
    newStack: !run.stackExisted && Boolean(run.stack),
    urlOf: (output) => run.urlOf(output),
    stored: (name) => run.storedValue(name),
    put: (name, value) => run.put(name, value),
    report,
  });
}

/** 8. Jira's admin webhook: by REST when the account is a Jira admin, else by hand with printed values. */
async function jiraWebhookStep(run: SetupRun, report: Report): Promise<void> {
  if (!run.config.jira.enabled) return report("Jira is not enabled in the config");
  await jiraWebhook(
    run.options,
    run.config,
    run.urlOf(webhookUrlOutput("jira")),
    run.values,
    (name) => run.signingSecret(name),
    report,
    (what) => run.change(what),
  );
}

/** 9. doctor: the same checks `npm run doctor` makes, on what was just set up. */
async function doctorStep(run: SetupRun, report: Report): Promise<void> {
  const { org, clients, dryRun } = run.options;
  const { changes } = run;
  if (dryRun) {
    report(
      `skipped in a dry run; ${changes.length ? `${changes.length} changes to make` : "nothing to change"}`,
    );
    run.result = { ok: true, changes };
    return;
  }
  const doctor = await runDoctor({ org, clients, configDir: run.configDir });
  report(doctor.ok ? "all checks pass" : "some checks fail (below)");
  run.options.print(formatDoctorTable(doctor.rows));
  run.result = { ok: doctor.ok, changes, doctor };
}

/**
 * The Linear agent's OAuth app is created by a person in Linear's settings, which show its client secret and
 * webhook signing secret only there: setup prints what to enter, stores the two secrets (given in the
 * environment, already stored, or typed masked), then sees to the install, which a workspace admin completes
 * in the browser. Not installed is not an error here: doctor, which runs last, fails on it with the link.
 */
async function linearAgent(
  options: SetupOptions,
  config: OrgConfig,
  ctx: {
    deployed: boolean;
    /** The stack was created by this run (after a destroy: new URLs the OAuth app does not know yet). */
    newStack: boolean;
    urlOf: (output: string) => string;
    stored: (name: StackSecret) => string | undefined;
    put: (name: SecretName, value: string) => Promise<boolean>;
    report: (outcome: string) => void;
  },
): Promise<void> {
  const { org, answers, prompter, dryRun } = options;
  const clientSecretId = secretId(org, "LINEAR_AGENT_CLIENT_SECRET");
  const webhookSecretId = secretId(org, TRACKER_CATALOG["linear-agent"].signingSecret);
  options.print(
    [
      "The Linear agent's OAuth app (in Linear: Settings -> API -> Applications; create it there, not public, if",
      "there is none) must have:",
      `  Client ID:     ${config.linear.agent.clientId} (linear.agent.clientId in config/${org}.json)`,
      `  Callback URL:  ${ctx.urlOf("LinearCallbackUrl")}`,
      '  Webhooks:      on, category "Agent session events"',
      `  Webhook URL:   ${ctx.urlOf(webhookUrlOutput("linear-agent"))}`,
      "Linear shows the app's client secret and webhook signing secret only there; setup stores them in",
      `${clientSecretId} and ${webhookSecretId}.`,
    ].join("\n"),
  );
  const secret = async (name: SecretName, given: string | undefined, question: string) => {
    const value = (given ?? ctx.stored(name) ?? (await prompter.secret(question))).trim();
    registerSecret(value);
    if (!value) throw new SetupError(`Linear agent: ${question.replace(/:$/, "")} is empty`);
    return value;
  };
  const clientSecret = await secret(
    "LINEAR_AGENT_CLIENT_SECRET",
    answers.linearAgentClientSecret,
    "The OAuth app's client secret (LINEAR_AGENT_CLIENT_SECRET):",
  );
  const webhookSecret = await secret(
    TRACKER_CATALOG["linear-agent"].signingSecret,
    answers.linearAgentWebhookSecret,
    "The OAuth app's webhook signing secret (LINEAR_AGENT_WEBHOOK_SECRET):",
  );
  const storedNow: string[] = [];
  if (await ctx.put("LINEAR_AGENT_CLIENT_SECRET", clientSecret)) storedNow.push(clientSecretId);
  if (await ctx.put(TRACKER_CATALOG["linear-agent"].signingSecret, webhookSecret))
    storedNow.push(webhookSecretId);
  const secrets = storedNow.length
    ? `${dryRun ? "would store" : "stored"} ${storedNow.join(", ")}`
    : "secrets unchanged";

  const installUrl = ctx.urlOf("LinearInstallUrl");
  if (!ctx.deployed) return ctx.report(`${secrets}; once deployed, install it: open ${installUrl}`);
  const installed = async () => {
    const state = await readSecret(options.clients, org, "LINEAR_AGENT_TOKENS");
    return state.kind === "set" ? parseTokens(state.value) : null;
  };
  // As step 2 read it (a deploy creates the secret as a placeholder, or adopts it as it was); read again only
  // after the admin says they authorized.
  const tokens = parseTokens(ctx.stored("LINEAR_AGENT_TOKENS"));
  // Kept from a destroyed stack, the install still holds; the app's URLs, in Linear's settings, do not.
  if (tokens)
    return ctx.report(
      `${secrets}; installed in ${tokens.workspace}${
        ctx.newStack
          ? "; the stack is new, and so are its URLs: enter the callback and webhook URLs above in the OAuth app"
          : ""
      }`,
    );
  options.print(
    `Install the agent: open ${installUrl} as a Linear workspace admin and press Authorize; the page you land on ` +
      "names the connected workspace.",
  );
  const notYet = `not installed yet: open ${installUrl} as a workspace admin (doctor checks it)`;
  if (dryRun || !options.interactive) return ctx.report(`${secrets}; ${notYet}`);
  // Best effort: the link is printed above whether or not a browser opens.
  (options.openUrl ?? openInBrowser)(installUrl);
  if (!(await prompter.confirm("Authorized in Linear?", false))) return ctx.report(`${secrets}; ${notYet}`);
  const after = await installed();
  ctx.report(
    after
      ? `${secrets}; installed in ${after.workspace}`
      : `${secrets}; the install stored no tokens: ${notYet}`,
  );
}

/** Opens a link in the system's browser, best effort: errors are ignored (the link is printed too). */
export function openInBrowser(url: string): void {
  const [command, args] =
    process.platform === "darwin"
      ? ["open", [url]]
      : process.platform === "win32"
        ? // start's first quoted argument is a window title, so an empty one goes first.
          ["cmd", ["/c", "start", '""', url]]
        : ["xdg-open", [url]];
  try {
    const child = spawn(command, args as string[], {
      detached: true,
      stdio: "ignore",
      // cmd parses its own command line: `start "" <url>` as written, not quoted again by Node.
      windowsVerbatimArguments: process.platform === "win32",
    });
    child.on("error", () => undefined);
    child.unref();
  } catch {
    // No opener on this system: the operator opens the printed link.
  }
}

async function jiraWebhook(
  options: SetupOptions,
  config: OrgConfig,
  url: string,
  values: Map<SecretName, string>,
  signingSecret: (
    name: typeof TRACKER_CATALOG.jira.signingSecret,
  ) => Promise<{ secret: string; fresh: boolean }>,
  report: (outcome: string) => void,
  change: (what: string) => string,
): Promise<void> {
  const { dryRun, org } = options;
  const name = jiraWebhookName(org);
  const jql = jiraWebhookJql(config.jira.projectKeys);
  const admin = new JiraAdmin(
    config.jira.baseUrl ?? "",
    values.get("JIRA_EMAIL") ?? "",
    values.get("JIRA_API_TOKEN") ?? "",
  );
  let existing: Awaited<ReturnType<JiraAdmin["findWebhook"]>>;
  try {
    existing = await admin.findWebhook(url, name);
  } catch (error) {
    if (!(error instanceof JiraNotAdminError)) throw error;
    // Not an admin: the values to paste into Jira settings -> System -> WebHooks, then a confirmation.
    const { secret, fresh } = await signingSecret(TRACKER_CATALOG.jira.signingSecret);
    const secretFile = secretId(org, TRACKER_CATALOG.jira.signingSecret);
    if (options.answers.jiraWebhookDone && !fresh)
      return report("created by hand (confirmed with --jira-webhook-done)");
    options.print(
      [
        "The Jira account is not a Jira admin, so the webhook cannot be registered by API. A Jira admin creates it in",
        "Jira settings -> System -> WebHooks -> Create a WebHook, with:",
        `  Name:    ${name}`,
        `  URL:     ${url}`,
        `  Events:  Issue: created, updated; Comment: created  (${JIRA_EVENTS.join(", ")})`,
        `  JQL:     ${jql || "(empty: all projects)"}`,
        // Shown once, by the run that generated and stored it: a later run (or a dry run, which stores nothing)
        // does not put a production secret into a terminal's scrollback or a CI log again.
        `  Secret:  ${fresh ? (dryRun ? "(generated and stored when run without --dry-run)" : secret) : "the stored one (shown only by the run that generated it)"}`,
        `Jira will not show the secret again; it is stored in Secrets Manager as ${secretFile}; read it with:`,
        `  aws secretsmanager get-secret-value --secret-id ${secretFile} --query SecretString --output text`,
      ].join("\n"),
    );
    if (dryRun) return report(change("create the Jira webhook by hand (values above)"));
    const confirmed =
      options.answers.jiraWebhookDone || (await options.prompter.confirm("Created it in Jira?", false));
    if (!confirmed)
      throw new SetupError(
        "Jira: create the webhook with the values above, then run setup again with --jira-webhook-done",
      );
    return report("created by hand, as confirmed");
  }
  const { secret, fresh } = await signingSecret(TRACKER_CATALOG.jira.signingSecret);
  const differs =
    existing &&
    (fresh ||
      !existing.enabled ||
      existing.url !== url ||
      existing.jql !== jql ||
      !JIRA_EVENTS.every((e) => existing.events.includes(e)));
  if (!existing) {
    report(change(`register the admin webhook ${url} with the stored secret`));
    if (!dryRun) await admin.putWebhook({ name, url, jql, secret });
  } else if (differs) {
    report(change(`update admin webhook ${existing.id}: ${url}, events, JQL, the stored secret`));
    if (!dryRun) await admin.putWebhook({ name, url, jql, secret }, existing.id);
  } else report(`unchanged (${existing.id})`);
}

/** Reads config/<org>.json, or writes it from the answers (asking only what has no good default). */
async function ensureConfig(
  options: SetupOptions,
  configDir: string,
  changed: (what: string) => void,
  unchanged: (what: string) => void,
): Promise<OrgConfig> {
  const { org, answers, prompter } = options;
  const file = join(configDir, `${org}.json`);
  const check = (config: OrgConfig) => {
    try {
      checkDeployable(config);
    } catch (error) {
      throw new SetupError((error as Error).message);
    }
    return config;
  };
  if (existsSync(file)) {
    let config: OrgConfig;
    try {
      config = loadOrgConfig(org, configDir);
    } catch (error) {
      if (error instanceof ConfigFileError) throw new SetupError(`${error.message}. Fix: edit ${file}`);
      throw error;
    }
    if (config.alarmEmail || !answers.alarmEmail) {
      unchanged(
        `config/${org}.json is valid${config.alarmEmail ? "" : " (no alarmEmail: alarms reach nobody)"}`,
      );
      return check(config);
    }
    // The one field setup adds to an existing file: where alarms go, when given.
    const raw = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    const next = check(parseOrgConfig(org, { ...raw, alarmEmail: answers.alarmEmail }, file));
    changed(`add alarmEmail to config/${org}.json`);
    if (!options.dryRun)
      writeFileSync(file, `${JSON.stringify({ ...raw, alarmEmail: answers.alarmEmail }, null, 2)}\n`);
    return next;
  }
  const project =
    answers.qatechProject ??
    (await prompter.ask("QA.tech project (proj_..., Enter for a project-scoped key's own):", ""));
  const linear =
    answers.linear ?? (answers.jiraBaseUrl ? false : await prompter.confirm("Serve Linear?", true));
  const jiraBaseUrl =
    answers.jiraBaseUrl ??
    ((await prompter.confirm("Serve Jira Cloud?", false))
      ? await prompter.ask("Jira site (https://<site>.atlassian.net):")
      : undefined);
  const alarmEmail = answers.alarmEmail ?? (await prompter.ask("Email for alarms (Enter for none):", ""));
  const raw: Record<string, unknown> = {
    $schema: "./schema.json",
    qatech: {
      ...(answers.qatechApiUrl ? { apiUrl: answers.qatechApiUrl } : {}),
      ...(project ? { projectShortId: project } : {}),
    },
    linear: { enabled: linear, ...(answers.linearApiUrl ? { apiUrl: answers.linearApiUrl } : {}) },
    jira: jiraBaseUrl
      ? { enabled: true, baseUrl: jiraBaseUrl, projectKeys: answers.jiraProjectKeys ?? [] }
      : { enabled: false },
    ...(alarmEmail ? { alarmEmail } : {}),
  };
  let config: OrgConfig;
  try {
    config = check(parseOrgConfig(org, raw, file));
  } catch (error) {
    if (error instanceof ConfigFileError) throw new SetupError(error.message);
    throw error;
  }
  changed(`write config/${org}.json`);
  if (!options.dryRun) writeFileSync(file, `${JSON.stringify(raw, null, 2)}\n`);
  return config;
}
