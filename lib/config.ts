import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { TrackerName } from "../functions/shared/domain/ticket";
import { ConfigError } from "../functions/shared/platform/errors";
import { ORG_VARIABLE } from "../functions/shared/platform/metrics";
import type { SecretName } from "../functions/shared/platform/secrets";
import { SETTINGS_VARIABLE } from "../functions/shared/platform/settings";
import { parseSettings, type Settings } from "../functions/shared/platform/settings-schema";
import { TRACKER_CATALOG } from "../functions/shared/trackers/catalog";

/**
 * One organisation's deployment: its name and its settings (everything that is not secret), read from
 * `config/<org>.json` and validated at synth by the one settings schema (functions/shared/platform/settings.ts).
 */
export interface OrgConfig extends Settings {
  /** Organisation name from `-c org=<name>`; names the stack and the secrets. */
  org: string;
}

/** The stack of an organisation: bin/app.ts deploys it under this name, setup and doctor read it. */
export function stackName(org: string): string {
  return `QaTicket-${org}`;
}

/**
 * A secret of the organisation's stack: a credential (SecretName), or the Linear agent's token set, which no
 * function reads with getSecret (trackers/linear-agent/token-store.ts reads and writes it) but setup adopts after a
 * destroy and doctor reads to see whether the agent is installed.
 */
export type StackSecret = SecretName | "LINEAR_AGENT_TOKENS";

/** A secret's name in Secrets Manager (`qa-ticket/<org>/<name>`): the stack creates it, setup and doctor read it. */
export function secretId(org: string, name: StackSecret): string {
  return `qa-ticket/${org}/${name.toLowerCase().replaceAll("_", "-")}`;
}

/** The trackers whose webhooks a deployment of this config serves (each has its route, function and alarm). */
export function servedTrackers(config: OrgConfig): TrackerName[] {
  return [
    ...(config.linear.enabled ? (["linear"] as const) : []),
    ...(config.linear.enabled && config.linear.agent.enabled ? (["linear-agent"] as const) : []),
    ...(config.jira.enabled ? (["jira"] as const) : []),
  ];
}

/** Each tracker's name in the stack: its webhook function is `<name>Webhook`, its URL the output `<name>WebhookUrl`. */
export const TRACKER_STACK_NAMES = Object.fromEntries(
  Object.entries(TRACKER_CATALOG).map(([tracker, facts]) => [tracker, facts.stackName]),
) as Record<TrackerName, string>;

/** The stack output holding the URL a tracker delivers its webhooks to. */
export function webhookUrlOutput(tracker: TrackerName): string {
  return `${TRACKER_STACK_NAMES[tracker]}WebhookUrl`;
}

/** A config file that cannot be used; the message names the file and the field. */
export class ConfigFileError extends Error {
  override name = "ConfigFileError";
}

/** What an org name may be: it names a file, a stack, secrets and a deploy job (.github/scripts/orgs.sh). */
export const ORG_NAME = /^[a-z0-9][a-z0-9-]{0,30}$/;

function checkOrgName(org: string): void {
  if (!ORG_NAME.test(org)) {
    throw new ConfigFileError(
      `org "${org}" must be lowercase letters, digits and dashes (at most 31 characters)`,
    );
  }
}

/** Validates a parsed config file; every error names the source and the field. */
export function parseOrgConfig(org: string, raw: unknown, source: string): OrgConfig {
  checkOrgName(org);
  try {
    return { org, ...parseSettings(raw, source) };
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigFileError(error.message);
    throw error;
  }
}

/** Reads and validates `config/<org>.json` (relative to `dir`). */
export function loadOrgConfig(org: string, dir = join(__dirname, "..", "config")): OrgConfig {
  checkOrgName(org);
  const source = join(dir, `${org}.json`);
  let text: string;
  try {
    text = readFileSync(source, "utf8");
  } catch {
    throw new ConfigFileError(`No config for org "${org}": create ${source} (copy config/example.json)`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigFileError(`${source}: is not valid JSON (${(error as Error).message})`);
  }
  return parseOrgConfig(org, raw, source);
}

/**
 * What every function's environment holds of the config: the validated settings, as one JSON value (without
 * where alarms go, which no function reads), and the organisation, which names its metrics.
 */
export function functionEnvironment(config: OrgConfig): Record<string, string> {
  const {
    org,
    $schema: _schema,
    $comment: _comment,
    alarmEmail: _email,
    alarmEndpoints: _endpoints,
    ...settings
  } = config;
  return { [SETTINGS_VARIABLE]: JSON.stringify(settings), [ORG_VARIABLE]: org };
}

/** The project the example config names: a placeholder that no real organisation's QA.tech knows. */
const PLACEHOLDER_PROJECT = "proj_example";

/**
 * Refuses a config that cannot serve a real organisation: one still naming the example's placeholder
 * project. Only `example` itself may (so `cdk synth -c org=example` keeps working offline, in CI).
 */
export function checkDeployable(config: OrgConfig): void {
  if (config.org !== "example" && config.qatech.projectShortId === PLACEHOLDER_PROJECT) {
    throw new ConfigFileError(
      `config/${config.org}.json: qatech.projectShortId is still the example's placeholder "${PLACEHOLDER_PROJECT}": ` +
        "set your QA.tech project (proj_...), or run npm run setup -- --org " +
        config.org,
    );
  }
}

/**
 * A digest of the settings a deployment runs with (the config with its defaults, the organisation
 * included). The stack outputs it; `doctor` compares it with the local config's to tell a stale stack.
 */
export function settingsHash(config: OrgConfig): string {
  const { $schema: _schema, $comment: _comment, ...settings } = config;
  return createHash("sha256").update(canonicalJson(settings)).digest("hex").slice(0, 16);
}

/** JSON with object keys sorted, so the same settings always give the same text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
