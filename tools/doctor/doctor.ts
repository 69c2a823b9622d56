import { compilePreviewAllowlist } from "../../functions/shared/domain/preview-url";
import type { TrackerName } from "../../functions/shared/domain/ticket";
import { redactSecrets } from "../../functions/shared/platform/redact";
import type { SecretName } from "../../functions/shared/platform/secrets";
import { TRACKER_CATALOG } from "../../functions/shared/trackers/catalog";
import { parseTokens } from "../../functions/shared/trackers/linear-agent/tokens";
import {
  checkDeployable,
  loadOrgConfig,
  type OrgConfig,
  secretId,
  servedTrackers,
  settingsHash,
  stackName,
  webhookUrlOutput,
} from "../../lib/config";
import {
  type AwsClients,
  awsAccessProblem,
  isUsable,
  readSecret,
  readStack,
  type SecretState,
  topicSubscriptions,
} from "../ops/aws";
import {
  type CheckResult,
  checkJira,
  checkLinear,
  checkLinearAppToken,
  checkQaTech,
  checkQaTechRuns,
  checkRouteProject,
  QATECH_RUNS_CHECK,
  routeProjects,
} from "../ops/credentials";
import { JIRA_EVENTS, JiraAdmin, JiraNotAdminError, jiraWebhookName } from "../ops/jira";
import { LINEAR_RESOURCE_TYPES, LinearAdmin, webhookLabel } from "../ops/linear";
import { probeWebhook } from "../ops/probe";

/** One line of the doctor's table. `warn` is worth a look but does not fail the run. */
export interface DoctorRow {
  check: string;
  status: "ok" | "FAIL" | "warn";
  detail: string;
  fix?: string;
}

export interface DoctorOptions {
  org: string;
  clients: AwsClients;
  /** Where config/<org>.json is; default the project's config/. */
  configDir?: string;
  /** Failed deliveries older than this are history, not trouble; default 24 hours. */
  failureWindowMs?: number;
  now?: () => number;
}

/**
 * The secrets a deployment of this config reads that someone has to fill (the marker key is the stack's own;
 * the Linear agent's token set is written by its install, and checked on its own row).
 */
export function neededSecrets(config: OrgConfig): SecretName[] {
  return [
    "QATECH_API_KEY",
    ...(config.linear.enabled ? (["LINEAR_API_KEY", "LINEAR_WEBHOOK_SECRET"] as const) : []),
    ...(config.linear.enabled && config.linear.agent.enabled
      ? (["LINEAR_AGENT_CLIENT_SECRET", "LINEAR_AGENT_WEBHOOK_SECRET"] as const)
      : []),
    ...(config.jira.enabled ? (["JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_WEBHOOK_SECRET"] as const) : []),
  ];
}

/**
 * Checks one organisation's deployment end to end and returns the table: config, stack, secrets, each
 * key, each webhook (and Linear's failed deliveries), a signed request to each endpoint, the alarm topic.
 * Later checks that need what an earlier one found missing say so instead of failing obscurely.
 */
export async function runDoctor(options: DoctorOptions): Promise<{ rows: DoctorRow[]; ok: boolean }> {
  const { org, clients } = options;
  const rows: DoctorRow[] = [];
  const add = (check: string, result: CheckResult | DoctorRow) => {
    if ("status" in result) rows.push(result);
    else
      rows.push(
        result.ok
          ? { check, status: "ok", detail: result.detail }
          : { check, status: "FAIL", detail: result.detail, fix: result.fix },
      );
  };
  // Rows carry peer text (error bodies, failed deliveries): every credential read or checked is redacted.
  const done = () => ({
    rows: rows.map((r) => ({
      ...r,
      detail: redactSecrets(r.detail),
      ...(r.fix ? { fix: redactSecrets(r.fix) } : {}),
    })),
    ok: rows.every((r) => r.status !== "FAIL"),
  });
  const setup = `npm run setup -- --org ${org}`;

  let config: OrgConfig;
  try {
    config = loadOrgConfig(org, options.configDir);
    checkDeployable(config);
    add("config", { ok: true, detail: `config/${org}.json is valid` });
  } catch (error) {
    add("config", { ok: false, detail: (error as Error).message, fix: `fix the file, or run ${setup}` });
    return done();
  }
  const trackers = servedTrackers(config);

  const aws = await awsAccessProblem(clients);
  if (aws) {
    add("AWS access", { ok: false, ...aws });
    // Every other check reads the stack or the stored secrets (the keys live only in Secrets Manager).
    for (const check of awsChecks(config, trackers))
      rows.push({ check, status: "warn", detail: "not checked: needs AWS access (above)" });
    return done();
  }

  const stack = await readStack(clients, org);
  if (!stack) {
    add("stack deployed", {
      ok: false,
      detail: `${stackName(org)} does not exist in this account and region`,
      fix: setup,
    });
    return done();
  }
  if (!isUsable(stack.status)) {
    add("stack deployed", {
      ok: false,
      detail: `${stackName(org)} is ${stack.status}`,
      fix: `npx cdk deploy -c org=${org} (see the stack's events in CloudFormation)`,
    });
  } else add("stack deployed", { ok: true, detail: `${stackName(org)} ${stack.status}` });
  const deployedHash = stack.outputs.SettingsHash;
  add(
    "stack matches config",
    deployedHash === settingsHash(config)
      ? { ok: true, detail: `settings ${deployedHash}` }
      : {
          ok: false,
          detail: deployedHash
            ? `the stack runs other settings (${deployedHash}) than config/${org}.json (${settingsHash(config)})`
            : "the stack predates settings hashes",
          fix: `npx cdk diff -c org=${org} && npx cdk deploy -c org=${org}`,
        },
  );

  const secrets = new Map<SecretName, SecretState>();
  const unset: string[] = [];
  for (const name of neededSecrets(config)) {
    const state = await readSecret(clients, org, name);
    secrets.set(name, state);
    if (state.kind !== "set")
      unset.push(
        `${secretId(org, name)} (${state.kind === "missing" ? "missing" : "still the placeholder"})`,
      );
  }
  add(
    "secrets set",
    unset.length
      ? { ok: false, detail: `not filled: ${unset.join(", ")}`, fix: setup }
      : { ok: true, detail: `${secrets.size} secrets filled` },
  );
  const value = (name: SecretName) => {
    const state = secrets.get(name);
    return state?.kind === "set" ? state.value : undefined;
  };
  const skip = (check: string, why: string) =>
    rows.push({ check, status: "warn", detail: `not checked: ${why}` });

  const qatechKey = value("QATECH_API_KEY");
  if (qatechKey) {
    const keyCheck = await checkQaTech(config.qatech.apiUrl, qatechKey, config.qatech.projectShortId);
    add("QA.tech key", keyCheck);
    // Every route's project, with the same key (a row each, named after its project).
    for (const route of routeProjects(config.routes ?? [], config.qatech.projectShortId)) {
      const check = `QA.tech project ${route.projectShortId}`;
      if (keyCheck.ok) add(check, await checkRouteProject(config.qatech.apiUrl, qatechKey, route));
      else skip(check, "the QA.tech key is refused (above)");
    }
    if (keyCheck.ok) rows.push(qatechRunsRow(await checkQaTechRuns(config.qatech.apiUrl, qatechKey)));
    else skip(QATECH_RUNS_CHECK, "the QA.tech key is refused (above)");
  } else {
    skip("QA.tech key", "the secret is not filled");
    skip(QATECH_RUNS_CHECK, "the secret is not filled");
  }

  const previews = previewPatternsRow(config);
  if (previews) rows.push(previews);
  if (config.linear.enabled) await linearChecks(config, stack.outputs, value, add, skip, options);
  if (trackers.includes("linear-agent")) await agentInstalled(config, stack.outputs, add, options);
  if (trackers.includes("linear-agent")) rows.push(oauthAppPrivate(config));
  if (config.jira.enabled) await jiraChecks(config, stack.outputs, value, add, skip);

  for (const tracker of trackers) {
    const url = stack.outputs[webhookUrlOutput(tracker)];
    const secret = value(TRACKER_CATALOG[tracker].signingSecret);
    const check = `${title(tracker)} endpoint answers`;
    if (!url || !secret) {
      skip(check, !url ? "the stack has no URL output for it" : "its signing secret is not filled");
      continue;
    }
    const answer = await probeWebhook(tracker, url, secret);
    if ("error" in answer)
      add(check, {
        ok: false,
        detail: `${url} could not be reached: ${answer.error}`,
        fix: "check the stack (API Gateway) in the AWS console",
      });
    else if (answer.status === 200)
      add(check, { ok: true, detail: `signed test request: 200 ${answer.outcome ?? ""}`.trim() });
    else
      add(check, {
        ok: false,
        detail: `signed test request: ${answer.status} ${answer.outcome ?? ""}`.trim(),
        fix:
          answer.status !== 401
            ? "read the webhook function's log (CloudWatch Logs)"
            : TRACKER_CATALOG[tracker].kind === "agent"
              ? // Setup cannot give Linear's OAuth app another secret: the stored one must be the app's.
                `the function checks another secret than the one stored: wait 5 minutes (secrets are cached) and run doctor again; ${secretId(org, TRACKER_CATALOG[tracker].signingSecret)} must hold the OAuth app's webhook signing secret`
              : `the function checks another secret than the one stored: wait 5 minutes (secrets are cached), then ${setup}`,
      });
  }

  const topic = stack.outputs.AlarmTopicArn;
  if (!topic) skip("alarms reach someone", "the stack has no AlarmTopicArn output (deploy this version)");
  else {
    const { confirmed, pending } = await topicSubscriptions(clients, topic);
    add(
      "alarms reach someone",
      confirmed.length
        ? { ok: true, detail: `confirmed: ${confirmed.join(", ")}` }
        : {
            ok: false,
            detail: pending.length
              ? `awaiting confirmation: ${pending.join(", ")}`
              : "the alarm topic has no subscription",
            fix: pending.length
              ? "open the email from AWS Notifications and click Confirm subscription"
              : `set alarmEmail in config/${org}.json and deploy`,
          },
    );
  }
  return done();
}

/** The checks that need AWS, in the order runDoctor makes them. */
function awsChecks(config: OrgConfig, trackers: TrackerName[]): string[] {
  return [
    "stack deployed",
    "stack matches config",
    "secrets set",
    "QA.tech key",
    QATECH_RUNS_CHECK,
    ...(config.linear.enabled ? ["Linear key", "Linear webhook", "Linear failed deliveries"] : []),
    ...(trackers.includes("linear-agent") ? ["Linear agent installed"] : []),
    ...(config.jira.enabled ? ["Jira credentials", "Jira webhook"] : []),
    ...trackers.map((tracker) => `${title(tracker)} endpoint answers`),
    "alarms reach someone",
  ];
}

function title(tracker: TrackerName): string {
  return TRACKER_CATALOG[tracker].displayName;
}

type Add = (check: string, result: CheckResult | DoctorRow) => void;
type Skip = (check: string, why: string) => void;

async function linearChecks(
  config: OrgConfig,
  outputs: Record<string, string>,
  value: (name: SecretName) => string | undefined,
  add: Add,
  skip: Skip,
  options: DoctorOptions,
): Promise<void> {
  const key = value("LINEAR_API_KEY");
  if (!key) return skip("Linear key", "the secret is not filled");
  const keyCheck = await checkLinear(config.linear.apiUrl, key);
  add("Linear key", keyCheck);
  if (!keyCheck.ok) return;
  const url = outputs.LinearWebhookUrl;
  if (!keyCheck.viewer?.admin)
    return skip("Linear webhook", "the key's user is not a workspace admin, who alone may read webhooks");
  const admin = new LinearAdmin(config.linear.apiUrl, key);
  const webhook = await admin.findWebhook(url, webhookLabel(config.org));
  const fix = `npm run setup -- --org ${config.org}`;
  if (!webhook) return add("Linear webhook", { ok: false, detail: `no webhook points at ${url}`, fix });
  const problems: string[] = [];
  if (!webhook.enabled) problems.push("it is disabled (Linear disables a webhook that keeps failing)");
  if (webhook.url !== url) problems.push(`it points at ${webhook.url}, not ${url}`);
  const missing = LINEAR_RESOURCE_TYPES.filter((t) => !webhook.resourceTypes.includes(t));
  if (missing.length) problems.push(`it does not subscribe to ${missing.join(", ")}`);
  const stored = value("LINEAR_WEBHOOK_SECRET");
  if (webhook.secret && stored && webhook.secret !== stored)
    problems.push("its signing secret is not the stored one");
  add(
    "Linear webhook",
    problems.length
      ? { ok: false, detail: problems.join("; "), fix }
      : {
          ok: true,
          detail: `enabled, ${webhook.resourceTypes.join(" + ")}, ${webhook.secret ? "same secret as stored" : "secret not shown by Linear"}`,
        },
  );
  const failures = await admin.webhookFailures(webhook.id);
  if (failures === null)
    return skip("Linear failed deliveries", "Linear did not answer the query for them (an internal field)");
  const since = (options.now ?? Date.now)() - (options.failureWindowMs ?? 24 * 3600_000);
  const recent = failures.filter((f) => Date.parse(f.createdAt) >= since);
  if (recent.length === 0)
    return add("Linear failed deliveries", { ok: true, detail: "none in the last 24 hours" });
  const last = recent.at(-1);
  const deliveries = new Set(recent.map((f) => f.executionId)).size;
  add("Linear failed deliveries", {
    ok: false,
    detail:
      `${recent.length} failed attempts of ${deliveries} deliveries in 24 h; last: ${last?.httpStatus ?? "no response"} ${(last?.responseOrError ?? "").slice(0, 120)}`.trim(),
    fix: "401: the webhook's secret is not the stored one (run setup); 5xx or timeouts: read the webhook function's log",
  });
}

/**
 * Whether the Linear agent is installed: the token set its install stored, and, while its access token is
 * unexpired, who Linear says it is. An expired token is fine: the first call refreshes it. Doctor never
 * refreshes: each refresh spends Linear's refresh token, and only the refresher may (docs/linear-agent.md, Tokens).
 */
async function agentInstalled(
  config: OrgConfig,
  outputs: Record<string, string>,
  add: Add,
  options: DoctorOptions,
): Promise<void> {
  const check = "Linear agent installed";
  const { org, clients } = options;
  const id = secretId(org, "LINEAR_AGENT_TOKENS");
  const install = `open ${outputs.LinearInstallUrl ?? "the stack's LinearInstallUrl output"} as a Linear workspace admin and press Authorize`;
  const read = async () => {
    const state = await readSecret(clients, org, "LINEAR_AGENT_TOKENS");
    return { state, tokens: state.kind === "set" ? parseTokens(state.value) : null };
  };
  const { state, tokens } = await read();
  if (state.kind === "missing")
    return add(check, {
      ok: false,
      detail: `${id} does not exist (the stack was deployed without the agent)`,
      fix: `npm run setup -- --org ${org}`,
    });
  if (!tokens)
    return add(check, {
      ok: false,
      detail:
        state.kind === "placeholder"
          ? `not installed: ${id} still holds the stack's placeholder`
          : `${id} holds no token set (edited by hand?)`,
      fix: install,
    });
  const now = (options.now ?? Date.now)();
  if (!(Date.parse(tokens.expiresAt) > now))
    return add(check, {
      ok: true,
      detail: `installed in ${tokens.workspace}; the access token expired at ${tokens.expiresAt} and is refreshed on first use`,
    });
  const ask = (accessToken: string) =>
    checkLinearAppToken(config.linear.apiUrl, accessToken, `install again: ${install}`);
  let result = await ask(tokens.accessToken);
  if (!result.ok) {
    // The refresher may have replaced the token meanwhile (Linear may revoke the old one): ask with the new one.
    const { tokens: newer } = await read();
    if (newer && newer.accessToken !== tokens.accessToken && Date.parse(newer.expiresAt) > now)
      result = await ask(newer.accessToken);
  }
  add(check, result.ok ? { ok: true, detail: `installed: ${result.detail}` } : result);
}

/**
 * The row on whether the QA.tech key may read test runs: a key that may not is a warning (with its fix), not a
 * failure: tickets still get the reply, and their verdict says "Could not verify".
 */
export function qatechRunsRow(result: CheckResult): DoctorRow {
  return result.ok
    ? { check: QATECH_RUNS_CHECK, status: "ok", detail: result.detail }
    : { check: QATECH_RUNS_CHECK, status: "warn", detail: result.detail, fix: result.fix };
}

/**
 * The row on the preview allowlists (qatech.previewUrls and every route's), when there are any: a pattern
 * under a shared hosting domain (`https://*.vercel.app`) lets QA.tech's test agent, with the project's
 * test credentials, go to anybody's deployment there, so it is a warning naming the pattern.
 */
export function previewPatternsRow(config: OrgConfig): DoctorRow | undefined {
  const lists = [
    { where: "qatech.previewUrls", urls: config.qatech.previewUrls },
    ...(config.routes ?? []).map((r) => ({ where: `route "${r.name}"`, urls: r.previewUrls ?? {} })),
  ];
  const patterns = lists.flatMap(({ where, urls }) =>
    Object.entries(urls).flatMap(([app, list]) =>
      compilePreviewAllowlist(list).map((p) => ({ where: `${where} ${app}`, pattern: p })),
    ),
  );
  if (patterns.length === 0) return undefined;
  const shared = patterns.filter(({ pattern }) => pattern.warning);
  const check = "Preview URL patterns";
  if (shared.length === 0)
    return {
      check,
      status: "ok",
      detail: `${patterns.length} pattern(s), each on hosts only the organisation deploys to`,
    };
  return {
    check,
    status: "warn",
    detail: shared.map(({ where, pattern }) => `${where} ${pattern.pattern}: ${pattern.warning}`).join("; "),
    fix: "use a pattern on the organisation's own domain, such as https://pr-{pr}.preview.acme.dev (a preview domain set up at the host)",
  };
}

/**
 * Whether the Linear OAuth app is private (installable only by the workspace that owns it). Linear's API does
 * not tell a deployment this: `applicationInfo` has no distribution, and `oauthApplication` answers only for
 * apps an app created itself (SDK 98 schema). So the row says it cannot tell, why a public app is harmless
 * here (the install callback accepts only the API key's workspace), and where a person sees the setting.
 */
export function oauthAppPrivate(config: OrgConfig): DoctorRow {
  return {
    check: "Linear OAuth app private",
    status: "ok",
    detail:
      "cannot be read through Linear's API; check by hand in Linear: Settings -> API -> OAuth applications -> " +
      `the app with client ID ${config.linear.agent.clientId ?? "(unset)"}: leave it private (not public). ` +
      "Either way this deployment installs only in its Linear API key's workspace and refuses any other",
  };
}

async function jiraChecks(
  config: OrgConfig,
  outputs: Record<string, string>,
  value: (name: SecretName) => string | undefined,
  add: Add,
  skip: Skip,
): Promise<void> {
  const email = value("JIRA_EMAIL");
  const token = value("JIRA_API_TOKEN");
  const baseUrl = config.jira.baseUrl ?? "";
  if (!email || !token) return skip("Jira credentials", "the secrets are not filled");
  const check = await checkJira(baseUrl, email, token);
  add("Jira credentials", check);
  if (!check.ok) return;
  const url = outputs.JiraWebhookUrl;
  try {
    const webhook = await new JiraAdmin(baseUrl, email, token).findWebhook(url, jiraWebhookName(config.org));
    const fix = `npm run setup -- --org ${config.org}`;
    if (!webhook) return add("Jira webhook", { ok: false, detail: `no admin webhook points at ${url}`, fix });
    const missing = JIRA_EVENTS.filter((e) => !webhook.events.includes(e));
    const problems = [
      ...(webhook.enabled ? [] : ["it is disabled"]),
      ...(webhook.url === url ? [] : [`it points at ${webhook.url}`]),
      ...(missing.length ? [`it lacks the events ${missing.join(", ")}`] : []),
    ];
    add(
      "Jira webhook",
      problems.length
        ? { ok: false, detail: problems.join("; "), fix }
        : { ok: true, detail: `enabled, ${webhook.events.length} events` },
    );
  } catch (error) {
    if (error instanceof JiraNotAdminError)
      return skip(
        "Jira webhook",
        "the account is not a Jira admin; the signed test request below still checks the endpoint",
      );
    throw error;
  }
}

/** The table as doctor prints it: one row per check, the fix under a failed one. */
export function formatDoctorTable(rows: DoctorRow[]): string {
  const width = Math.max(...rows.map((r) => r.check.length));
  const lines = rows.map((r) => {
    const mark = r.status === "ok" ? "ok  " : r.status === "warn" ? "warn" : "FAIL";
    const line = `${mark}  ${r.check.padEnd(width)}  ${r.detail}`;
    return r.fix ? `${line}\n${" ".repeat(width + 8)}fix: ${r.fix}` : line;
  });
  return lines.join("\n");
}
