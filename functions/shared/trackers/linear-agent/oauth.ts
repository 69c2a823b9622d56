import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { capText, PEER_TEXT_MAX_BYTES } from "../../domain/limits";
import { ConfigError, PermanentError, TransientError } from "../../platform/errors";
import { parseRetryAfter } from "../../platform/http";
import { isObject } from "../../platform/json";
import { redactSecrets, registerSecret } from "../../platform/redact";
import { getSecret } from "../../platform/secrets";
import { settings } from "../../platform/settings";

/**
 * Linear's OAuth 2.0 for an agent: the app is installed with actor=app (https://linear.app/developers/oauth-actor-authorization) and the
 * scopes the official weather-bot asks for; `admin` is not allowed with actor=app.
 */
export const AGENT_SCOPES = "read,write,app:assignable,app:mentionable";

/** How long the install link's `state` stays valid: the time a person takes on Linear's consent page. */
export const STATE_TTL_SECONDS = 10 * 60;

/**
 * The key that signs `state`: derived from the OAuth app's client secret, which the install function reads
 * anyway, so there is no new secret to manage, and the public install pages never hold the marker key.
 */
function stateKey(secret: string): Buffer {
  return createHmac("sha256", secret).update("qa-ticket linear oauth state v1").digest();
}

function mac(secret: string, payload: string): string {
  return createHmac("sha256", stateKey(secret)).update(payload).digest("base64url");
}

/** A fresh `state`: an expiry and a nonce, signed; the nonce also goes into a cookie of the browser that asked. */
export function signState(secret: string, now = Date.now()): { state: string; nonce: string } {
  const nonce = randomBytes(16).toString("base64url");
  const payload = Buffer.from(
    JSON.stringify({ v: 1, exp: Math.floor(now / 1000) + STATE_TTL_SECONDS, nonce }),
  ).toString("base64url");
  return { state: `${payload}.${mac(secret, payload)}`, nonce };
}

/** Checks a `state` that came back from Linear: the nonce when it is genuine and unexpired, else why not. */
export function verifyState(
  secret: string,
  state: string,
  now = Date.now(),
): { nonce: string } | { refused: string } {
  const [payload, digest, extra] = state.split(".");
  if (!payload || !digest || extra !== undefined || state.length > 512) return { refused: "malformed" };
  const expected = Buffer.from(mac(secret, payload));
  const found = Buffer.from(digest);
  if (expected.length !== found.length || !timingSafeEqual(expected, found)) return { refused: "not ours" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return { refused: "malformed" };
  }
  if (!isObject(parsed) || typeof parsed.exp !== "number" || typeof parsed.nonce !== "string")
    return { refused: "malformed" };
  if (parsed.exp < now / 1000) return { refused: "expired" };
  return { nonce: parsed.nonce };
}

/** The authorize URL the install link redirects to (https://linear.app/developers/oauth-2-0-authentication). */
export function authorizeUrl(opts: {
  authorizeUrl: string;
  clientId: string;
  redirectUri: string;
  state: string;
}): string {
  const url = new URL(opts.authorizeUrl);
  url.search = new URLSearchParams({
    client_id: opts.clientId,
    redirect_uri: opts.redirectUri,
    response_type: "code",
    scope: AGENT_SCOPES,
    state: opts.state,
    actor: "app",
  }).toString();
  return url.toString();
}

/** What Linear's token endpoint answers (RFC 6749 §5.1). */
export interface TokenAnswer {
  accessToken: string;
  refreshToken: string;
  /** Seconds; Linear: 86399 (24 h). */
  expiresIn: number;
  scope: string;
}

/** The OAuth client: its id (settings) and secret (Secrets Manager), and where the token endpoint is. */
export interface OAuthClient {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
}

/**
 * POSTs a form to the token endpoint (application/x-www-form-urlencoded, https://linear.app/developers/oauth-2-0-authentication). An `invalid_grant` (a code or
 * refresh token that was used, revoked or expired) and other 4xx are permanent; 429, 5xx and the network are
 * transient, with the Retry-After Linear gave.
 */
async function tokenRequest(client: OAuthClient, form: Record<string, string>): Promise<TokenAnswer> {
  registerSecret(client.clientSecret);
  const body = new URLSearchParams({
    ...form,
    client_id: client.clientId,
    client_secret: client.clientSecret,
  });
  let response: Response;
  let text: string;
  try {
    response = await fetch(client.tokenUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: body.toString(),
      signal: AbortSignal.timeout(10_000),
    });
    text = await response.text();
  } catch (cause) {
    throw new TransientError("Linear's token endpoint could not be reached", { cause });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (response.ok && isObject(parsed) && typeof parsed.access_token === "string") {
    const answer: TokenAnswer = {
      accessToken: parsed.access_token,
      refreshToken: typeof parsed.refresh_token === "string" ? parsed.refresh_token : "",
      expiresIn: typeof parsed.expires_in === "number" ? parsed.expires_in : 86399,
      scope: typeof parsed.scope === "string" ? parsed.scope : "",
    };
    registerSecret(answer.accessToken);
    registerSecret(answer.refreshToken);
    return answer;
  }
  const code =
    isObject(parsed) && typeof parsed.error === "string" ? parsed.error : `HTTP ${response.status}`;
  const said =
    isObject(parsed) && typeof parsed.error_description === "string" ? parsed.error_description : "";
  const message = `Linear's token endpoint refused the ${form.grant_type} grant (${code})${
    said ? `: ${capText(redactSecrets(said), PEER_TEXT_MAX_BYTES)}` : ""
  }`;
  if (response.status === 429 || response.status >= 500)
    throw new TransientError(message, {
      retryAfterSeconds: parseRetryAfter(response.headers.get("retry-after")),
    });
  throw new PermanentError(message, { status: response.status });
}

/** Exchanges the code from the callback for the app's tokens (grant_type=authorization_code). */
export function exchangeCode(client: OAuthClient, code: string, redirectUri: string): Promise<TokenAnswer> {
  return tokenRequest(client, { grant_type: "authorization_code", code, redirect_uri: redirectUri });
}

/** Spends a refresh token for a new access token and a new refresh token (Linear rotates them). */
export function refreshGrant(client: OAuthClient, refreshToken: string): Promise<TokenAnswer> {
  return tokenRequest(client, { grant_type: "refresh_token", refresh_token: refreshToken });
}

/**
 * Revokes tokens the deployment will not keep (an install for another workspace), so they do not outlive the
 * refused page: `POST /oauth/revoke` on the token endpoint's host
 * (https://linear.app/developers/oauth-2-0-authentication). Best effort: a failure is logged by the caller and
 * changes nothing of what the page says.
 */
export async function revokeTokens(client: OAuthClient, tokens: string[]): Promise<void> {
  const url = new URL("/oauth/revoke", client.tokenUrl).toString();
  for (const token of tokens.filter(Boolean)) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token }).toString(),
      signal: AbortSignal.timeout(5_000),
    });
    if (!response.ok) throw new TransientError(`Linear's revoke endpoint answered HTTP ${response.status}`);
  }
}

/** The OAuth client as configured: linear.agent's clientId, the client secret, Linear's token endpoint. */
export async function configuredOAuthClient(): Promise<OAuthClient> {
  const { agent, apiUrl } = settings().linear;
  if (!agent?.enabled || !agent.clientId)
    throw new ConfigError("linear.agent is not enabled, or has no clientId: the Linear agent is off");
  return {
    // Linear's token endpoint is on the API's host (api.linear.app/oauth/token, Linear's OAuth 2.0 docs).
    tokenUrl: new URL("/oauth/token", apiUrl).toString(),
    clientId: agent.clientId,
    clientSecret: await getSecret("LINEAR_AGENT_CLIENT_SECRET"),
  };
}
