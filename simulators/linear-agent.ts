import { randomBytes, randomUUID } from "node:crypto";
import type http from "node:http";
import { connection, type FakeLinearIssue, GraphQLError, ratelimitedFault, UUID_V4 } from "./linear";
import { type Reply, readBody } from "./server";
import { signedLinearDelivery } from "./signing";

/**
 * Linear as an agent platform, plugged into the Linear simulator (simulators/linear.ts): the OAuth install
 * (authorize page, token endpoint with rotating refresh tokens, revoke), the Agent API (sessions, activities),
 * signed AgentSessionEvent webhooks, the 10-second rule and a per-app-user request budget. As strict as Linear
 * where Linear's rules are known; each rule names its source by one of these keys, or says that it is an assumption:
 * [OA] https://linear.app/developers/oauth-2-0-authentication, [ACT] https://linear.app/developers/oauth-actor-authorization,
 * [AG] https://linear.app/developers/agents, [AI] https://linear.app/developers/agent-interaction,
 * [BP] https://linear.app/developers/agent-best-practices, [SIG] https://linear.app/developers/agent-signals,
 * [RL] https://linear.app/developers/rate-limiting, [WH] https://linear.app/developers/webhooks,
 * [SDK98] the @linear/sdk 98 package (dist/index.d.mts, dist/index.mjs), [OI] github.com/ColeMurray/background-agents
 * (packages/linear-bot), [WB] github.com/linear/weather-bot.
 */

/** Options of the agent platform. */
export interface FakeLinearAgentOptions {
  clientId?: string;
  clientSecret?: string;
  /** The OAuth app's webhook signing secret ([OI], [WB]: the app's own, not a workspace webhook's). */
  webhookSecret?: string;
  /** The app user's id in the workspace ([AG]: one per workspace). Default "app-user-qa". */
  appUserId?: string;
  organization?: { id: string; name: string; urlKey: string };
  /**
   * Other workspaces whose admins may consent too: Linear's consent page lets the person pick the workspace
   * ([ACT]: actor=app installs into the workspace chosen there), and a public app can be installed by any
   * workspace's admin. The form's `organization` field picks one; the default is `organization`.
   */
  otherOrganizations?: Array<{ id: string; name: string; urlKey: string }>;
  /** Access token lifetime ([OA]: 86399 s). */
  accessTokenTtlSeconds?: number;
  /** Requests per app user and window ([RL]: 5,000 an hour per "User (or App User)"). */
  rateLimit?: { requests: number; windowMs: number };
  /**
   * Whether agentSessionCreateOnIssue is followed by a `created` webhook like a mention's. Not documented
   * ([AI] only says it starts a session): on by default, the harder case for the integration.
   */
  notifyProactiveSessions?: boolean;
  /**
   * The workspace's and teams' agent guidance, sent with every `created` as `guidance` and inside
   * `promptContext` (https://linear.app/developers/agent-interaction).
   */
  guidance?: Array<{ body: string; origin?: Record<string, unknown> }>;
}

/** A comment of a session's thread as the simulator keeps it. */
export interface FakeThreadComment {
  id: string;
  body: string;
  userId: string;
}

/** One activity of a session as the fake stores it. */
export interface FakeAgentActivity {
  id: string;
  sessionId: string;
  content: { type: string; body?: string; [key: string]: unknown };
  ephemeral: boolean;
  signal?: string;
  userId: string;
  createdAt: string;
}

/** One agent session. */
export interface FakeAgentSession {
  id: string;
  issue: FakeLinearIssue & { id: string };
  creatorId?: string;
  /** [AI] pending, active, error, awaitingInput, complete, stale. */
  status: string;
  externalUrls: Array<{ label: string; url: string }>;
  /** Every activity, ephemeral ones replaced by the next as Linear shows them ([AI]). */
  activities: FakeAgentActivity[];
  /** Every activity ever created in it, replaced ephemeral ones included, in order. */
  history: FakeAgentActivity[];
  /** The mention's comment text, when a mention opened it. */
  comment?: string;
  /**
   * The thread the session belongs to, root first, when a comment opened it: for a mention in a reply, the
   * earlier comments and then the mention ([AI]: the session's `comment` is the thread's root, and
   * `previousComments` the comments before the mention).
   */
  thread?: FakeThreadComment[];
  /** Delegated (assigned) rather than mentioned: Linear's own system comment roots the thread. */
  delegated?: boolean;
  createdAt: number;
  /** When the first activity or externalUrls arrived (ms since the epoch): the 10-second rule. */
  firstResponseAt?: number;
}

/** One webhook the fake delivered. */
export interface FakeAgentDelivery {
  delivery: string;
  action: string;
  sessionId: string;
  status: number;
  body: Record<string, unknown>;
  payload: Record<string, unknown>;
}

/** [AI]: the types an agent may create; `prompt` is user-only. */
const AGENT_TYPES = new Set(["thought", "action", "elicitation", "response", "error"]);
/** [AI]: ephemeral is allowed only for thought and action. */
const EPHEMERAL_TYPES = new Set(["thought", "action"]);
/** [AI][SIG] */
const SIGNALS = new Set(["auth", "continue", "select", "stop"]);
/** [AI][BP]: an activity or externalUrls within 10 s of `created`, else the session is unresponsive. */
export const RESPONSE_WINDOW_MS = 10_000;

function invalid(message: string): GraphQLError {
  return new GraphQLError(message, "invalid input", message);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The agent platform: OAuth, sessions, webhooks. Create it, pass it as `agent` to startFakeLinear. */
export class FakeLinearAgent {
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

  private readonly codes = new Map<
    string,
    { redirectUri: string; expiresAt: number; used: boolean; organizationId: string }
  >();
  private readonly accessTokens = new Map<
    string,
    { expiresAt: number; revoked: boolean; organizationId: string }
  >();
  private readonly refreshTokens = new Map<string, { spent: boolean; organizationId: string }>();
  private readonly budget = new Map<string, { windowStart: number; used: number }>();
  private readonly options: FakeLinearAgentOptions;

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
  private workspace(id: string): { id: string; name: string; urlKey: string } | undefined {
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
  private authorizePage(res: http.ServerResponse, params: URLSearchParams): void {
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
  private decide(res: http.ServerResponse, body: URLSearchParams): void {
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
  private async token(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
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
  private spend(userId: string): Reply | null {
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

  // --- Sessions and activities ([AI], [SDK98]) ---

  /** The GraphQL operations an app token may send, by the names the SDK uses ([SDK98] dist/index.mjs). */
  operations(): Record<
    string,
    (variables: Record<string, unknown>, caller: { userId: string; organizationId?: string }) => unknown
  > {
    return {
      viewer: (_v, caller) => ({
        viewer: {
          __typename: "User",
          id: caller.userId,
          name: "QA.tech",
          displayName: "qa-tech",
          app: true,
          isMe: true,
          active: true,
        },
      }),
      // The SDK's Organization model maps projectStatuses unconditionally.
      organization: (_v, caller) => ({
        organization: {
          __typename: "Organization",
          ...(this.workspace(caller.organizationId ?? "") ?? this.organization),
          projectStatuses: [],
        },
      }),
      createAgentActivity: (variables, caller) => this.createActivity(variables.input, caller),
      updateAgentSession: (variables, caller) =>
        this.updateSession(String(variables.id), variables.input, caller),
      agentSessionCreateOnIssue: (variables) => this.createOnIssue(variables.input),
      agentSession: (variables) => ({ agentSession: this.sessionNode(this.session(variables.id)) }),
      agentSession_activities: (variables) => {
        const session = this.session(variables.id);
        const count =
          typeof variables.last === "number"
            ? variables.last
            : typeof variables.first === "number"
              ? variables.first
              : 50;
        const all = session.activities.map((a) => this.activityNode(a));
        const nodes = typeof variables.last === "number" ? all.slice(-count) : all.slice(0, count);
        return { agentSession: { activities: connection("AgentActivityConnection", nodes) } };
      },
      agentActivity: (variables) => {
        for (const session of this.sessions.values()) {
          const found = session.activities.find((a) => a.id === variables.id);
          if (found) return { agentActivity: this.activityNode(found) };
        }
        throw new GraphQLError(
          "Entity not found: AgentActivity",
          "invalid input",
          "Could not find referenced AgentActivity.",
        );
      },
    };
  }

  private session(id: unknown): FakeAgentSession {
    const session = this.sessions.get(String(id));
    if (!session)
      throw new GraphQLError(
        "Entity not found: AgentSession",
        "invalid input",
        "Could not find referenced AgentSession.",
      );
    return session;
  }

  /** Adds an activity, the agent's or a person's; [AI]: an ephemeral activity is replaced by the next one. */
  private append(session: FakeAgentSession, activity: FakeAgentActivity): void {
    if (session.activities.at(-1)?.ephemeral) session.activities.pop();
    session.activities.push(activity);
    session.history.push(activity);
  }

  /** A client-chosen activity id ([AI]: a UUID v4); refused when any session already has it. */
  private claimable(id: string): void {
    if (!UUID_V4.test(id)) throw invalid("id must be a UUID v4");
    for (const other of this.sessions.values())
      if (other.activities.some((a) => a.id === id))
        throw invalid("An agent activity with this id already exists");
  }

  private responded(session: FakeAgentSession): void {
    session.firstResponseAt ??= Date.now();
  }

  private createActivity(input: unknown, caller: { userId: string }) {
    const i = (input ?? {}) as Record<string, unknown>;
    const session = this.session(i.agentSessionId);
    if (caller.userId !== this.appUserId)
      throw new GraphQLError("Forbidden", "forbidden", "Only the session's agent may post.");
    const content = i.content as FakeAgentActivity["content"] | undefined;
    if (!content || typeof content !== "object") throw invalid("content is required");
    if (content.type === "prompt") throw invalid("prompt activities can only be created by users");
    if (!AGENT_TYPES.has(String(content.type)))
      throw invalid(`content.type ${String(content.type)} is not valid`);
    if (content.type === "action") {
      if (typeof content.action !== "string" || typeof content.parameter !== "string")
        throw invalid("an action needs action and parameter");
    } else if (typeof content.body !== "string" || content.body.trim() === "")
      throw invalid("content.body is required");
    if (i.ephemeral === true && !EPHEMERAL_TYPES.has(content.type))
      throw invalid("ephemeral is allowed only for thought and action activities");
    if (i.signal !== undefined && !SIGNALS.has(String(i.signal))) throw invalid("signal is not valid");
    if (i.id !== undefined) this.claimable(String(i.id));
    const id = typeof i.id === "string" ? i.id : randomUUID();
    this.append(session, {
      id,
      sessionId: session.id,
      content,
      ephemeral: i.ephemeral === true,
      signal: typeof i.signal === "string" ? i.signal : undefined,
      userId: caller.userId,
      createdAt: this.now(),
    });
    this.responded(session);
    session.status =
      content.type === "response"
        ? "complete"
        : content.type === "error"
          ? "error"
          : content.type === "elicitation"
            ? "awaitingInput"
            : "active";
    return {
      agentActivityCreate: {
        __typename: "AgentActivityPayload",
        success: true,
        lastSyncId: 1,
        agentActivity: { id },
      },
    };
  }

  private updateSession(id: string, input: unknown, caller: { userId: string }) {
    const session = this.session(id);
    if (caller.userId !== this.appUserId)
      throw new GraphQLError(
        "Forbidden",
        "forbidden",
        "Only the OAuth application that owns the session can update it.",
      );
    const i = (input ?? {}) as Record<string, unknown>;
    if (i.externalUrls !== undefined) session.externalUrls = checkUrls(i.externalUrls);
    if (
      typeof i.summary === "string" &&
      (i.summary.length < 1 || i.summary.length > 255 || /[\n\0]/.test(i.summary))
    )
      throw invalid("summary must be 1 to 255 characters on one line");
    // [SDK98]: updating only the summary does not acknowledge the session; externalUrls does ([AI]).
    if (i.externalUrls !== undefined) this.responded(session);
    return {
      agentSessionUpdate: {
        __typename: "AgentSessionPayload",
        success: true,
        lastSyncId: 1,
        agentSession: { id },
      },
    };
  }

  private createOnIssue(input: unknown) {
    const i = (input ?? {}) as Record<string, unknown>;
    const issue = this.issues[String(i.issueId)];
    if (!issue)
      throw new GraphQLError("Entity not found: Issue", "invalid input", "Could not find the issue.");
    const session = this.open({ ...issue, id: String(i.issueId) }, undefined, undefined);
    if (i.externalUrls !== undefined) {
      session.externalUrls = checkUrls(i.externalUrls);
      this.responded(session);
    }
    if (this.options.notifyProactiveSessions ?? true) setImmediate(() => void this.send("created", session));
    return {
      agentSessionCreateOnIssue: {
        __typename: "AgentSessionPayload",
        success: true,
        lastSyncId: 1,
        agentSession: { id: session.id },
      },
    };
  }

  private lastTime = 0;
  /** Activity times never tie (clients order by createdAt). */
  private now(): string {
    this.lastTime = Math.max(Date.now(), this.lastTime + 1);
    return new Date(this.lastTime).toISOString();
  }

  private open(
    issue: FakeAgentSession["issue"],
    creatorId: string | undefined,
    comment: string | undefined,
  ): FakeAgentSession {
    const session: FakeAgentSession = {
      id: randomUUID(),
      issue,
      creatorId,
      status: "pending",
      externalUrls: [],
      activities: [],
      history: [],
      comment,
      createdAt: Date.now(),
    };
    this.sessions.set(session.id, session);
    return session;
  }

  private sessionNode(session: FakeAgentSession) {
    return {
      __typename: "AgentSession",
      id: session.id,
      status: session.status,
      type: "commentThread",
      url: `https://linear.app/${this.organization.urlKey}/issue/${session.issue.identifier}#agent-session-${session.id.slice(0, 8)}`,
      slugId: session.id.slice(0, 8),
      externalLinks: session.externalUrls.map((u) => ({ __typename: "AgentSessionExternalLink", ...u })),
      externalUrls: session.externalUrls,
      externalLink: null,
      appUser: { id: this.appUserId },
      creator: session.creatorId ? { id: session.creatorId } : null,
      issue: { id: session.issue.id },
      comment: null,
      sourceComment: null,
      createdAt: new Date(session.createdAt).toISOString(),
      updatedAt: new Date().toISOString(),
    };
  }

  private activityNode(a: FakeAgentActivity) {
    const typename = `AgentActivity${a.content.type[0].toUpperCase()}${a.content.type.slice(1)}Content`;
    return {
      __typename: "AgentActivity",
      id: a.id,
      createdAt: a.createdAt,
      updatedAt: a.createdAt,
      ephemeral: a.ephemeral,
      signal: a.signal ?? null,
      signalMetadata: null,
      sourceMetadata: null,
      content: { __typename: typename, ...a.content },
      agentSession: { id: a.sessionId },
      sourceComment: null,
      user: { id: a.userId },
      archivedAt: null,
    };
  }

  // --- What people do in Linear, and the webhooks it sends ([AI], [WH]) ---

  /**
   * Stores an activity with a chosen id in a session, as someone else posted it (another app, or a person):
   * no webhook is sent. The id is refused when taken, as createAgentActivity refuses it.
   */
  addActivity(opts: {
    sessionId: string;
    id: string;
    content: FakeAgentActivity["content"];
    userId: string;
  }): FakeAgentActivity {
    const session = this.session(opts.sessionId);
    this.claimable(opts.id);
    const activity: FakeAgentActivity = {
      id: opts.id,
      sessionId: session.id,
      content: opts.content,
      ephemeral: false,
      userId: opts.userId,
      createdAt: this.now(),
    };
    this.append(session, activity);
    return activity;
  }

  /** A session as Linear holds it when a webhook fixture names it (no webhook is sent). */
  addSession(opts: {
    id: string;
    issueId: string;
    creatorId?: string;
    externalUrls?: FakeAgentSession["externalUrls"];
  }) {
    const issue = this.issues[opts.issueId];
    if (!issue) throw new Error(`The simulator knows no issue ${opts.issueId}`);
    const session = this.open({ ...issue, id: opts.issueId }, opts.creatorId, undefined);
    this.sessions.delete(session.id);
    session.id = opts.id;
    session.externalUrls = opts.externalUrls ?? [];
    this.sessions.set(session.id, session);
    return session;
  }

  /**
   * Someone mentions the app in a new comment on an issue (or, without `text`, delegates the issue to it): a
   * session whose thread is rooted in that comment, and its `created`.
   */
  async mention(issueId: string, text: string | undefined, userId = "user-jane"): Promise<FakeAgentSession> {
    if (text === undefined) return this.delegate(issueId, userId);
    const session = this.open(this.issueOf(issueId), userId, text);
    session.thread = [{ id: `comment-${session.id.slice(0, 8)}`, body: text, userId }];
    await this.send("created", session);
    return session;
  }

  /**
   * Someone delegates the issue to the app ([AG]): Linear roots the session's thread in a system comment of
   * its own, which is no one's request; the person's words are the issue itself.
   */
  async delegate(issueId: string, userId = "user-jane"): Promise<FakeAgentSession> {
    const session = this.open(this.issueOf(issueId), userId, undefined);
    session.delegated = true;
    session.thread = [
      { id: `comment-${session.id.slice(0, 8)}`, body: DELEGATION_COMMENT, userId: this.appUserId },
    ];
    await this.send("created", session);
    return session;
  }

  /**
   * Someone mentions the app in a reply to an existing thread (`earlier`: the root, then earlier replies):
   * the session's `comment` is the root, `previousComments` the comments before the mention ([AI]), and
   * the mention itself is in `promptContext`'s primary-directive-thread.
   */
  async replyMention(
    issueId: string,
    earlier: Array<{ body: string; userId?: string }>,
    text: string,
    userId = "user-jane",
  ): Promise<FakeAgentSession> {
    if (earlier.length === 0) throw new Error("A reply needs a thread to reply to");
    const session = this.open(this.issueOf(issueId), userId, text);
    const short = session.id.slice(0, 8);
    session.thread = [
      ...earlier.map((c, i) => ({
        id: `comment-${short}-${i}`,
        body: c.body,
        userId: c.userId ?? "user-bob",
      })),
      { id: `comment-${short}-mention`, body: text, userId },
    ];
    await this.send("created", session);
    return session;
  }

  private issueOf(issueId: string): FakeAgentSession["issue"] {
    const issue = this.issues[issueId];
    if (!issue) throw new Error(`The simulator knows no issue ${issueId}`);
    return { ...issue, id: issueId };
  }

  /** Someone writes in the session: a prompt activity and its `prompted`. */
  async prompt(sessionId: string, text: string, userId = "user-jane"): Promise<FakeAgentActivity> {
    return this.userActivity(sessionId, { type: "prompt", body: text }, undefined, userId);
  }

  /** Someone picks "Send stop request" ([SIG]): a prompt with signal stop, delivered as `prompted`. */
  async stop(sessionId: string, userId = "user-jane"): Promise<FakeAgentActivity> {
    return this.userActivity(sessionId, { type: "prompt", body: "Stop" }, "stop", userId);
  }

  private async userActivity(
    sessionId: string,
    content: FakeAgentActivity["content"],
    signal: string | undefined,
    userId: string,
  ) {
    const session = this.session(sessionId);
    const activity: FakeAgentActivity = {
      id: randomUUID(),
      sessionId,
      content,
      ephemeral: false,
      signal,
      userId,
      createdAt: this.now(),
    };
    this.append(session, activity);
    await this.send("prompted", session, activity);
    return activity;
  }

  /** Delivers again a delivery already sent (Linear retries after 1 min, 1 h, 6 h [WH]), same Linear-Delivery. */
  async redeliver(delivery: FakeAgentDelivery): Promise<FakeAgentDelivery> {
    return this.post(delivery.payload, delivery.delivery, delivery.action, delivery.sessionId);
  }

  /** The sessions that broke the 10-second rule so far (tests fail on any). */
  unresponsive(now = Date.now()): FakeAgentSession[] {
    return [...this.sessions.values()].filter((s) =>
      s.firstResponseAt === undefined
        ? now - s.createdAt > RESPONSE_WINDOW_MS
        : s.firstResponseAt - s.createdAt > RESPONSE_WINDOW_MS,
    );
  }

  /** Time from `created` to the first activity or externalUrls, as the simulator saw it. */
  responseDelayMs(sessionId: string): number | undefined {
    const session = this.session(sessionId);
    return session.firstResponseAt === undefined ? undefined : session.firstResponseAt - session.createdAt;
  }

  private async send(
    action: "created" | "prompted",
    session: FakeAgentSession,
    activity?: FakeAgentActivity,
  ): Promise<FakeAgentDelivery> {
    const issue = session.issue;
    const agentSession: Record<string, unknown> = {
      id: session.id,
      status: session.status,
      type: "commentThread",
      appUserId: this.appUserId,
      organizationId: this.organization.id,
      issueId: issue.id,
      issue: {
        id: issue.id,
        identifier: issue.identifier,
        title: issue.title,
        description: issue.description ?? null,
        url: issue.url,
        teamId: issue.teamId,
      },
      createdAt: new Date(session.createdAt).toISOString(),
      updatedAt: new Date().toISOString(),
    };
    // [AI]: creator is unset for automation-initiated sessions.
    if (session.creatorId)
      Object.assign(agentSession, { creatorId: session.creatorId, creator: { id: session.creatorId } });
    // [AI]: `comment` is the root comment of the session's thread; the comment that asked is the source.
    const root = session.thread?.[0];
    if (root) {
      agentSession.comment = { id: root.id, body: root.body, userId: root.userId, issueId: issue.id };
      agentSession.commentId = root.id;
    }
    const source = session.delegated ? undefined : session.thread?.at(-1);
    if (source) agentSession.sourceCommentId = source.id;
    const payload: Record<string, unknown> = {
      type: "AgentSessionEvent",
      action,
      createdAt: new Date().toISOString(),
      organizationId: this.organization.id,
      oauthClientId: this.clientId,
      appUserId: this.appUserId,
      webhookId: "webhook-agent-1",
      agentSession,
      ...this.deliveryOverrides,
    };
    if (action === "created") {
      // [AI]: promptContext, guidance and previousComments come with `created` only; previousComments only
      // when a mention in a reply (not the thread's root) opened the session.
      const guidance = this.options.guidance ?? [];
      payload.guidance = guidance.map((g) => ({ body: g.body, origin: g.origin ?? { type: "workspace" } }));
      if (!session.delegated && session.thread && session.thread.length > 1)
        payload.previousComments = session.thread
          .slice(0, -1)
          .map((c) => ({ id: c.id, body: c.body, userId: c.userId, issueId: issue.id }));
      payload.promptContext = promptContext(session, guidance);
    }
    if (activity)
      payload.agentActivity = {
        id: activity.id,
        agentSessionId: session.id,
        content: activity.content,
        signal: activity.signal ?? null,
        userId: activity.userId,
        user: { id: activity.userId },
        createdAt: activity.createdAt,
        updatedAt: activity.createdAt,
      };
    return this.post(payload, randomUUID(), action, session.id);
  }

  private async post(
    payload: Record<string, unknown>,
    delivery: string,
    action: string,
    sessionId: string,
  ): Promise<FakeAgentDelivery> {
    if (!this.webhookUrl) throw new Error("The simulator's agent webhook URL is not set");
    // [WH]: webhookTimestamp inside the signed body; Linear-Signature is the hex HMAC-SHA256 of the raw body.
    const { body, headers } = signedLinearDelivery(payload, this.webhookSecret, { delivery });
    const response = await fetch(this.webhookUrl, {
      method: "POST",
      headers,
      body,
      signal: AbortSignal.timeout(5_000), // [WH]: an answer after 5 s is a failed delivery
    });
    const text = await response.text();
    const record: FakeAgentDelivery = {
      delivery,
      action,
      sessionId,
      status: response.status,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      payload,
    };
    this.deliveries.push(record);
    return record;
  }
}

/** Linear's own comment rooting a delegated issue's session thread (not anyone's request). */
export const DELEGATION_COMMENT = "This thread is for an agent session with QA.tech.";

function xmlText(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] ?? c);
}

/**
 * [AI]: an XML-like string with the issue, the thread that asked (the primary directive) and the guidance.
 * A delegation has no thread of a person's: Linear's system comment is not part of what was asked.
 */
function promptContext(session: FakeAgentSession, guidance: Array<{ body: string }>): string {
  const issue = session.issue;
  const parts = [
    `<issue identifier="${xmlText(issue.identifier)}">\n<title>${xmlText(issue.title ?? "")}</title>\n` +
      `<description>${xmlText(issue.description ?? "")}</description>\n</issue>`,
  ];
  if (!session.delegated && session.thread?.length) {
    const comments = session.thread.map(
      (c) => `<comment author="${xmlText(c.userId)}">\n${xmlText(c.body)}\n</comment>`,
    );
    parts.push(
      `<primary-directive-thread comment-id="${xmlText(session.thread[0].id)}">\n${comments.join("\n")}\n` +
        "</primary-directive-thread>",
    );
  }
  if (guidance.length)
    parts.push(
      `<guidance>\n${guidance.map((g) => `<guidance-rule>${xmlText(g.body)}</guidance-rule>`).join("\n")}\n</guidance>`,
    );
  return parts.join("\n");
}

function checkUrls(value: unknown): Array<{ label: string; url: string }> {
  if (!Array.isArray(value)) throw invalid("externalUrls must be a list");
  const urls = value.map((v) => {
    const item = (v ?? {}) as Record<string, unknown>;
    if (typeof item.label !== "string" || typeof item.url !== "string")
      throw invalid("externalUrls need label and url");
    return { label: item.label, url: item.url };
  });
  // [AI]: the URLs must be unique.
  if (new Set(urls.map((u) => u.url)).size !== urls.length) throw invalid("externalUrls must be unique");
  return urls;
}

async function form(req: http.IncomingMessage): Promise<URLSearchParams> {
  return new URLSearchParams(await readBody(req));
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(text);
}

function htmlPage(res: http.ServerResponse, status: number, title: string, inner: string): void {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8" });
  res.end(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
      `<body><main><h1>${escapeHtml(title)}</h1>${inner}</main></body></html>`,
  );
}
