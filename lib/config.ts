import { readFileSync } from "node:fs";
import { join } from "node:path";
import { elapsedBeforePoll } from "../functions/shared/domain/poll-schedule";
import { HOSTNAME } from "../functions/shared/platform/settings";

/**
 * One organisation's deployment settings: everything that is not secret. Lives in `config/<org>.json`,
 * is validated at synth, and reaches the functions as environment variables (see functionEnvironment).
 */
export interface OrgConfig {
  /** Organisation name from `-c org=<name>`; names the stack and the secrets. */
  org: string;
  qatech: {
    /** Default https://api.qa.tech. */
    apiUrl: string;
    /** Required when the QA.tech API key is organisation-scoped. */
    projectShortId?: string;
    applicationOverrides?: unknown[];
    /** What QA.tech is asked to do with each ticket; default: create and run a test, reply in markdown. */
    instruction?: string;
    /**
     * Most conversations being started at once: the maximum concurrency of the start queue's consumer, so
     * a bulk relabel waits its turn in the queue instead of flooding QA.tech. Default 4; 0 means no bound;
     * otherwise 2 to 1,000 (what an SQS event source allows).
     */
    maxConcurrency: number;
    /** Tickets linking a pull request get a change review: "auto" (default), "always" or "never". */
    changeReview: "auto" | "always" | "never";
    /**
     * Self-managed GitLab hosts (such as gitlab.acme.com) whose merge requests get a change review; pull
     * requests on github.com and merge requests on gitlab.com always do. Default none.
     */
    gitlabHosts: string[];
  };
  comments: {
    /** The reply goes in the acknowledgement's "thread" (default) or "replace"s its text. */
    replyMode: "thread" | "replace";
    /** What addresses a comment to the integration (Jira; optional in Linear threads). Default "@qa". */
    followUpPrefix: string;
  };
  /** Labels that show a run's state on a board; each optional. */
  labels: { testing?: string; tested?: string; testFailed?: string; removeTrigger: boolean };
  linear: { enabled: boolean; triggerLabel: string; apiUrl: string };
  jira: {
    enabled: boolean;
    triggerLabel: string;
    /** API base: the site, or https://api.atlassian.com/ex/jira/{cloudId} for scoped tokens. */
    baseUrl?: string;
    /** The site people open (`{siteUrl}/browse/KEY`); defaults to baseUrl. */
    siteUrl?: string;
    /** Only these projects trigger runs; empty = all. */
    projectKeys: string[];
  };
  /** How long to wait for QA.tech's reply before saying so on the ticket. Default 60. */
  replyTimeoutMinutes: number;
  pollSchedule: { minWaitSeconds: number; fraction: number; maxWaitSeconds: number };
  webhook: {
    /** Steady requests per second the endpoint accepts. Default 20. */
    rateLimitPerSecond: number;
    /** Burst above the steady rate. Default 40. */
    burst: number;
  };
  lambda: { architecture: "arm64" | "x86_64"; memorySizeMb: number };
  /** Log retention in days for every log group. Default 30. */
  logRetentionDays: number;
}

/** A config file that cannot be used; the message names the file and the field. */
export class ConfigFileError extends Error {
  override name = "ConfigFileError";
}

const ORG_NAME = /^[a-z0-9][a-z0-9-]{0,30}$/;
type Json = Record<string, unknown>;

class Reader {
  constructor(
    private readonly source: string,
    private readonly path: string,
    private readonly value: Json,
  ) {}

  private fail(field: string, problem: string): never {
    throw new ConfigFileError(`${this.source}: ${this.path}${field} ${problem}`);
  }

  /** Rejects keys we do not know, so a typo is an error instead of a silently ignored setting. */
  only(keys: string[]): this {
    for (const key of Object.keys(this.value)) {
      if (!keys.includes(key)) this.fail(key, `is not a known setting (known: ${keys.join(", ")})`);
    }
    return this;
  }

  section(key: string): Reader {
    const v = this.value[key] ?? {};
    if (typeof v !== "object" || Array.isArray(v) || v === null) this.fail(key, "must be an object");
    return new Reader(this.source, `${this.path}${key}.`, v as Json);
  }

  string(key: string, fallback?: string, pattern?: RegExp, hint?: string): string | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "string" || v.trim() === "") this.fail(key, "must be a non-empty string");
    if (pattern && !pattern.test(v)) this.fail(key, `must ${hint}, got "${v}"`);
    return v;
  }

  url(key: string, fallback?: string): string | undefined {
    const v = this.string(key, fallback);
    if (v === undefined) return undefined;
    let parsed: URL | undefined;
    try {
      parsed = new URL(v);
    } catch {
      // reported below
    }
    if (parsed?.protocol !== "https:") this.fail(key, `must be an https URL, got "${v}"`);
    return v.replace(/\/+$/, "");
  }

  number(key: string, fallback: number, min: number, max: number): number {
    const v = this.value[key];
    if (v === undefined) return fallback;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) {
      this.fail(key, `must be a number from ${min} to ${max}, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.value[key];
    if (v === undefined) return fallback;
    if (typeof v !== "boolean") this.fail(key, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  array(key: string): unknown[] | undefined {
    const v = this.value[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) this.fail(key, "must be an array");
    return v;
  }

  stringArray(key: string, pattern: RegExp, hint: string): string[] {
    const v = this.array(key) ?? [];
    v.forEach((item, i) => {
      if (typeof item !== "string" || !pattern.test(item)) this.fail(`${key}[${i}]`, `must ${hint}`);
    });
    return v as string[];
  }

  check(ok: boolean, field: string, problem: string): void {
    if (!ok) this.fail(field, problem);
  }
}

function checkOrgName(org: string): void {
  if (!ORG_NAME.test(org)) {
    throw new ConfigFileError(
      `org "${org}" must be lowercase letters, digits and dashes (at most 31 characters)`,
    );
  }
}

/**
 * Most polls one execution may make: each is about 9 history events (Wait, Task, Choice) and a Standard
 * execution's history stops at 25,000; the rest is room for retries, the start and the comment.
 */
export const MAX_POLLS = 2_000;

/** Validates a parsed config file; every error names the source and the field. */
export function parseOrgConfig(org: string, raw: unknown, source: string): OrgConfig {
  checkOrgName(org);
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigFileError(`${source}: must hold a JSON object`);
  }
  const r = new Reader(source, "", raw as Json).only([
    "$comment",
    "qatech",
    "linear",
    "jira",
    "replyTimeoutMinutes",
    "pollSchedule",
    "webhook",
    "lambda",
    "logRetentionDays",
    "comments",
    "labels",
  ]);
  const q = r
    .section("qatech")
    .only([
      "apiUrl",
      "projectShortId",
      "applicationOverrides",
      "instruction",
      "maxConcurrency",
      "changeReview",
      "gitlabHosts",
    ]);
  const c = r.section("comments").only(["replyMode", "followUpPrefix"]);
  const lb = r.section("labels").only(["testing", "tested", "testFailed", "removeTrigger"]);
  const l = r.section("linear").only(["enabled", "triggerLabel", "apiUrl"]);
  const j = r.section("jira").only(["enabled", "triggerLabel", "baseUrl", "siteUrl", "projectKeys"]);
  const p = r.section("pollSchedule").only(["minWaitSeconds", "fraction", "maxWaitSeconds"]);
  const w = r.section("webhook").only(["rateLimitPerSecond", "burst"]);
  const fn = r.section("lambda").only(["architecture", "memorySizeMb"]);

  const config: OrgConfig = {
    org,
    qatech: {
      apiUrl: q.url("apiUrl", "https://api.qa.tech") as string,
      projectShortId: q.string("projectShortId", undefined, /^proj(-.+_.+|_.+)$/, "look like proj_..."),
      applicationOverrides: q.array("applicationOverrides"),
      instruction: q.string("instruction"),
      maxConcurrency: q.number("maxConcurrency", 4, 0, 1000),
      changeReview: q.string("changeReview", "auto", /^(auto|always|never)$/, "be auto, always or never") as
        | "auto"
        | "always"
        | "never",
      gitlabHosts: q.stringArray(
        "gitlabHosts",
        HOSTNAME,
        "be a lowercase hostname such as gitlab.acme.com, without scheme, path or port",
      ),
    },
    comments: {
      replyMode: c.string("replyMode", "thread", /^(thread|replace)$/, "be thread or replace") as
        | "thread"
        | "replace",
      followUpPrefix: c.string("followUpPrefix", "@qa", /^\S+$/, "be one word such as @qa") as string,
    },
    labels: {
      testing: lb.string("testing"),
      tested: lb.string("tested"),
      testFailed: lb.string("testFailed"),
      removeTrigger: lb.boolean("removeTrigger", false),
    },
    linear: {
      enabled: l.boolean("enabled", true),
      triggerLabel: l.string("triggerLabel", "needs test") as string,
      apiUrl: l.url("apiUrl", "https://api.linear.app/graphql") as string,
    },
    jira: {
      enabled: j.boolean("enabled", false),
      triggerLabel: j.string(
        "triggerLabel",
        "needs-test",
        /^\S+$/,
        "be one word (Jira labels have no spaces)",
      ) as string,
      baseUrl: j.url("baseUrl"),
      siteUrl: j.url("siteUrl"),
      projectKeys: j.stringArray("projectKeys", /^[A-Z][A-Z0-9_]+$/, "be a Jira project key such as PROJ"),
    },
    replyTimeoutMinutes: r.number("replyTimeoutMinutes", 60, 1, 24 * 60),
    pollSchedule: {
      minWaitSeconds: p.number("minWaitSeconds", 3, 1, 300),
      fraction: p.number("fraction", 0.1, 0, 1),
      maxWaitSeconds: p.number("maxWaitSeconds", 120, 1, 3600),
    },
    webhook: {
      rateLimitPerSecond: w.number("rateLimitPerSecond", 20, 1, 10_000),
      burst: w.number("burst", 40, 1, 5_000),
    },
    lambda: {
      architecture: fn.string("architecture", "arm64", /^(arm64|x86_64)$/, "be arm64 or x86_64") as
        | "arm64"
        | "x86_64",
      memorySizeMb: fn.number("memorySizeMb", 256, 128, 10_240),
    },
    logRetentionDays: r.number("logRetentionDays", 30, 1, 3653),
  };
  (config.qatech.applicationOverrides ?? []).forEach((o, i) => {
    const ok = typeof o === "object" && o !== null && typeof (o as Json).applicationShortId === "string";
    q.check(ok, `applicationOverrides[${i}]`, "must be an object with applicationShortId and environment");
  });
  q.check(
    config.qatech.maxConcurrency !== 1,
    "maxConcurrency",
    "must be 0 (no bound) or 2 to 1000: an SQS event source runs at least 2 consumers at once",
  );
  p.check(
    config.pollSchedule.maxWaitSeconds >= config.pollSchedule.minWaitSeconds,
    "maxWaitSeconds",
    "must not be less than minWaitSeconds",
  );
  r.check(config.linear.enabled || config.jira.enabled, "linear.enabled", "or jira.enabled must be true");
  if (config.jira.enabled) {
    j.check(config.jira.baseUrl !== undefined, "baseUrl", "is required when jira.enabled");
  }
  if (config.jira.enabled) {
    for (const key of ["testing", "tested", "testFailed"] as const) {
      const label = config.labels[key];
      lb.check(!label || !/\s/.test(label), key, `"${label}" has a space, which Jira labels cannot have`);
    }
  }
  const scoped = config.jira.baseUrl?.startsWith("https://api.atlassian.com/") ?? false;
  j.check(
    !scoped || config.jira.siteUrl !== undefined,
    "siteUrl",
    "is required with an api.atlassian.com baseUrl",
  );
  const schedule = { ...config.pollSchedule, replyTimeoutSeconds: config.replyTimeoutMinutes * 60 };
  let polls = 0;
  while (elapsedBeforePoll(polls, schedule) < schedule.replyTimeoutSeconds && polls <= MAX_POLLS) polls++;
  r.check(
    polls <= MAX_POLLS,
    "pollSchedule",
    `with replyTimeoutMinutes ${config.replyTimeoutMinutes} needs more than ${MAX_POLLS} polls, more than a ` +
      "Standard execution's history holds: raise pollSchedule.maxWaitSeconds or lower replyTimeoutMinutes",
  );
  checkEnvironmentSize(config, source);
  return config;
}

/**
 * Lambda allows 4 KB of environment variables per function (keys and values). The settings go into every
 * function's environment; the stack adds its own variables (secret ARNs, the state machine, the queues),
 * for which this much is kept free.
 */
export const LAMBDA_ENVIRONMENT_MAX_BYTES = 4096;
export const STACK_VARIABLES_RESERVE_BYTES = 1024;

/** The config fields whose length is the user's to choose, and the variables they become. */
const LONG_FIELDS: Array<[field: string, variable: string]> = [
  ["qatech.instruction", "QATECH_INSTRUCTION"],
  ["qatech.applicationOverrides", "QATECH_APPLICATION_OVERRIDES"],
  ["jira.projectKeys", "JIRA_PROJECT_KEYS"],
];

/** Fails, naming the longest field, when the settings would not fit in a Lambda function's environment. */
function checkEnvironmentSize(config: OrgConfig, source: string): void {
  const env = functionEnvironment(config);
  const bytes = (name: string) => (env[name] === undefined ? 0 : Buffer.byteLength(`${name}${env[name]}`));
  const total = Object.keys(env).reduce((sum, name) => sum + bytes(name), 0);
  const budget = LAMBDA_ENVIRONMENT_MAX_BYTES - STACK_VARIABLES_RESERVE_BYTES;
  if (total <= budget) return;
  const [field, variable] = [...LONG_FIELDS].sort((a, b) => bytes(b[1]) - bytes(a[1]))[0];
  throw new ConfigFileError(
    `${source}: ${field} is too long: the settings would take ${total} bytes of each function's environment, ` +
      `over the ${budget} bytes Lambda leaves them (4 KB in all, ${STACK_VARIABLES_RESERVE_BYTES} kept for ` +
      `the stack's own variables); ${field} alone takes ${bytes(variable)}. Shorten it.`,
  );
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

/** The functions' non-secret environment for a config: the same variable names the local runner reads. */
export function functionEnvironment(config: OrgConfig): Record<string, string> {
  const env: Record<string, string> = {
    QATECH_API_URL: config.qatech.apiUrl,
    REPLY_TIMEOUT_SECONDS: String(config.replyTimeoutMinutes * 60),
    POLL_MIN_WAIT_SECONDS: String(config.pollSchedule.minWaitSeconds),
    POLL_FRACTION: String(config.pollSchedule.fraction),
    POLL_MAX_WAIT_SECONDS: String(config.pollSchedule.maxWaitSeconds),
    TRIGGER_LABEL_LINEAR: config.linear.triggerLabel,
    LINEAR_API_URL: config.linear.apiUrl,
    TRIGGER_LABEL_JIRA: config.jira.triggerLabel,
  };
  if (config.qatech.projectShortId) env.QATECH_PROJECT_SHORT_ID = config.qatech.projectShortId;
  if (config.qatech.applicationOverrides?.length) {
    env.QATECH_APPLICATION_OVERRIDES = JSON.stringify(config.qatech.applicationOverrides);
  }
  if (config.qatech.instruction) env.QATECH_INSTRUCTION = config.qatech.instruction;
  env.CHANGE_REVIEW = config.qatech.changeReview;
  if (config.qatech.gitlabHosts.length) env.GITLAB_HOSTS = config.qatech.gitlabHosts.join(",");
  env.REPLY_MODE = config.comments.replyMode;
  env.FOLLOW_UP_PREFIX = config.comments.followUpPrefix;
  if (config.labels.testing) env.LABEL_TESTING = config.labels.testing;
  if (config.labels.tested) env.LABEL_TESTED = config.labels.tested;
  if (config.labels.testFailed) env.LABEL_TEST_FAILED = config.labels.testFailed;
  env.LABEL_REMOVE_TRIGGER = String(config.labels.removeTrigger);
  if (config.jira.baseUrl) env.JIRA_BASE_URL = config.jira.baseUrl;
  if (config.jira.siteUrl ?? config.jira.baseUrl)
    env.JIRA_SITE_URL = (config.jira.siteUrl ?? config.jira.baseUrl) as string;
  if (config.jira.projectKeys.length) env.JIRA_PROJECT_KEYS = config.jira.projectKeys.join(",");
  return env;
}
