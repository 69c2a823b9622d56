import { createHmac } from "node:crypto";
import type { TrackerName } from "../../functions/shared/domain/ticket";
import { ConfigError } from "../../functions/shared/platform/errors";
import { jiraSettings, pollScheduleSettings, qatechSettings } from "../../functions/shared/platform/settings";

/** The variables each tracker needs on the local runner; a tracker is on when any of its variables is set. */
const TRACKER_VARIABLES: Record<TrackerName, string[]> = {
  linear: ["LINEAR_API_KEY", "LINEAR_WEBHOOK_SECRET"],
  jira: ["JIRA_BASE_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_WEBHOOK_SECRET"],
};

export interface LocalSettings {
  trackers: TrackerName[];
  /** QATECH_MAX_CONCURRENCY: conversations being started at once, as the stack's queue allows; 0 = no bound. */
  maxConcurrency: number;
  waitScale: number;
  replyTimeoutSeconds: number;
}

/** Checks the local runner's variables up front, so a missing one is named at start, not mid-run. */
export function checkLocalEnv(env: NodeJS.ProcessEnv): LocalSettings {
  const set = (name: string) => Boolean(env[name]?.trim());
  const trackers = (Object.keys(TRACKER_VARIABLES) as TrackerName[]).filter((t) =>
    TRACKER_VARIABLES[t].some(set),
  );
  const needed: TrackerName[] = trackers.length ? trackers : ["linear"];
  const missing = ["QATECH_API_KEY", ...needed.flatMap((t) => TRACKER_VARIABLES[t])].filter(
    (name) => !set(name),
  );
  if (missing.length) {
    const them = missing.length > 1 ? "them" : "it";
    throw new ConfigError(`Missing ${missing.join(", ")}: set ${them} in the environment or .env`);
  }
  qatechSettings(env);
  if (trackers.includes("jira")) jiraSettings(env);
  const waitScale = Number(env.WAIT_SCALE ?? "1");
  if (!Number.isFinite(waitScale) || waitScale <= 0 || waitScale > 1) {
    throw new ConfigError(`WAIT_SCALE must be a number above 0 and at most 1, got "${env.WAIT_SCALE}"`);
  }
  const maxConcurrency = Number(env.QATECH_MAX_CONCURRENCY ?? "4");
  if (!Number.isInteger(maxConcurrency) || maxConcurrency < 0) {
    throw new ConfigError(
      `QATECH_MAX_CONCURRENCY must be a whole number (0 = no bound), got "${env.QATECH_MAX_CONCURRENCY}"`,
    );
  }
  return {
    trackers,
    waitScale,
    maxConcurrency,
    replyTimeoutSeconds: pollScheduleSettings(env).replyTimeoutSeconds,
  };
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
