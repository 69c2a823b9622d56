import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { capText } from "../shared/domain/limits";
import { ConfigError, PermanentError, TransientError } from "../shared/platform/errors";
import { functionLogger } from "../shared/platform/log";
import { getSecret } from "../shared/platform/secrets";
import { settings } from "../shared/platform/settings";
import { linearCall } from "../shared/trackers/linear/api";
import {
  authorizeUrl,
  configuredOAuthClient,
  exchangeCode,
  STATE_TTL_SECONDS,
  signState,
  verifyState,
} from "../shared/trackers/linear-agent/oauth";
import { agentTokenStore, forgetAgentTokens, withAnswer } from "../shared/trackers/linear-agent/tokens";
import { header } from "../shared/webhook/handler";
import { escapeHtml, page } from "./pages";

const logger = functionLogger("linear-install");

type Result = APIGatewayProxyStructuredResultV2;

/** Binds the install's `state` to the browser that asked for it (login CSRF: someone else's code cannot land here). */
const NONCE_COOKIE = "qa_ticket_linear_oauth";

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
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
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
  const secure = origin(event).startsWith("https:") ? "; Secure" : "";
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
    cookies: [
      `${NONCE_COOKIE}=${nonce}; Path=/linear; Max-Age=${STATE_TTL_SECONDS}; HttpOnly; SameSite=Lax${secure}`,
    ],
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
  const store = agentTokenStore();
  const previous = await store.read();
  // A second workspace must not take over a deployment that serves another one (an admin of any workspace
  // can complete an install if the OAuth app is public): re-installing the same workspace is fine.
  if (previous && previous.organizationId !== organization.id) {
    logger.warn("install for another workspace refused", { organization: organization.id });
    return failed(
      409,
      `This deployment already serves the Linear workspace "${previous.workspace}". Nothing was changed.`,
      false,
    );
  }
  await store.write(
    withAnswer(
      { appUserId: viewer.id, organizationId: organization.id, workspace: organization.name },
      answer,
    ),
  );
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
        `Check that the OAuth app's webhook (category <em>Agent session events</em>) points to <code>${escapeHtml(origin(event))}/webhooks/linear-agent</code>.`,
        "Write in the session to ask a follow-up; use <em>Stop</em> to end it.",
      ],
    }),
  );
}

/** GET /linear/install and GET /linear/callback: the Linear agent's install (README, QA.tech as a Linear agent). */
export async function handler(event: APIGatewayProxyEventV2): Promise<Result> {
  const path = event.rawPath ?? event.requestContext?.http?.path ?? "";
  try {
    if (path.endsWith("/linear/install")) return await install(event);
    if (path.endsWith("/linear/callback")) return await callback(event);
    return failed(404, "No such page.", false);
  } catch (error) {
    logger.error("install failed", { error });
    if (error instanceof PermanentError)
      return failed(502, `Linear refused: ${error.message}. Nothing was stored.`);
    if (error instanceof TransientError)
      return failed(503, "Linear could not be reached. Nothing was stored; try again in a minute.");
    if (error instanceof ConfigError)
      return failed(500, `qa-ticket is not configured: ${error.message}`, false);
    return failed(500, "Something went wrong on our side. Nothing was stored.");
  }
}
