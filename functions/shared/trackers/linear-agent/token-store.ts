import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from "@aws-sdk/client-lambda";
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { capText } from "../../domain/limits";
import { ConfigError, TransientError } from "../../platform/errors";
import { isObject } from "../../platform/json";
import { functionLogger } from "../../platform/log";
import { requireEnv, settings } from "../../platform/settings";
import {
  type AgentTokenAccess,
  type AgentTokens,
  expiresWithin,
  NOT_INSTALLED,
  parseTokens,
  type RefreshTokens,
  type TokenStore,
} from "./tokens";

/**
 * The AWS side of the Linear agent's tokens (tokens.ts holds the decisions): the Secrets Manager store, the
 * refresher Lambda, the tokens this process holds, and the check that a delivery is this install's.
 */

const logger = functionLogger("linear-agent-tokens");

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
