import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { capText } from "../shared/domain/limits";
import { ConfigError, PermanentError, TransientError } from "../shared/platform/errors";
import { functionLogger } from "../shared/platform/log";
import { getSecret } from "../shared/platform/secrets";
import { settings } from "../shared/platform/settings";
import { TRACKER_CATALOG } from "../shared/trackers/catalog";
import { linearAuth, linearCall } from "../shared/trackers/linear/client";
import {
  authorizeUrl,
  configuredOAuthClient,
  exchangeCode,
  revokeTokens,
  STATE_TTL_SECONDS,
  signState,
  verifyState,
} from "../shared/trackers/linear-agent/oauth";
import { agentTokenStore, forgetAgentTokens } from "../shared/trackers/linear-agent/token-store";
import { withAnswer } from "../shared/trackers/linear-agent/tokens";
import { header } from "../shared/webhook/handler";
import { escapeHtml, page } from "./pages";

const logger = functionLogger("linear-install");

type Result = APIGatewayProxyStructuredResultV2;

/**
 * Binds the install's `state` to the browser that asked for it (login CSRF: someone else's code cannot land here).
 * The `__Host-` prefix makes the browser refuse it unless it is Secure, has Path=/ and no Domain, so no sibling
 * host or path can plant or shadow it (https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Set-Cookie#cookie_prefixes).
 * Browsers treat http://localhost and 127.0.0.1 as secure, so the local runner uses the same cookie.
 */
export const NONCE_COOKIE = "__Host-qa_ticket_linear_oauth";

/** The nonce cookie's attributes; the callback sends it again with Max-Age=0, so a used nonce is gone. */
const COOKIE_ATTRIBUTES = "Path=/; HttpOnly; Secure; SameSite=Lax";
const CLEAR_COOKIE = `${NONCE_COOKIE}=; Max-Age=0; ${COOKIE_ATTRIBUTES}`;

const LOCAL_HOSTS = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/;

/** Where this endpoint is, as the request reached it: https in AWS, http on this machine's local runner. */
function origin(event: APIGatewayProxyEventV2): string {
  const host = event.requestContext?.domainName ?? header(event, "host") ?? "";
  return `${LOCAL_HOSTS.test(host) ? "http" : "https"}://${host}`;
}

function html(statusCode: number, body: string, extra: Partial<Result> = {}): Result {
  return {
    statusCode,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      // frame-ancestors: no other site may frame these pages (clickjacking the consent flow).
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
      "referrer-policy": "no-referrer",
      "x-content-type-options": "nosniff",
    },
    body,
    ...extra,
  };
}

function failed(statusCode: number, what: string, retry = true): Result {
  return html(
    statusCode,
    page({
      title: "QA.tech was not connected to Linear",
      ok: false,
      paragraphs: [escapeHtml(what)],
      steps: retry ? ['Start again: open <a href="/linear/install">the install link</a>.'] : [],
    }),
  );
}

function cookieOf(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const all = event.cookies ?? (header(event, "cookie") ?? "").split(";");
  for (const cookie of all) {
    const [key, ...value] = cookie.trim().split("=");
    if (key === name) return value.join("=");
  }
  return undefined;
}

/** GET /linear/install: to Linear's consent page, with a signed state bound to this browser by a cookie. */
async function install(event: APIGatewayProxyEventV2): Promise<Result> {
  const agent = settings().linear.agent;
  if (!agent?.enabled || !agent.clientId)
    return failed(404, "The Linear agent is not enabled in this deployment (linear.agent.enabled).", false);
  const { state, nonce } = signState(await getSecret("LINEAR_AGENT_CLIENT_SECRET"));
  return {
    statusCode: 302,
    headers: {
      location: authorizeUrl({
        ...agent,
        clientId: agent.clientId,
        redirectUri: `${origin(event)}/linear/callback`,
        state,
      }),
      "cache-control": "no-store",
    },
    cookies: [`${NONCE_COOKIE}=${nonce}; Max-Age=${STATE_TTL_SECONDS}; ${COOKIE_ATTRIBUTES}`],
    body: "",
  };
}

/** GET /linear/callback: checks the state, exchanges the code, learns who the app is, stores the tokens. */
async function callback(event: APIGatewayProxyEventV2): Promise<Result> {
  const query = event.queryStringParameters ?? {};
  const state = query.state ?? "";
  const checked = verifyState(await getSecret("LINEAR_AGENT_CLIENT_SECRET"), state);
  if ("refused" in checked) {
    logger.warn("install callback refused", { reason: checked.refused });
    return failed(
      400,
      checked.refused === "expired"
        ? "The install link expired (it is valid for 10 minutes)."
        : "This page was not opened from this deployment's install link, so nothing was stored.",
    );
  }
  if (cookieOf(event, NONCE_COOKIE) !== checked.nonce)
    return failed(
      400,
      "This browser did not start this install (its cookie is missing), so nothing was stored.",
    );
  if (query.error)
    return failed(
      400,
      `Linear did not authorize QA.tech (${capText(query.error, 100)}). Nothing was stored.`,
    );
  if (!query.code) return failed(400, "Linear sent no authorization code. Nothing was stored.");

  const client = await configuredOAuthClient();
  const answer = await exchangeCode(client, query.code, `${origin(event)}/linear/callback`);
  // Who the app is, and where: with a timeout and Linear's errors mapped, so a failure shows its own page.
  const [viewer, organization] = await linearCall(
    { accessToken: answer.accessToken, apiUrl: settings().linear.apiUrl },
    "viewer and organization",
    (linear) => Promise.all([linear.viewer, linear.organization]),
  );
  // The workspace is pinned: the one this deployment's Linear API key belongs to, whose issues and labels it
  // already serves. An admin of any other workspace can complete the consent if the OAuth app is public; their
  // tokens are never stored, whatever order concurrent callbacks arrive in.
  const pinned = await linearCall(
    await linearAuth(),
    "the API key's organization",
    (linear) => linear.organization,
  );
  if (organization.id !== pinned.id) {
    logger.warn("install for another workspace refused", {
      organization: organization.id,
      pinned: pinned.id,
    });
    // The other workspace's tokens are never stored, so nothing would ever use or refresh them: revoke them.
    await revokeTokens(client, [answer.accessToken, answer.refreshToken]).catch((error) =>
      logger.warn("could not revoke the refused workspace's tokens", { error }),
    );
    return failed(
      403,
      `This deployment serves the Linear workspace "${capText(pinned.name, 200)}" (its Linear API key's), not "${capText(organization.name, 200)}". Nothing was stored.`,
      false,
    );
  }
  const store = agentTokenStore();
  const previous = await store.read();
  // An install stored by a deployment whose API key was later moved to another workspace is not replaced here.
  if (previous && previous.organizationId !== organization.id) {
    logger.warn("install for another workspace refused", { organization: organization.id });
    return failed(
      409,
      `This deployment already serves the Linear workspace "${previous.workspace}". Nothing was changed.`,
      false,
    );
  }
  const tokens = withAnswer(
    { appUserId: viewer.id, organizationId: organization.id, workspace: organization.name },
    answer,
  );
  // The first install's write is atomic (tokens.ts writeFirst); losing that race to the same workspace (two
  // tabs) is a re-install, and a re-install of the pinned workspace replaces its tokens.
  if (previous || !(await store.writeFirst(tokens))) {
    const now = previous ?? (await store.read());
    if (now && now.organizationId !== organization.id) {
      logger.warn("install for another workspace refused", { organization: organization.id });
      return failed(
        409,
        `This deployment already serves the Linear workspace "${now.workspace}". Nothing was changed.`,
        false,
      );
    }
    await store.write(tokens);
  }
  forgetAgentTokens();
  logger.info("linear agent installed", { organization: organization.id, appUser: viewer.id });
  const name = capText(organization.name, 200);
  const workspace = escapeHtml(name);
  return html(
    200,
    page({
      // page() escapes the title itself: the name goes in as it is, or "&" would show as "&#38;".
      title: `QA.tech is connected to ${name}`,
      ok: true,
      paragraphs: [
        `QA.tech is now an agent in the Linear workspace <strong>${workspace}</strong>.`,
        "Its tokens are stored in this deployment; you can close this page.",
      ],
      steps: [
        "In an issue, mention the app (<code>@QA.tech check the empty-cart case</code>) or delegate the issue to it: a session opens and QA.tech answers there.",
        `Check that the OAuth app's webhook (category <em>Agent session events</em>) points to <code>${escapeHtml(origin(event))}${TRACKER_CATALOG["linear-agent"].webhookPath}</code>.`,
        "Write in the session to ask a follow-up; use <em>Stop</em> to end it.",
      ],
    }),
  );
}

/**
 * What a failed install shows. Anyone can open the callback with any code, so what Linear refuses (a used or
 * forged code) is the visitor's mistake: a 4xx and a warning, never a 5xx or an ERROR line that would page
 * whoever runs the deployment. Only our own faults (a refused client secret, missing config) are errors.
 */
function failure(error: unknown): Result {
  if (error instanceof PermanentError) {
    if (error.status === 401 && error.message.includes("invalid_client")) {
      logger.error("install failed: Linear refused qa-ticket's OAuth client", { error });
      return failed(
        500,
        "Linear refused this deployment's OAuth client (check its client secret). Nothing was stored.",
        false,
      );
    }
    logger.warn("install refused by Linear", { error });
    return failed(400, `Linear refused: ${error.message}. Nothing was stored.`);
  }
  if (error instanceof TransientError) {
    logger.warn("install failed: Linear could not be reached", { error });
    return failed(503, "Linear could not be reached. Nothing was stored; try again in a minute.");
  }
  logger.error("install failed", { error });
  if (error instanceof ConfigError)
    return failed(500, `qa-ticket is not configured: ${error.message}`, false);
  return failed(500, "Something went wrong on our side. Nothing was stored.");
}

/** GET /linear/install and GET /linear/callback: the Linear agent's install (docs/linear-agent.md). */
export async function handler(event: APIGatewayProxyEventV2): Promise<Result> {
  const path = event.rawPath ?? event.requestContext?.http?.path ?? "";
  if (path.endsWith("/linear/install")) return await install(event).catch(failure);
  if (path.endsWith("/linear/callback")) {
    const result = await callback(event).catch(failure);
    // The nonce is used once, whatever the outcome: a later visit must start again from the install link.
    return { ...result, cookies: [...(result.cookies ?? []), CLEAR_COOKIE] };
  }
  return failed(404, "No such page.", false);
}
