import { randomBytes } from "node:crypto";
import type http from "node:http";
import { type FakeLinearIssue, ratelimitedFault } from "../linear";
import type { Reply } from "../server";
import { escapeHtml, form, htmlPage, json } from "./http";
import type { FakeAgentDelivery, FakeAgentSession, FakeLinearAgentOptions } from "./types";

/**
 * The agent platform's state and its OAuth install ([OA]): authorize page, token endpoint with rotating
 * refresh tokens, revoke, and the per-app-user request budget ([RL]).
 * Sources: the keys ([OA], [AI], [SDK98], ...) are those of index.ts.
 */
export class AgentOAuth {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly webhookSecret: string;
  readonly appUserId: string;
  readonly organization: { id: string; name: string; urlKey: string };
  readonly sessions = new Map<string, FakeAgentSession>();
  readonly deliveries: FakeAgentDelivery[] = [];
  /** Grants the token endpoint answered, by type (tests count refreshes). */
  readonly grants = { authorization_code: 0, refresh_token: 0, refused: 0 };
  /** Tokens revoked through /oauth/revoke, in order. */
  readonly revoked: string[] = [];
  /** Callback URLs configured on the OAuth app ([OA]: redirect_uri must be one of them). */
  readonly redirectUris = new Set<string>();
  /** Where the app's webhook points (the runner's /webhooks/linear-agent). */
  webhookUrl?: string;
  /**
   * Envelope fields the next deliveries carry instead of this install's (organizationId, appUserId,
   * oauthClientId): what another workspace's install of the app, or another app, sends to the same URL.
   */
  deliveryOverrides: Record<string, string> = {};
  /** Issues the fake workspace knows, by id (shared with the Linear simulator). */
  issues: Record<string, FakeLinearIssue> = {};

  protected readonly codes = new Map<
    string,
    { redirectUri: string; expiresAt: number; used: boolean; organizationId: string }
  >();
  protected readonly accessTokens = new Map<
    string,
    { expiresAt: number; revoked: boolean; organizationId: string }
  >();
  protected readonly refreshTokens = new Map<string, { spent: boolean; organizationId: string }>();
  protected readonly budget = new Map<string, { windowStart: number; used: number }>();
  protected readonly options: FakeLinearAgentOptions;

  constructor(options: FakeLinearAgentOptions = {}) {
    this.options = options;
    this.clientId = options.clientId ?? "qa_ticket_client_1234";
    this.clientSecret = options.clientSecret ?? "lin_oauth_client_secret_test";
    this.webhookSecret = options.webhookSecret ?? "lin_wh_agent_secret_test";
    this.appUserId = options.appUserId ?? "app-user-qa";
    this.organization = options.organization ?? { id: "org-acme", name: "Acme Inc", urlKey: "acme" };
  }

  // --- OAuth ([OA]) ---

  /** Issues a token pair directly (a test that starts installed); returns it. */
  issueTokens(organizationId = this.organization.id): {
    accessToken: string;
    refreshToken: string;
    expiresIn: number;
  } {
    const accessToken = `lin_oauth_${randomBytes(16).toString("hex")}`;
    const refreshToken = `lin_refresh_${randomBytes(16).toString("hex")}`;
    const expiresIn = this.options.accessTokenTtlSeconds ?? 86399;
    this.accessTokens.set(accessToken, {
      expiresAt: Date.now() + expiresIn * 1000,
      revoked: false,
      organizationId,
    });
    this.refreshTokens.set(refreshToken, { spent: false, organizationId });
    return { accessToken, refreshToken, expiresIn };
  }

  /** A workspace the app may be installed into, by id. */
  protected workspace(id: string): { id: string; name: string; urlKey: string } | undefined {
    return [this.organization, ...(this.options.otherOrganizations ?? [])].find((o) => o.id === id);
  }

  /** The app user's id in a workspace ([AG]: each workspace has its own). */
  appUserIdIn(organizationId: string): string {
    return organizationId === this.organization.id ? this.appUserId : `${this.appUserId}-${organizationId}`;
  }

  /** Makes every access token issued so far expired (as 24 h later). */
  expireAccessTokens(): void {
    for (const token of this.accessTokens.values()) token.expiresAt = 0;
  }

  /** Handles /oauth/* on the simulator; false for any other path. */
  async route(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<boolean> {
    if (!path.startsWith("/oauth/")) return false;
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (path === "/oauth/authorize" && method === "GET") this.authorizePage(res, url.searchParams);
    else if (path === "/oauth/authorize" && method === "POST") this.decide(res, await form(req));
    else if (path === "/oauth/token" && method === "POST") await this.token(req, res);
    else if (path === "/oauth/revoke" && method === "POST") {
      const token = (await form(req)).get("token") ?? "";
      const access = this.accessTokens.get(token);
      if (access) access.revoked = true;
      const refresh = this.refreshTokens.get(token);
      if (refresh) refresh.spent = true;
      if (access || refresh) this.revoked.push(token);
      json(res, 200, { success: true });
    } else json(res, 404, { error: "not_found" });
    return true;
  }

  /** The consent page ([OA] Authorize URL; [ACT] actor=app installs the app for the workspace). */
  protected authorizePage(res: http.ServerResponse, params: URLSearchParams): void {
    const refuse = (why: string) =>
      htmlPage(res, 400, "Authorization failed", `<p role="alert">${escapeHtml(why)}</p>`);
    if (params.get("client_id") !== this.clientId) {
      refuse("Unknown client_id.");
      return;
    }
    const redirectUri = params.get("redirect_uri") ?? "";
    // [OA]: the redirect_uri must be one of the app's callback URLs; an unknown one is never redirected to.
    if (!this.redirectUris.has(redirectUri)) {
      refuse("redirect_uri is not a callback URL of this app.");
      return;
    }
    if (params.get("response_type") !== "code") {
      refuse("response_type must be code.");
      return;
    }
    const scopes = (params.get("scope") ?? "").split(",").map((s) => s.trim());
    // [OA][AG]: read is always there; actor=app apps cannot request admin.
    if (!scopes.includes("read")) {
      refuse("scope must include read.");
      return;
    }
    if (params.get("actor") === "app" && scopes.includes("admin")) {
      refuse("actor=app cannot request admin.");
      return;
    }
    const hidden = ["client_id", "redirect_uri", "state", "scope", "organization"]
      .map((name) => `<input type="hidden" name="${name}" value="${escapeHtml(params.get(name) ?? "")}">`)
      .join("");
    htmlPage(
      res,
      200,
      `Authorize QA.tech for ${this.organization.name}`,
      `<p>QA.tech (Linear simulator) asks to join <strong>${escapeHtml(this.organization.name)}</strong> as an agent` +
        `${params.get("actor") === "app" ? " (installed for the workspace)" : ""}, with: ${escapeHtml(scopes.join(", "))}.</p>` +
        `<form method="post" action="/oauth/authorize">${hidden}` +
        '<button type="submit" name="decision" value="allow">Authorize</button> ' +
        '<button type="submit" name="decision" value="deny">Cancel</button></form>',
    );
  }

  /** The consent page's answer: back to the app with a code, or with error=access_denied (RFC 6749 §4.1.2). */
  protected decide(res: http.ServerResponse, body: URLSearchParams): void {
    const redirectUri = body.get("redirect_uri") ?? "";
    if (body.get("client_id") !== this.clientId || !this.redirectUris.has(redirectUri)) {
      htmlPage(res, 400, "Authorization failed", '<p role="alert">Unknown client or callback URL.</p>');
      return;
    }
    const target = new URL(redirectUri);
    const workspace = this.workspace(body.get("organization") || this.organization.id);
    if (!workspace) {
      htmlPage(res, 400, "Authorization failed", '<p role="alert">Unknown workspace.</p>');
      return;
    }
    if (body.get("decision") === "allow") {
      const code = randomBytes(12).toString("hex");
      // RFC 6749 §4.1.2: a code is short-lived (10 minutes at most) and used once.
      this.codes.set(code, {
        redirectUri,
        expiresAt: Date.now() + 10 * 60_000,
        used: false,
        organizationId: workspace.id,
      });
      target.searchParams.set("code", code);
    } else target.searchParams.set("error", "access_denied");
    target.searchParams.set("state", body.get("state") ?? "");
    res.writeHead(302, { location: target.toString() });
    res.end();
  }

  /** POST /oauth/token ([OA]: form-encoded; authorization_code and refresh_token grants). */
  protected async token(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const refuse = (status: number, error: string, description: string) => {
      this.grants.refused++;
      json(res, status, { error, error_description: description });
    };
    if (!String(req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
      refuse(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded");
      return;
    }
    const body = await form(req);
    const basic = /^Basic (.+)$/.exec(String(req.headers.authorization ?? ""))?.[1];
    const [basicId, basicSecret] = basic ? Buffer.from(basic, "base64").toString().split(":") : [];
    const clientId = body.get("client_id") ?? basicId;
    const clientSecret = body.get("client_secret") ?? basicSecret;
    if (clientId !== this.clientId || clientSecret !== this.clientSecret) {
      refuse(401, "invalid_client", "Client authentication failed");
      return;
    }
    const grant = body.get("grant_type");
    let organizationId = this.organization.id;
    if (grant === "authorization_code") {
      const code = this.codes.get(body.get("code") ?? "");
      if (!code || code.used || code.expiresAt < Date.now()) {
        refuse(400, "invalid_grant", "The authorization code is invalid, used or expired");
        return;
      }
      if (code.redirectUri !== body.get("redirect_uri")) {
        refuse(400, "invalid_grant", "redirect_uri does not match the authorization request");
        return;
      }
      code.used = true;
      organizationId = code.organizationId;
      this.grants.authorization_code++;
    } else if (grant === "refresh_token") {
      const presented = body.get("refresh_token") ?? "";
      const refresh = this.refreshTokens.get(presented);
      // [OA]: each refresh returns a new refresh token. That the old one is refused at once is the strict
      // reading (whether Linear allows a grace period is not documented, [OA]).
      if (!refresh || refresh.spent) {
        refuse(400, "invalid_grant", "The refresh token is invalid or was already used");
        return;
      }
      refresh.spent = true;
      organizationId = refresh.organizationId;
      this.grants.refresh_token++;
    } else {
      refuse(400, "unsupported_grant_type", `grant_type ${grant} is not supported`);
      return;
    }
    const issued = this.issueTokens(organizationId);
    json(res, 200, {
      access_token: issued.accessToken,
      token_type: "Bearer",
      expires_in: issued.expiresIn,
      scope: "read,write,app:assignable,app:mentionable",
      refresh_token: issued.refreshToken,
    });
  }

  /**
   * Who an Authorization header is: the app user for a live access token; a 401 for an expired, revoked or
   * unknown one (assumed: the SDK reads any 4xx without a GraphQL error type as AuthenticationLinearError);
   * null when it is not a bearer token (the API key path of the simulator).
   */
  authenticate(
    authorization: string | undefined,
  ): { userId: string; organizationId: string } | { reply: Reply } | null {
    const token = /^Bearer (.+)$/.exec(authorization ?? "")?.[1];
    if (!token) return null;
    const known = this.accessTokens.get(token);
    if (!known || known.revoked || known.expiresAt <= Date.now()) {
      const message = "Authentication required, not authenticated";
      const extensions = {
        type: "authentication error",
        userPresentableMessage: "Your access token expired or was revoked.",
      };
      return { reply: { status: 401, body: { errors: [{ message, extensions }] } } };
    }
    const userId = this.appUserIdIn(known.organizationId);
    const limited = this.spend(userId);
    return limited ? { reply: limited } : { userId, organizationId: known.organizationId };
  }

  /**
   * [RL]: a request budget per app user (not per token: a refreshed token does not start a new budget) and
   * window; over it, Linear's ratelimited error with its headers.
   */
  protected spend(userId: string): Reply | null {
    const limit = this.options.rateLimit ?? { requests: 5000, windowMs: 3_600_000 };
    const now = Date.now();
    const entry = this.budget.get(userId);
    const current = entry && now - entry.windowStart < limit.windowMs ? entry : { windowStart: now, used: 0 };
    current.used++;
    this.budget.set(userId, current);
    if (current.used <= limit.requests) return null;
    const resetAt = current.windowStart + limit.windowMs;
    return ratelimitedFault({
      limit: limit.requests,
      resetAt,
      retryAfterSeconds: Math.max(1, Math.ceil((resetAt - now) / 1000)),
    });
  }
}
