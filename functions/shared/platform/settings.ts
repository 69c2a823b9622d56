import { DEFAULT_POLL_SCHEDULE, type PollSchedule } from "../domain/poll-schedule";
import type { ApplicationOverride } from "../qatech/client";
import { ConfigError } from "./errors";

/**
 * The non-secret settings of the functions, read from environment variables. The stack sets them from
 * the organisation's config file; the local runner takes them from its own environment (or `.env`).
 * Every error names the variable to fix.
 */
type Env = NodeJS.ProcessEnv;

/** Reads a required variable. */
export function requireEnv(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(`${name} is not set`);
  return value;
}

function optional(env: Env, name: string): string | undefined {
  return env[name]?.trim() || undefined;
}

function number(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/** Reads an http(s) URL, without a trailing slash. */
export function url(env: Env, name: string, fallback?: string): string {
  const raw = optional(env, name) ?? fallback;
  if (raw === undefined) throw new ConfigError(`${name} is not set`);
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL, got "${raw}"`);
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new ConfigError(`${name} must be an http(s) URL, got "${raw}"`);
  }
  return raw.replace(/\/+$/, "");
}

/** A lowercase hostname such as gitlab.acme.com: no scheme, path, port or userinfo. */
export const HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

export interface QaTechSettings {
  apiUrl: string;
  projectShortId?: string;
  applicationOverrides?: ApplicationOverride[];
  instruction?: string;
  /** Self-managed GitLab hosts whose merge requests get a change review; gitlab.com's always do. */
  gitlabHosts: string[];
}

/**
 * QA.tech settings: QATECH_API_URL, QATECH_PROJECT_SHORT_ID, QATECH_APPLICATION_OVERRIDES, QATECH_INSTRUCTION,
 * GITLAB_HOSTS (comma-separated hostnames).
 */
export function qatechSettings(env: Env = process.env): QaTechSettings {
  const projectShortId = optional(env, "QATECH_PROJECT_SHORT_ID");
  if (projectShortId && !/^proj(-.+_.+|_.+)$/.test(projectShortId)) {
    throw new ConfigError(`QATECH_PROJECT_SHORT_ID must look like proj_..., got "${projectShortId}"`);
  }
  let applicationOverrides: ApplicationOverride[] | undefined;
  const overrides = optional(env, "QATECH_APPLICATION_OVERRIDES");
  if (overrides) {
    try {
      applicationOverrides = JSON.parse(overrides);
    } catch {
      throw new ConfigError("QATECH_APPLICATION_OVERRIDES must be a JSON array of application overrides");
    }
    if (!Array.isArray(applicationOverrides)) {
      throw new ConfigError("QATECH_APPLICATION_OVERRIDES must be a JSON array of application overrides");
    }
  }
  return {
    apiUrl: url(env, "QATECH_API_URL", "https://api.qa.tech"),
    projectShortId,
    applicationOverrides,
    instruction: optional(env, "QATECH_INSTRUCTION"),
    gitlabHosts: gitlabHosts(env),
  };
}

function gitlabHosts(env: Env): string[] {
  const hosts = (optional(env, "GITLAB_HOSTS") ?? "")
    .split(",")
    .map((host) => host.trim())
    .filter(Boolean);
  const bad = hosts.find((host) => !HOSTNAME.test(host));
  if (bad !== undefined) {
    throw new ConfigError(
      `GITLAB_HOSTS must be lowercase hostnames such as gitlab.acme.com, separated by commas; got "${bad}"`,
    );
  }
  return hosts;
}

/** The poll schedule: REPLY_TIMEOUT_SECONDS, POLL_MIN_WAIT_SECONDS, POLL_FRACTION, POLL_MAX_WAIT_SECONDS. */
export function pollScheduleSettings(env: Env = process.env): PollSchedule {
  const d = DEFAULT_POLL_SCHEDULE;
  const minWaitSeconds = Math.round(number(env, "POLL_MIN_WAIT_SECONDS", d.minWaitSeconds, 1, 300));
  const maxWaitSeconds = Math.round(number(env, "POLL_MAX_WAIT_SECONDS", d.maxWaitSeconds, 1, 3600));
  if (maxWaitSeconds < minWaitSeconds) {
    throw new ConfigError("POLL_MAX_WAIT_SECONDS must not be less than POLL_MIN_WAIT_SECONDS");
  }
  return {
    minWaitSeconds,
    maxWaitSeconds,
    fraction: number(env, "POLL_FRACTION", d.fraction, 0, 1),
    replyTimeoutSeconds: Math.round(
      number(env, "REPLY_TIMEOUT_SECONDS", d.replyTimeoutSeconds, 10, 7 * 24 * 3600),
    ),
  };
}

/** The Linear trigger label: TRIGGER_LABEL_LINEAR, default "needs test". */
export function linearTriggerLabel(env: Env = process.env): string {
  return optional(env, "TRIGGER_LABEL_LINEAR") ?? "needs test";
}

/** The Linear API URL: LINEAR_API_URL, default https://api.linear.app/graphql. */
export function linearApiUrl(env: Env = process.env): string {
  return url(env, "LINEAR_API_URL", "https://api.linear.app/graphql");
}

export interface JiraSettings {
  /** API base: the site or https://api.atlassian.com/ex/jira/{cloudId}. */
  baseUrl: string;
  /** The site people open; ticket links are `{siteUrl}/browse/KEY`. */
  siteUrl: string;
  triggerLabel: string;
  /** Only these projects trigger runs; empty = all. */
  projectKeys: string[];
}

/** Jira settings: JIRA_BASE_URL, JIRA_SITE_URL, TRIGGER_LABEL_JIRA (default needs-test), JIRA_PROJECT_KEYS. */
export function jiraSettings(env: Env = process.env): JiraSettings {
  const baseUrl = url(env, "JIRA_BASE_URL");
  const scoped = /^https:\/\/api\.atlassian\.com\//.test(baseUrl);
  if (scoped && !optional(env, "JIRA_SITE_URL")) {
    throw new ConfigError(
      "JIRA_SITE_URL must be set when JIRA_BASE_URL is api.atlassian.com (links need the site)",
    );
  }
  const triggerLabel = optional(env, "TRIGGER_LABEL_JIRA") ?? "needs-test";
  if (/\s/.test(triggerLabel))
    throw new ConfigError(`TRIGGER_LABEL_JIRA must be one word, got "${triggerLabel}"`);
  return {
    baseUrl,
    siteUrl: url(env, "JIRA_SITE_URL", baseUrl),
    triggerLabel,
    projectKeys: (optional(env, "JIRA_PROJECT_KEYS") ?? "")
      .split(",")
      .map((k) => k.trim())
      .filter(Boolean),
  };
}

/** The prefix that addresses a comment to the integration: FOLLOW_UP_PREFIX, default "@qa". */
export function followUpPrefix(env: Env = process.env): string {
  return optional(env, "FOLLOW_UP_PREFIX") ?? "@qa";
}

export type ReplyMode = "thread" | "replace";

/** Where the final reply goes: REPLY_MODE "thread" (under the acknowledgement, default) or "replace" (its text). */
export function replyMode(env: Env = process.env): ReplyMode {
  const mode = optional(env, "REPLY_MODE") ?? "thread";
  if (mode !== "thread" && mode !== "replace")
    throw new ConfigError(`REPLY_MODE must be thread or replace, got "${mode}"`);
  return mode;
}

export type ChangeReviewMode = "auto" | "always" | "never";

/**
 * When a ticket links a pull request, start a QA.tech change review instead of a chat: CHANGE_REVIEW
 * "auto" (default: when the ticket links a PR and application overrides are configured), "always" (whenever
 * it links a PR; missing overrides are an error) or "never".
 */
export function changeReviewMode(env: Env = process.env): ChangeReviewMode {
  const mode = optional(env, "CHANGE_REVIEW") ?? "auto";
  if (mode !== "auto" && mode !== "always" && mode !== "never") {
    throw new ConfigError(`CHANGE_REVIEW must be auto, always or never, got "${mode}"`);
  }
  return mode;
}

/** The labels the integration sets to show a ticket's state on a board; all optional. */
export interface LabelSettings {
  /** Set while QA.tech works on the ticket: LABEL_TESTING. */
  testing?: string;
  /** Set when the reply is complete: LABEL_TESTED. */
  tested?: string;
  /** Set when the reply failed or the run could not get one: LABEL_TEST_FAILED. */
  failed?: string;
  /** Take the trigger label off once the run starts (LABEL_REMOVE_TRIGGER=true), so re-adding it re-runs. */
  removeTrigger: boolean;
}

/** The label lifecycle: LABEL_TESTING, LABEL_TESTED, LABEL_TEST_FAILED, LABEL_REMOVE_TRIGGER. */
export function labelSettings(env: Env = process.env): LabelSettings {
  const flag = optional(env, "LABEL_REMOVE_TRIGGER") ?? "false";
  if (flag !== "true" && flag !== "false")
    throw new ConfigError(`LABEL_REMOVE_TRIGGER must be true or false, got "${flag}"`);
  return {
    testing: optional(env, "LABEL_TESTING"),
    tested: optional(env, "LABEL_TESTED"),
    failed: optional(env, "LABEL_TEST_FAILED"),
    removeTrigger: flag === "true",
  };
}
