import type { LinearClient } from "@linear/sdk";
import { capText, PEER_TEXT_MAX_BYTES } from "../../domain/limits";
import { PermanentError, TransientError } from "../../platform/errors";
import { isObject } from "../../platform/json";
import { redactSecrets } from "../../platform/redact";
import { getSecret } from "../../platform/secrets";
import { settings } from "../../platform/settings";

/**
 * The one way to Linear: who we are (LinearAuth, from the API key or an OAuth token), the SDK client built
 * from it, and linearCall, which every Linear SDK call in trackers/linear/ and trackers/linear-agent/ goes
 * through (timeout, error mapping, Retry-After, redaction, one renewal after a 401).
 */

/** How to reach Linear as the integration: the LINEAR_API_KEY secret and the configured API URL. */
export async function linearAuth(): Promise<LinearAuth & { apiKey: string }> {
  return { apiKey: await getSecret("LINEAR_API_KEY"), apiUrl: settings().linear.apiUrl };
}

/** How to reach Linear as the integration: its API key, or (the Linear agent) the app's OAuth access token. */
export interface LinearAuth {
  apiKey?: string;
  /** An OAuth access token (sent as `Bearer ...`); used instead of apiKey when set. */
  accessToken?: string;
  apiUrl: string;
  /** Per SDK call; default 10 s. */
  timeoutMs?: number;
  /**
   * For a token that can be refreshed (an OAuth app's): newer credentials after Linear answered 401. Each
   * call then asks once and sends itself again; a second 401 is an error like any other.
   */
  renew?: () => Promise<LinearAuth>;
}

/** LinearErrorType values (the SDK's enum, as strings) that are worth another try. */
const TRANSIENT_LINEAR_ERRORS = new Set([
  "Ratelimited",
  "NetworkError",
  "InternalError",
  "LockTimeout",
  "Unknown",
]);

/** Maps an SDK error to TransientError (rate limits, network, Linear's own faults) or PermanentError. */
export function classifyLinearError(error: unknown, what: string): Error {
  if (error instanceof TransientError || error instanceof PermanentError) return error;
  const type = isObject(error) && typeof error.type === "string" ? error.type : "Unknown";
  const said = capText(
    redactSecrets(error instanceof Error ? error.message : String(error)),
    PEER_TEXT_MAX_BYTES,
  );
  const message = `Linear refused ${what} (${type}): ${said}`;
  if (TRANSIENT_LINEAR_ERRORS.has(type)) {
    const retryAfter = retryAfterOf(error);
    return new TransientError(message, { cause: error, retryAfterSeconds: retryAfter });
  }
  const status = isObject(error) && typeof error.status === "number" ? error.status : undefined;
  return new PermanentError(message, { cause: error, status });
}

/**
 * How long Linear asked us to wait: the SDK's `retryAfter` (Retry-After), else the time until the request
 * budget resets (`requestsResetAt`, X-RateLimit-Requests-Reset, Unix ms), in whole seconds.
 */
function retryAfterOf(error: unknown, now = Date.now()): number | undefined {
  if (!isObject(error)) return undefined;
  if (typeof error.retryAfter === "number") return error.retryAfter;
  if (typeof error.requestsResetAt === "number" && error.requestsResetAt > now)
    return Math.ceil((error.requestsResetAt - now) / 1000);
  return undefined;
}

/** Linear answers a lookup of a missing entity with an "invalid input" error saying "Entity not found". */
export function isNotFound(error: unknown): boolean {
  if (!isObject(error) || error.type !== "InvalidInput") return false;
  const messages = [error instanceof Error ? error.message : ""];
  if (Array.isArray(error.errors)) {
    for (const e of error.errors) if (isObject(e) && typeof e.message === "string") messages.push(e.message);
  }
  return messages.some((m) => /not found|could not find/i.test(m));
}

/** Bounds an SDK call, which has no timeout of its own: a hung Linear becomes a retry, not a dead Lambda. */
export async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TransientError(`Linear did not answer ${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The SDK is loaded on first use so functions that never talk to Linear never load it. */
export async function linearClient(auth: LinearAuth): Promise<LinearClient> {
  const { LinearClient } = await import("@linear/sdk");
  return auth.accessToken
    ? new LinearClient({ accessToken: auth.accessToken, apiUrl: auth.apiUrl })
    : new LinearClient({ apiKey: auth.apiKey, apiUrl: auth.apiUrl });
}

/** An SDK error that means "this token is not (or no longer) accepted": Linear's 401. */
export function isAuthenticationError(error: unknown): boolean {
  const inner = isObject(error) && error.cause !== undefined ? error.cause : error;
  return isObject(inner) && inner.type === "AuthenticationError";
}

/**
 * One SDK call with a timeout and error mapping (a rate limit becomes a TransientError carrying Linear's
 * Retry-After); a 401 with credentials that can be renewed is sent once more with the renewed ones.
 */
export async function linearCall<T>(
  auth: LinearAuth,
  what: string,
  work: (client: LinearClient) => Promise<T>,
): Promise<T> {
  let current = auth;
  for (let attempt = 1; ; attempt++) {
    const client = await linearClient(current);
    try {
      return await withTimeout(work(client), auth.timeoutMs ?? 10_000, what);
    } catch (error) {
      if (attempt === 1 && current.renew && isAuthenticationError(error)) {
        current = await current.renew();
        continue;
      }
      throw classifyLinearError(error, what);
    }
  }
}
