import { randomBytes } from "node:crypto";
import { redactSecrets, registerSecret } from "../../functions/shared/platform/redact";
import { QaTechRuns } from "../../functions/shared/qatech/runs";
import { linearClient } from "../../functions/shared/trackers/linear/client";

/**
 * Checks of each credential before it is used, shared by `setup` and `doctor`. Each says what is wrong in
 * words an operator can act on, and never echoes the credential: each is registered with the redactor
 * before it is sent, so a peer that echoes our request (its Authorization header) cannot show it.
 */

/** The outcome of one check: what holds, or what is wrong and how to fix it. */
export type CheckResult = { ok: true; detail: string } | { ok: false; detail: string; fix: string };

const TIMEOUT_MS = 10_000;

async function send(
  url: string,
  init: RequestInit,
): Promise<{ status: number; text: string } | { error: string }> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
    return { status: res.status, text: await res.text() };
  } catch (error) {
    return {
      error:
        error instanceof Error
          ? error.cause instanceof Error
            ? error.cause.message
            : error.message
          : String(error),
    };
  }
}

/** What a peer said, every registered credential redacted before it is cut (a cut one would escape). */
function messageOf(raw: string): string {
  const text = redactSecrets(raw);
  try {
    const body = JSON.parse(text) as { message?: unknown; errorMessages?: unknown };
    if (typeof body.message === "string") return body.message;
    if (Array.isArray(body.errorMessages)) return body.errorMessages.join("; ");
  } catch {
    // not JSON
  }
  return text.slice(0, 200);
}

/**
 * QA.tech's key and project, without starting a conversation. The Chat API has no "who am I" call, so:
 * 1. GET /v1/chat/{an id that cannot exist}: 404 means the key was accepted (the documented 404 is "not
 *    found"), 401 a wrong or revoked key, 403 a refused token or a suspended organisation.
 * 2. POST /v1/chat/{the same id} with the project: QA.tech checks the body before the conversation (its
 *    documented 400 names projectShortId for an organisation-scoped key without one; a project-scoped key
 *    naming another project is refused), and the id's 404 then means the project was accepted. Nothing is
 *    created: the conversation does not exist. Whether QA.tech checks the body before looking the
 *    conversation up is not documented; if it does not, this step proves only the key again.
 */
export async function checkQaTech(
  apiUrl: string,
  apiKey: string,
  projectShortId?: string,
): Promise<CheckResult> {
  registerSecret(apiKey);
  const id = `chat_qaticketcheck${randomBytes(6).toString("hex")}`;
  const headers = { authorization: `Bearer ${apiKey}`, accept: "application/json" };
  const keys = "create one in QA.tech: Organization Settings -> API Keys, then run setup again";
  const read = await send(`${apiUrl}/v1/chat/${id}?limit=1`, { headers });
  if ("error" in read)
    return {
      ok: false,
      detail: `QA.tech (${apiUrl}) could not be reached: ${read.error}`,
      fix: "check qatech.apiUrl and the network",
    };
  if (read.status === 401)
    return { ok: false, detail: "QA.tech refused the API key (401): it is wrong or revoked", fix: keys };
  if (read.status === 403)
    return {
      ok: false,
      detail: `QA.tech refused the API key (403: ${messageOf(read.text)}): an invalid token or a suspended organisation`,
      fix: keys,
    };
  if (read.status !== 404)
    return {
      ok: false,
      detail: `QA.tech answered ${read.status} to a read: ${messageOf(read.text)}`,
      fix: "try again later; if it persists, ask QA.tech support",
    };
  const post = await send(`${apiUrl}/v1/chat/${id}`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ message: "qa-ticket setup check", ...(projectShortId ? { projectShortId } : {}) }),
  });
  if ("error" in post)
    return { ok: false, detail: `QA.tech could not be reached: ${post.error}`, fix: "try again" };
  const said = messageOf(post.text);
  if (post.status === 404 && !/project/i.test(said))
    return {
      ok: true,
      detail: `key accepted${projectShortId ? `, project ${projectShortId} accepted` : ""}`,
    };
  if (post.status === 400 && /projectShortId/i.test(said) && !projectShortId)
    return {
      ok: false,
      detail: `the key is organisation-scoped and needs a project (${said})`,
      fix: "set qatech.projectShortId (proj_...) in the config",
    };
  if (post.status === 403 || post.status === 404 || post.status === 400)
    return {
      ok: false,
      detail: `QA.tech refused project ${projectShortId ?? "(none)"} for this key (${post.status}: ${said})`,
      fix: "set qatech.projectShortId to the key's project (QA.tech: Project settings), or use a key of that project",
    };
  return { ok: false, detail: `QA.tech answered ${post.status}: ${said}`, fix: "try again later" };
}

/** The projects the config's routes name, each once with the routes naming it (the rest use qatech's). */
export function routeProjects(
  routes: ReadonlyArray<{ name: string; projectShortId?: string }>,
  defaultProject?: string,
): Array<{ projectShortId: string; routes: string[] }> {
  const byProject = new Map<string, string[]>();
  for (const route of routes) {
    if (!route.projectShortId || route.projectShortId === defaultProject) continue;
    byProject.set(route.projectShortId, [...(byProject.get(route.projectShortId) ?? []), route.name]);
  }
  return [...byProject].map(([projectShortId, names]) => ({ projectShortId, routes: names }));
}

/** The check of a route's project with the key, as checkQaTech checks the default project; the fix names the route. */
export async function checkRouteProject(
  apiUrl: string,
  apiKey: string,
  route: { projectShortId: string; routes: string[] },
): Promise<CheckResult> {
  const result = await checkQaTech(apiUrl, apiKey, route.projectShortId);
  const names = route.routes.map((name) => `"${name}"`).join(", ");
  if (result.ok) return { ok: true, detail: `project ${route.projectShortId} accepted (route ${names})` };
  return {
    ok: false,
    detail: `route ${names}: ${result.detail}`,
    fix: `set the projectShortId of route ${names} to a project this key may use (QA.tech: Project settings), or use an organisation-scoped key`,
  };
}

/** The name of the check, in setup's line and doctor's table. */
export const QATECH_RUNS_CHECK = "QA.tech key can read test runs";

/**
 * Whether QA.tech lets this key read test runs, which verdicts are made of (issue 19): a read of a run that
 * cannot exist, 404 = yes, 401/403 = no (QaTechRuns.probeAccess says why that suffices). Not ok is a warning,
 * never a failure: without runs a ticket still gets QA.tech's reply, with the verdict "Could not verify".
 */
export async function checkQaTechRuns(apiUrl: string, apiKey: string): Promise<CheckResult> {
  // The runs client registers the key with the redactor before it sends it.
  const runs = new QaTechRuns({ apiUrl, apiKey, timeoutMs: TIMEOUT_MS, maxInlineRetryAfterSeconds: -1 });
  try {
    const probe = await runs.probeAccess();
    if (probe.readable) return { ok: true, detail: probe.detail };
    return {
      ok: false,
      detail: `${probe.detail}; every verdict will say "Could not verify"`,
      fix: "use a QA.tech API key that may read test runs (QA.tech: Organization Settings -> API Keys), then run setup again",
    };
  } catch (error) {
    return {
      ok: false,
      detail: `could not tell: ${error instanceof Error ? error.message : String(error)}`,
      fix: "run doctor again later; if it persists, ask QA.tech support",
    };
  }
}

/** Who the Linear key acts as, and whether that user is a workspace admin (webhooks need one). */
export interface LinearViewer {
  id: string;
  name: string;
  admin: boolean;
}

/** Linear's key: the `viewer` query answers for a valid key, with the user the comments will come from. */
export async function checkLinear(
  apiUrl: string,
  apiKey: string,
): Promise<CheckResult & { viewer?: LinearViewer }> {
  registerSecret(apiKey);
  try {
    const viewer = await (await linearClient({ apiKey, apiUrl })).viewer;
    const who = { id: viewer.id, name: viewer.displayName || viewer.name, admin: viewer.admin };
    return { ok: true, detail: `key of ${who.name}${who.admin ? " (workspace admin)" : ""}`, viewer: who };
  } catch (error) {
    return linearRefusal(apiUrl, error, {
      ok: false,
      detail: "Linear refused the API key: it is wrong or revoked",
      fix: "create one in Linear: Settings -> Security & access -> Personal API keys",
    });
  }
}

/**
 * The Linear agent's OAuth access token: `viewer` (the app user) and `organization` (the workspace), as the
 * install's callback asks them. An OAuth token goes as `Authorization: Bearer <token>` (the SDK's
 * `accessToken`), an API key without a scheme. `refusedFix` is what to do when Linear refuses the token.
 */
export async function checkLinearAppToken(
  apiUrl: string,
  accessToken: string,
  refusedFix: string,
): Promise<CheckResult & { appUser?: { id: string; name: string }; workspace?: string }> {
  registerSecret(accessToken);
  try {
    const client = await linearClient({ accessToken, apiUrl });
    const [viewer, organization] = await Promise.all([client.viewer, client.organization]);
    const appUser = { id: viewer.id, name: viewer.displayName || viewer.name };
    return {
      ok: true,
      detail: `workspace ${organization.name}, app user ${appUser.name} (${appUser.id})`,
      appUser,
      workspace: organization.name,
    };
  } catch (error) {
    return linearRefusal(apiUrl, error, {
      ok: false,
      detail: "Linear refused the agent's access token (revoked, or the app was uninstalled)",
      fix: refusedFix,
    });
  }
}

/** A failed Linear call as a check: `refused` for an authentication error (401), else Linear was not reached. */
function linearRefusal(apiUrl: string, error: unknown, refused: CheckResult): CheckResult {
  const type = error instanceof Error ? error.constructor.name : "";
  const message = error instanceof Error ? error.message : String(error);
  if (/Authentication/i.test(type) || /authenticat/i.test(message)) return refused;
  return {
    ok: false,
    detail: `Linear (${apiUrl}) could not be asked: ${message}`,
    fix: "check linear.apiUrl and the network, then try again",
  };
}

/** Jira's site, email and token: GET /rest/api/3/myself answers 200 with the account for a valid pair. */
export async function checkJira(
  baseUrl: string,
  email: string,
  token: string,
): Promise<CheckResult & { accountId?: string }> {
  const basic = Buffer.from(`${email}:${token}`).toString("base64");
  // Jira's Basic credential goes out base64-encoded: an echo carries that form, not the token.
  registerSecret(token);
  registerSecret(basic);
  const auth = `Basic ${basic}`;
  const res = await send(`${baseUrl}/rest/api/3/myself`, {
    headers: { authorization: auth, accept: "application/json" },
  });
  if ("error" in res)
    return {
      ok: false,
      detail: `the Jira site ${baseUrl} could not be reached: ${res.error}`,
      fix: "check jira.baseUrl",
    };
  if (res.status === 401)
    return {
      ok: false,
      detail: `Jira refused the email and API token (401) for ${email}`,
      fix: "check the account's email and create a new token at id.atlassian.com -> Security -> API tokens",
    };
  if (res.status === 404)
    return {
      ok: false,
      detail: `${baseUrl} is not a Jira site (404 on /rest/api/3/myself)`,
      fix: "set jira.baseUrl to https://<site>.atlassian.net",
    };
  if (res.status !== 200)
    return {
      ok: false,
      detail: `Jira answered ${res.status}: ${messageOf(res.text)}`,
      fix: "check the account's access to the site",
    };
  const account = JSON.parse(res.text) as { accountId?: string; displayName?: string };
  return {
    ok: true,
    detail: `account ${account.displayName ?? account.accountId}`,
    accountId: account.accountId,
  };
}

/** A new webhook signing secret: 32 random bytes, hex. */
export function newSigningSecret(): string {
  const secret = randomBytes(32).toString("hex");
  registerSecret(secret);
  return secret;
}
