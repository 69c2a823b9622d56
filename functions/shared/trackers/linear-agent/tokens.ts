import { ConfigError, PermanentError } from "../../platform/errors";
import { isObject } from "../../platform/json";
import { functionLogger } from "../../platform/log";
import { registerSecret } from "../../platform/redact";
import type { TokenAnswer } from "./oauth";

/**
 * The Linear agent's OAuth tokens and the one place that refreshes them. Linear's access tokens live 24 h and
 * every refresh returns a new refresh token, spending the old one (https://linear.app/developers/oauth-2-0-authentication): two refreshes racing
 * with the same refresh token would leave one of them with a spent token and the app uninstalled in effect.
 * So every function asks one refresher, which refreshes only if the token the caller saw is still the stored
 * one (compare-and-refresh), and serialises: in AWS a Lambda with a reserved concurrency of 1, locally a mutex.
 *
 * This file holds the decisions (compare-and-refresh, expiry, parsing), free of AWS; token-store.ts reaches
 * the tokens (Secrets Manager, the refresher Lambda) and keeps this process's copy.
 */

/** What the install stored: the token pair and who the app is in which workspace. */
export interface AgentTokens {
  accessToken: string;
  refreshToken: string;
  /** ISO 8601. */
  expiresAt: string;
  /** The app user's id in this workspace (`viewer { id }` with the app's token). */
  appUserId: string;
  organizationId: string;
  /** The workspace's name, as the callback page showed it. */
  workspace: string;
}

/** Where the tokens live: a Secrets Manager secret in AWS, memory on the local runner. */
export interface TokenStore {
  /** The stored tokens, read afresh (never a cached copy), or null before the install. */
  read(): Promise<AgentTokens | null>;
  write(tokens: AgentTokens): Promise<void>;
  /**
   * The first install's write, atomic: true when it stored `tokens`, false when another first install stored
   * its own before (two callbacks racing on an empty store: exactly one wins).
   */
  writeFirst(tokens: AgentTokens): Promise<boolean>;
}

/** Asks the one refresher for tokens newer than `seenAccessToken` (refreshing only if nobody did yet). */
export type RefreshTokens = (seenAccessToken: string) => Promise<AgentTokens>;

/**
 * When the refresher is asked anyway (after a 401), it also renews tokens this close to their expiry, as
 * Linear's weather-bot does, so the tokens it hands out do not die during the caller's next calls.
 */
const REFRESH_EARLY_SECONDS = 5 * 60;

/**
 * The scheduled refresh (every SCHEDULED_REFRESH_HOURS, lib/constructs/linear-agent.ts) renews tokens that
 * expire within this window: Linear's access tokens live 24 h
 * (https://linear.app/developers/oauth-2-0-authentication), so they are renewed about every 12 h, and even two
 * missed schedules leave hours of validity. Request paths then never wait for a refresh before their first call.
 */
export const REFRESH_AHEAD_SECONDS = 12 * 3600;
export const SCHEDULED_REFRESH_HOURS = 4;

/**
 * After Linear refuses a refresh token (invalid_grant), the refresher reads the secret again after this delay
 * before calling the install broken: Secrets Manager's reads are eventually consistent
 * (https://docs.aws.amazon.com/secretsmanager/latest/userguide/getting-started.html#term_version), so a read
 * right after another writer's PutSecretValue can still return the pair that writer had just spent.
 */
export const REREAD_DELAY_MS = 2_000;

/** Whether the access token expires within `seconds`. */
export function expiresWithin(tokens: AgentTokens, seconds: number, now = Date.now()): boolean {
  return Date.parse(tokens.expiresAt) - seconds * 1000 <= now;
}

/** Whether the access token expires within REFRESH_EARLY_SECONDS. */
function expiresSoon(tokens: AgentTokens, now = Date.now()): boolean {
  return expiresWithin(tokens, REFRESH_EARLY_SECONDS, now);
}

/** Parses the stored JSON; null for anything else (the stack's random placeholder before the install). */
export function parseTokens(text: string | undefined): AgentTokens | null {
  if (!text) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(parsed)) return null;
  const fields = ["accessToken", "refreshToken", "expiresAt", "appUserId", "organizationId", "workspace"];
  if (!fields.every((f) => typeof parsed[f] === "string")) return null;
  const tokens = parsed as unknown as AgentTokens;
  registerSecret(tokens.accessToken);
  registerSecret(tokens.refreshToken);
  return tokens;
}

/** The tokens after a token endpoint answer, keeping who the app is. */
export function withAnswer(
  tokens: Omit<AgentTokens, "accessToken" | "refreshToken" | "expiresAt">,
  answer: TokenAnswer,
  now = Date.now(),
): AgentTokens {
  return {
    ...tokens,
    accessToken: answer.accessToken,
    refreshToken: answer.refreshToken,
    expiresAt: new Date(now + answer.expiresIn * 1000).toISOString(),
  };
}

const logger = functionLogger("linear-agent-tokens");

export const NOT_INSTALLED =
  "The Linear agent is not installed: open the stack's /linear/install link (docs/linear-agent.md)";

/** What compareAndRefresh may be told besides the caller's token. */
export interface RefreshOptions {
  now?: () => number;
  /** Refresh when the stored token expires within this many seconds (the schedule: REFRESH_AHEAD_SECONDS). */
  aheadSeconds?: number;
  /** The wait before reading again after an invalid_grant (REREAD_DELAY_MS). */
  rereadDelayMs?: number;
}

/** Linear's answer to a refresh token it no longer accepts (spent, revoked): RFC 6749 §5.2 invalid_grant. */
function isInvalidGrant(error: unknown): boolean {
  return error instanceof PermanentError && error.message.includes("(invalid_grant)");
}

/**
 * Compare-and-refresh: reads the stored tokens; when their access token is no longer the one the caller saw
 * (another caller refreshed meanwhile) and still fresh, returns them; otherwise spends the refresh token once
 * and stores the new pair before answering. Callers must serialise it (serialRefresher, or the Lambda's
 * reserved concurrency of 1). An invalid_grant is checked against a second read (REREAD_DELAY_MS) before it
 * is believed: a pair written meanwhile, or not yet visible at the first read, is used instead.
 */
export async function compareAndRefresh(
  store: TokenStore,
  seenAccessToken: string,
  refresh: (refreshToken: string) => Promise<TokenAnswer>,
  options: RefreshOptions = {},
): Promise<AgentTokens> {
  const now = options.now ?? (() => Date.now());
  const due = (tokens: AgentTokens) =>
    tokens.accessToken === seenAccessToken ||
    expiresWithin(tokens, Math.max(REFRESH_EARLY_SECONDS, options.aheadSeconds ?? 0), now());
  let current = await store.read();
  if (!current) throw new ConfigError(NOT_INSTALLED);
  if (!due(current)) return current;
  let answer: TokenAnswer;
  try {
    answer = await refresh(current.refreshToken);
  } catch (error) {
    if (!isInvalidGrant(error)) throw error;
    const spent = current.refreshToken;
    await new Promise((resolve) => setTimeout(resolve, options.rereadDelayMs ?? REREAD_DELAY_MS));
    const again = await store.read();
    if (!again || again.refreshToken === spent) throw error;
    logger.warn("refresh token refused, but a newer pair is stored: using it", {
      expiresAt: again.expiresAt,
    });
    current = again;
    if (!expiresSoon(current, now())) return current;
    answer = await refresh(current.refreshToken);
  }
  // An answer without a refresh token (an app without rotation) leaves the stored one valid.
  const next = withAnswer(
    current,
    { ...answer, refreshToken: answer.refreshToken || current.refreshToken },
    now(),
  );
  await store.write(next);
  return next;
}

/** Serialises refreshes in one process (the local runner): one at a time, each comparing afresh. */
export function serialRefresher(refreshOnce: RefreshTokens): RefreshTokens {
  let queue: Promise<unknown> = Promise.resolve();
  return (seen) => {
    const run = queue.then(() => refreshOnce(seen));
    queue = run.catch(() => undefined);
    return run;
  };
}

/** How functions reach the tokens: the store and the refresher. */
export interface AgentTokenAccess {
  store: TokenStore;
  refresh: RefreshTokens;
}
