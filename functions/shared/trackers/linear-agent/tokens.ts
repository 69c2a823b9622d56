import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from "@aws-sdk/client-lambda";
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { ConfigError, TransientError } from "../../platform/errors";
import { isObject } from "../../platform/json";
import { registerSecret } from "../../platform/redact";
import { requireEnv } from "../../platform/settings";
import type { TokenAnswer } from "./oauth";

/**
 * The Linear agent's OAuth tokens and the one place that refreshes them. Linear's access tokens live 24 h and
 * every refresh returns a new refresh token, spending the old one (linear-agents.md §1): two refreshes racing
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
}

/** Asks the one refresher for tokens newer than `seenAccessToken` (refreshing only if nobody did yet). */
export type RefreshTokens = (seenAccessToken: string) => Promise<AgentTokens>;

/** Refresh this long before the expiry, as Linear's weather-bot does: a call never starts with a dying token. */
const REFRESH_EARLY_SECONDS = 5 * 60;

/** Whether the access token expires within REFRESH_EARLY_SECONDS. */
function expiresSoon(tokens: AgentTokens, now = Date.now()): boolean {
  return Date.parse(tokens.expiresAt) - REFRESH_EARLY_SECONDS * 1000 <= now;
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

const NOT_INSTALLED =
  "The Linear agent is not installed: open the stack's /linear/install link (README, QA.tech as a Linear agent)";

/**
 * Compare-and-refresh: reads the stored tokens; when their access token is no longer the one the caller saw
 * (another caller refreshed meanwhile) and still fresh, returns them; otherwise spends the refresh token once
 * and stores the new pair before answering. Callers must serialise it (serialRefresher, or the Lambda's
 * reserved concurrency of 1).
 */
export async function compareAndRefresh(
  store: TokenStore,
  seenAccessToken: string,
  refresh: (refreshToken: string) => Promise<TokenAnswer>,
  now = () => Date.now(),
): Promise<AgentTokens> {
  const current = await store.read();
  if (!current) throw new ConfigError(NOT_INSTALLED);
  if (current.accessToken !== seenAccessToken && !expiresSoon(current, now())) return current;
  const answer = await refresh(current.refreshToken);
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

/** The tokens to call Linear with: the cached ones, read once, refreshed by the refresher when expiring. */
export async function agentTokens(): Promise<AgentTokens> {
  const access = tokenAccess();
  cached ??= (await access.store.read()) ?? undefined;
  if (!cached) throw new ConfigError(NOT_INSTALLED);
  if (expiresSoon(cached)) cached = await access.refresh(cached.accessToken);
  return cached;
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
