import { randomUUID } from "node:crypto";
import { signedLinearDelivery } from "../signing";
import { AgentSessions } from "./sessions";
import type { FakeAgentActivity, FakeAgentDelivery, FakeAgentSession } from "./types";

/** [AI][BP]: an activity or externalUrls within 10 s of `created`, else the session is unresponsive. */
export const RESPONSE_WINDOW_MS = 10_000;

/**
 * The agent platform: OAuth, sessions, webhooks. Create it, pass it as `agent` to startFakeLinear. This part:
 * what people do in Linear, and the webhooks it sends ([AI], [WH]).
 * Sources: the keys ([OA], [AI], [SDK98], ...) are those of index.ts.
 */
export class FakeLinearAgent extends AgentSessions {
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

  protected issueOf(issueId: string): FakeAgentSession["issue"] {
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

  protected async userActivity(
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

  protected async send(
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

  protected async post(
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
