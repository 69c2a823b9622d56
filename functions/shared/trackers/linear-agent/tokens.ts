import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from "@aws-sdk/client-lambda";
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { capText } from "../../domain/limits";
import { ConfigError, PermanentError, TransientError } from "../../platform/errors";
import { isObject } from "../../platform/json";
import { functionLogger } from "../../platform/log";
import { registerSecret } from "../../platform/redact";
import { requireEnv, settings } from "../../platform/settings";
import type { TokenAnswer } from "./oauth";

/**
 * The Linear agent's OAuth tokens and the one place that refreshes them. Linear's access tokens live 24 h and
 * every refresh returns a new refresh token, spending the old one (https://linear.app/developers/oauth-2-0-authentication): two refreshes racing
 * with the same refresh token would leave one of them with a spent token and the app uninstalled in effect.
 * So every function asks one refresher, which refreshes only if the token the caller saw is still the stored
 * one (compare-and-refresh), and serialises: in AWS a Lambda with a reserved concurrency of 1, locally a mutex.
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
function expiresWithin(tokens: AgentTokens, seconds: number, now = Date.now()): boolean {
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

const NOT_INSTALLED =
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

/** The version id of the first install's write (a UUID, as ClientRequestToken asks: 32 to 64 characters). */
export const FIRST_INSTALL_VERSION = "6f9c1c2e-0a57-4c3e-9d0b-1a2b3c4d5e6f";

/** The tokens in a Secrets Manager secret (LINEAR_AGENT_TOKENS_SECRET_ARN); read without a cache. */
export function secretTokenStore(secretId: string, client = new SecretsManagerClient({})): TokenStore {
  return {
    async read() {
      const answer = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
      return parseTokens(answer.SecretString);
    },
    async write(tokens) {
      await client.send(
        new PutSecretValueCommand({ SecretId: secretId, SecretString: JSON.stringify(tokens) }),
      );
    },
    async writeFirst(tokens) {
      // Secrets Manager's only atomic write: a version's ClientRequestToken is unique per secret, and a second
      // PutSecretValue with the same token and another value fails with ResourceExistsException
      // (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html). Every first
      // install uses the same token, so of two racing ones exactly one version is created.
      try {
        await client.send(
          new PutSecretValueCommand({
            SecretId: secretId,
            SecretString: JSON.stringify(tokens),
            ClientRequestToken: FIRST_INSTALL_VERSION,
          }),
        );
        return true;
      } catch (error) {
        if ((error as { name?: string }).name === "ResourceExistsException") return false;
        throw error;
      }
    },
  };
}

/** The refresher Lambda (LINEAR_TOKEN_REFRESHER_FUNCTION), invoked synchronously. */
export function lambdaRefresher(functionName: string, client = new LambdaClient({})): RefreshTokens {
  return async (seenAccessToken) => {
    let answer: InvokeCommandOutput;
    try {
      answer = await client.send(
        new InvokeCommand({ FunctionName: functionName, Payload: JSON.stringify({ seenAccessToken }) }),
      );
    } catch (cause) {
      // Throttled (another refresh is running: reserved concurrency 1) or Lambda unavailable: try again.
      throw new TransientError("The Linear token refresher could not be invoked", { cause });
    }
    const text = Buffer.from(answer.Payload ?? new Uint8Array()).toString("utf8");
    if (answer.FunctionError) {
      const parsed = safeJson(text);
      const error = isObject(parsed) ? parsed : {};
      const message = `The Linear token refresher failed: ${String(error.errorMessage ?? "no message")}`;
      // Linear refused the refresh token (revoked, uninstalled): only a new install helps.
      if (error.errorType === "PermanentError" || error.errorType === "ConfigError")
        throw new ConfigError(`${message}. Reinstall the agent: open /linear/install`);
      throw new TransientError(message);
    }
    const tokens = parseTokens(text);
    if (!tokens) throw new TransientError("The Linear token refresher answered without tokens");
    return tokens;
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

let override: AgentTokenAccess | undefined;
let aws: AgentTokenAccess | undefined;

/** Sets how tokens are reached in this process (the local runner); undefined restores the AWS default. */
export function setAgentTokenAccess(access: AgentTokenAccess | undefined): void {
  override = access;
  cached = undefined;
}

function tokenAccess(env: NodeJS.ProcessEnv = process.env): AgentTokenAccess {
  if (override) return override;
  aws ??= {
    store: secretTokenStore(requireEnv(env, "LINEAR_AGENT_TOKENS_SECRET_ARN")),
    refresh: lambdaRefresher(requireEnv(env, "LINEAR_TOKEN_REFRESHER_FUNCTION")),
  };
  return aws;
}

/** The store of this process's tokens (the install writes through it). */
export function agentTokenStore(): TokenStore {
  return tokenAccess().store;
}

// A warm function keeps the tokens it last saw: a stale copy costs one 401 and one refresher call, which then
// answers the stored tokens without refreshing (they differ from the ones seen).
let cached: AgentTokens | undefined;

/**
 * The tokens to call Linear with: the cached ones, read once. A token that is still valid is always used as it
 * is, however close to its expiry: the schedule renews tokens hours ahead, and a request path (a webhook with
 * 5 s, a first thought due within 10 s) must not wait for, or be throttled by, the refresher. Only a token
 * past its expiry is read again (the schedule may have renewed it) and, if still expired, refreshed.
 */
export async function agentTokens(): Promise<AgentTokens> {
  const access = tokenAccess();
  cached ??= (await access.store.read()) ?? undefined;
  if (!cached) throw new ConfigError(NOT_INSTALLED);
  if (expiresWithin(cached, 0)) {
    cached = (await access.store.read()) ?? cached;
    if (expiresWithin(cached, 0)) cached = await access.refresh(cached.accessToken);
  }
  return cached;
}

/**
 * Why an agent delivery is not for the install this deployment serves, or null when it is: its
 * organizationId and appUserId must be the stored install's, and its oauthClientId the configured app's
 * (https://linear.app/developers/agent-interaction: every AgentSessionEvent carries the three). A signed
 * delivery for another workspace or app starts nothing; it is logged, with ids only.
 */
export async function foreignDelivery(payload: unknown): Promise<string | null> {
  const body = isObject(payload) ? payload : {};
  const tokens = await agentTokens();
  const expected: Record<string, string | undefined> = {
    organizationId: tokens.organizationId,
    appUserId: tokens.appUserId,
    oauthClientId: settings().linear.agent?.clientId,
  };
  const wrong = Object.keys(expected).filter((field) => body[field] !== expected[field]);
  if (wrong.length === 0) return null;
  const seen = Object.fromEntries(
    wrong.map((field) => [field, typeof body[field] === "string" ? capText(body[field], 100) : "(missing)"]),
  );
  logger.warn("agent delivery for another install ignored", { mismatched: wrong, seen });
  return `ignored (not this install: ${wrong.join(", ")})`;
}

/** Forgets the tokens this process holds (after an install stored new ones). */
export function forgetAgentTokens(): void {
  cached = undefined;
}

/** After a 401 with `seen`: tokens from the refresher (newer ones, refreshed only if nobody did). */
export async function renewAgentTokens(seen: string): Promise<AgentTokens> {
  cached = await tokenAccess().refresh(seen);
  return cached;
}
