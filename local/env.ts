import { createHmac } from "node:crypto";
import type { TrackerName } from "../functions/shared/domain/ticket";
import { ConfigError } from "../functions/shared/platform/errors";
import { parseSettings, type Settings } from "../functions/shared/platform/settings-schema";
import { TRACKER_CATALOG, TRACKER_NAMES } from "../functions/shared/trackers/catalog";
import { servedTrackers } from "../lib/config";
import { CONFIG_VARIABLE, readConfigFile } from "./config-file";

/** The variables each tracker needs on the local runner; a tracker is on when any of its variables is set. */
function trackerVariables(tracker: TrackerName): readonly string[] {
  return TRACKER_CATALOG[tracker].localVariables;
}

/**
 * The local runner's variables for each setting (docs/configuration.md's table). The adapter only moves values into the
 * settings' shape; the settings schema checks them, and its messages are given back with the variable.
 */
const VARIABLES: Record<string, string> = {
  "qatech.apiUrl": "QATECH_API_URL",
  "qatech.projectShortId": "QATECH_PROJECT_SHORT_ID",
  "qatech.applicationOverrides": "QATECH_APPLICATION_OVERRIDES",
  "qatech.previewUrls": "QATECH_PREVIEW_URLS",
  "qatech.instruction": "QATECH_INSTRUCTION",
  "qatech.maxConcurrency": "QATECH_MAX_CONCURRENCY",
  "qatech.changeReview": "CHANGE_REVIEW",
  "qatech.gitlabHosts": "GITLAB_HOSTS",
  "comments.replyMode": "REPLY_MODE",
  "comments.followUpPrefix": "FOLLOW_UP_PREFIX",
  "labels.testing": "LABEL_TESTING",
  "labels.tested": "LABEL_TESTED",
  "labels.testFailed": "LABEL_TEST_FAILED",
  "labels.unverified": "LABEL_UNVERIFIED",
  "labels.removeTrigger": "LABEL_REMOVE_TRIGGER",
  "linear.triggerLabel": "TRIGGER_LABEL_LINEAR",
  "linear.apiUrl": "LINEAR_API_URL",
  "linear.agent.clientId": "LINEAR_AGENT_CLIENT_ID",
  "linear.agent.sessionOnLabel": "LINEAR_AGENT_SESSION_ON_LABEL",
  "linear.agent.authorizeUrl": "LINEAR_OAUTH_AUTHORIZE_URL",
  "jira.triggerLabel": "TRIGGER_LABEL_JIRA",
  "jira.baseUrl": "JIRA_BASE_URL",
  "jira.siteUrl": "JIRA_SITE_URL",
  "jira.projectKeys": "JIRA_PROJECT_KEYS",
  "linear.moves": "LINEAR_MOVES",
  "jira.moves": "JIRA_MOVES",
  routes: "ROUTES",
  replyTimeoutMinutes: "REPLY_TIMEOUT_SECONDS",
  "pollSchedule.minWaitSeconds": "POLL_MIN_WAIT_SECONDS",
  "pollSchedule.fraction": "POLL_FRACTION",
  "pollSchedule.maxWaitSeconds": "POLL_MAX_WAIT_SECONDS",
};

export interface LocalSettings {
  settings: Settings;
  trackers: TrackerName[];
  waitScale: number;
  /** The config file the settings start from (QA_TICKET_CONFIG, or `npm start -- --org <org>`), if any. */
  configFile?: string;
}

/** A number as typed in a variable; anything else stays as it is, for the schema to refuse by name. */
function numeric(value: string): unknown {
  const n = Number(value);
  return value.trim() !== "" && Number.isFinite(n) ? n : value;
}

/** "true" or "false" as a boolean; anything else stays as it is, for the schema to refuse by name. */
function boolean(value: string): unknown {
  return value === "true" ? true : value === "false" ? false : value;
}

/** JSON as typed in a variable; anything else stays as it is, for the schema to refuse by name. */
function json(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** A comma-separated list, each item trimmed, empty items dropped. */
function list(value: string): string[] {
  return value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}

/**
 * The settings the local runner's environment describes, on top of `base` (a config file's settings) when
 * given; otherwise unset variables take the settings' defaults and `trackers` says which are enabled.
 */
function settingsFromEnv(
  env: NodeJS.ProcessEnv,
  trackers: TrackerName[],
  base?: { settings: Settings; file: string },
): Settings {
  const raw: Record<string, Record<string, unknown> | unknown> = base ? structuredClone(base.settings) : {};
  const put = (path: string, value: unknown) => {
    const keys = path.split(".");
    let at: Record<string, unknown> = raw;
    for (const key of keys.slice(0, -1)) {
      at[key] = { ...(at[key] as object) };
      at = at[key] as Record<string, unknown>;
    }
    at[keys[keys.length - 1]] = value;
  };
  const transform: Record<string, (value: string) => unknown> = {
    "qatech.applicationOverrides": json,
    "qatech.previewUrls": json,
    "linear.moves": json,
    "jira.moves": json,
    routes: json,
    "qatech.maxConcurrency": numeric,
    "qatech.gitlabHosts": list,
    "labels.removeTrigger": boolean,
    "linear.agent.sessionOnLabel": boolean,
    "jira.projectKeys": list,
    replyTimeoutMinutes: (value) => {
      const seconds = numeric(value);
      return typeof seconds === "number" ? seconds / 60 : value;
    },
    "pollSchedule.minWaitSeconds": numeric,
    "pollSchedule.fraction": numeric,
    "pollSchedule.maxWaitSeconds": numeric,
  };
  for (const [path, variable] of Object.entries(VARIABLES)) {
    const value = env[variable]?.trim();
    if (value) put(path, (transform[path] ?? String)(value));
  }
  // With a config file, which trackers are enabled is the file's to say.
  if (!base)
    for (const tracker of TRACKER_NAMES)
      put(`${TRACKER_CATALOG[tracker].settingsKey}.enabled`, trackers.includes(tracker));
  try {
    return parseSettings(raw, base ? `${base.file} with the local environment` : "local environment");
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Name the variable next to each setting the operator has to fix (with a file: each variable that is set,
    // as the file alone was valid).
    const named = Object.entries(VARIABLES)
      .filter(([, variable]) => !base || env[variable]?.trim())
      .reduce(
        (message, [path, variable]) => message.replaceAll(`${path} `, `${path} (${variable}) `),
        error.message,
      );
    throw new ConfigError(named);
  }
}

/** The value at a dotted settings path, e.g. `jira.baseUrl`. */
function settingAt(settings: Settings, path: string): unknown {
  return path
    .split(".")
    .reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key], settings);
}

/** The runner's variables that are set, and so override the config file's value of their setting. */
export function overridingVariables(env: NodeJS.ProcessEnv): string[] {
  return Object.values(VARIABLES).filter((variable) => env[variable]?.trim());
}

/** Checks the local runner's variables up front, so a missing or wrong one is named at start, not mid-run. */
export function checkLocalEnv(env: NodeJS.ProcessEnv): LocalSettings {
  const set = (name: string) => Boolean(env[name]?.trim());
  const configFile = env[CONFIG_VARIABLE]?.trim();
  if (configFile) {
    const fromFile = fromConfigFile(env, configFile);
    return { ...fromFile, waitScale: checkWaitScale(env), configFile };
  }
  const trackers = TRACKER_NAMES.filter((t) => trackerVariables(t).some(set));
  const needed: TrackerName[] = trackers.length ? trackers : ["linear"];
  const missing = ["QATECH_API_KEY", ...needed.flatMap(trackerVariables)].filter((name) => !set(name));
  if (missing.length) {
    const them = missing.length > 1 ? "them" : "it";
    throw new ConfigError(`Missing ${missing.join(", ")}: set ${them} in the environment or .env`);
  }
  const waitScale = checkWaitScale(env);
  return { settings: settingsFromEnv(env, trackers), trackers, waitScale };
}

/** WAIT_SCALE, checked: a factor on every wait, above 0 and at most 1. */
function checkWaitScale(env: NodeJS.ProcessEnv): number {
  const waitScale = Number(env.WAIT_SCALE ?? "1");
  if (!Number.isFinite(waitScale) || waitScale <= 0 || waitScale > 1) {
    throw new ConfigError(`WAIT_SCALE must be a number above 0 and at most 1, got "${env.WAIT_SCALE}"`);
  }
  return waitScale;
}

/**
 * The settings of a config file with the variables on top: the file must be valid on its own (the stack's
 * loader checks it, naming the file and the field), and says which trackers are enabled; each enabled tracker
 * needs its secrets in the environment (the stack keeps them in Secrets Manager), named at start if missing.
 */
function fromConfigFile(env: NodeJS.ProcessEnv, file: string): Omit<LocalSettings, "waitScale"> {
  const { org: _org, ...fileSettings } = readConfigFile(file);
  const settings = settingsFromEnv(env, [], { settings: fileSettings, file });
  const trackers = servedTrackers({ org: "local", ...settings });
  const byVariable = Object.fromEntries(Object.entries(VARIABLES).map(([path, name]) => [name, path]));
  // A tracker's variable that stands for a setting (JIRA_BASE_URL, LINEAR_AGENT_CLIENT_ID) may come from the file.
  const missing = [
    "QATECH_API_KEY",
    ...trackers.flatMap(trackerVariables).filter((name) => {
      const path = byVariable[name];
      return !path || settingAt(settings, path) === undefined;
    }),
  ].filter((name) => !env[name]?.trim());
  if (missing.length) {
    const them = missing.length > 1 ? "them" : "it";
    const enabled = trackers.map((t) => TRACKER_CATALOG[t].displayName).join(", ");
    throw new ConfigError(
      `Missing ${missing.join(", ")}: set ${them} in the environment or .env (${file} enables ${enabled})`,
    );
  }
  return { settings, trackers };
}

/**
 * The key that signs comment markers, when MARKER_KEY is not set: derived from the QA.tech key, so it stays
 * the same across restarts of the runner (threads started earlier are still recognised) without one more
 * variable to set. The stack generates a key of its own instead.
 */
export function localMarkerKey(env: NodeJS.ProcessEnv): string {
  return (
    env.MARKER_KEY?.trim() ||
    createHmac("sha256", env.QATECH_API_KEY ?? "")
      .update("qa-ticket local marker key")
      .digest("hex")
  );
}
