import type { PollSchedule } from "../domain/poll-schedule";
import { ConfigError } from "./errors";
import type { Settings } from "./settings-schema";

/**
 * The settings a function runs with. The stack validates the organisation's config with the one settings
 * schema (settings-schema.ts) at synth and hands every function the result as one JSON value; the local
 * runner does the same from its variables. A function only reads that value: the schema (and zod) stay out
 * of its bundle, which keeps the webhook small and quick to start.
 */
export type { Settings } from "./settings-schema";

/** The variable that carries the validated settings. */
export const SETTINGS_VARIABLE = "QA_TICKET_SETTINGS";

/** The poll schedule the settings describe. */
export function pollSchedule(s: Settings): PollSchedule {
  return { ...s.pollSchedule, replyTimeoutSeconds: Math.round(s.replyTimeoutMinutes * 60) };
}

/** Jira's site, which ticket links are built from: siteUrl, else the API base. */
export function jiraSiteUrl(s: Settings): string {
  return s.jira.siteUrl ?? s.jira.baseUrl ?? "";
}

/** A variable the stack sets for a function (not a setting); the error names it. */
export function requireEnv(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(`${name} is not set`);
  return value;
}

let cached: { text: string; settings: Settings } | undefined;

/**
 * The settings a function runs with: the stack's QA_TICKET_SETTINGS, parsed once per value (a warm
 * Lambda parses it once; the local runner's tests may change it between runs).
 */
export function settings(env: NodeJS.ProcessEnv = process.env): Settings {
  const text = env[SETTINGS_VARIABLE];
  if (!text)
    throw new ConfigError(`${SETTINGS_VARIABLE} is not set: the stack (or the local runner) sets it`);
  if (cached?.text !== text) {
    try {
      cached = { text, settings: JSON.parse(text) as Settings };
    } catch {
      throw new ConfigError(`${SETTINGS_VARIABLE} is not JSON`);
    }
  }
  return cached.settings;
}
