import { randomUUID } from "node:crypto";
import { connection, GraphQLError, UUID_V4 } from "../linear";
import { invalid } from "./http";
import { AgentOAuth } from "./oauth";
import type { FakeAgentActivity, FakeAgentDelivery, FakeAgentSession, FakePlanStep } from "./types";

/** [AI]: the types an agent may create; `prompt` is user-only. */
const AGENT_TYPES = new Set(["thought", "action", "elicitation", "response", "error"]);
/** [AI]: ephemeral is allowed only for thought and action. */
const EPHEMERAL_TYPES = new Set(["thought", "action"]);
/** [AI][SIG] */
const SIGNALS = new Set(["auth", "continue", "select", "stop"]);
/** [AI] https://linear.app/developers/agent-interaction#agent-plans: the statuses a plan's step may have. */
const PLAN_STATUSES = new Set(["pending", "inProgress", "completed", "canceled"]);

/**
 * Sessions and activities ([AI], [SDK98]): the GraphQL operations an app token may send.
 * Sources: the keys ([OA], [AI], [SDK98], ...) are those of index.ts.
 */
export abstract class AgentSessions extends AgentOAuth {
  /** Sends the app's webhook for a session (people.ts): a proactive session is announced with `created`. */
  protected abstract send(
    action: "created" | "prompted",
    session: FakeAgentSession,
    activity?: FakeAgentActivity,
  ): Promise<FakeAgentDelivery>;

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

  protected session(id: unknown): FakeAgentSession {
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
  protected append(session: FakeAgentSession, activity: FakeAgentActivity): void {
    if (session.activities.at(-1)?.ephemeral) session.activities.pop();
    session.activities.push(activity);
    session.history.push(activity);
  }

  /** A client-chosen activity id ([AI]: a UUID v4); refused when any session already has it. */
  protected claimable(id: string): void {
    if (!UUID_V4.test(id)) throw invalid("id must be a UUID v4");
    for (const other of this.sessions.values())
      if (other.activities.some((a) => a.id === id))
        throw invalid("An agent activity with this id already exists");
  }

  protected responded(session: FakeAgentSession): void {
    session.firstResponseAt ??= Date.now();
  }

  protected createActivity(input: unknown, caller: { userId: string }) {
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

  protected updateSession(id: string, input: unknown, caller: { userId: string }) {
    const session = this.session(id);
    if (caller.userId !== this.appUserId)
      throw new GraphQLError(
        "Forbidden",
        "forbidden",
        "Only the OAuth application that owns the session can update it.",
      );
    const i = (input ?? {}) as Record<string, unknown>;
    // Checked whole before anything changes: a refused update changes nothing.
    const urls = i.externalUrls !== undefined ? checkUrls(i.externalUrls) : undefined;
    if (
      typeof i.summary === "string" &&
      (i.summary.length < 1 || i.summary.length > 255 || /[\n\0]/.test(i.summary))
    )
      throw invalid("summary must be 1 to 255 characters on one line");
    const plan = i.plan !== undefined ? checkPlan(i.plan) : undefined;
    if (urls) session.externalUrls = urls;
    if (plan) {
      session.plan = plan;
      session.planHistory.push(plan);
    }
    // [SDK98]: updating only the summary does not acknowledge the session; externalUrls does ([AI]). Whether a
    // plan does is not documented: assumed not (the stricter case for the 10-second rule).
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

  protected createOnIssue(input: unknown) {
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

  protected lastTime = 0;
  /** Activity times never tie (clients order by createdAt). */
  protected now(): string {
    this.lastTime = Math.max(Date.now(), this.lastTime + 1);
    return new Date(this.lastTime).toISOString();
  }

  protected open(
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
      planHistory: [],
      comment,
      createdAt: Date.now(),
    };
    this.sessions.set(session.id, session);
    return session;
  }

  protected sessionNode(session: FakeAgentSession) {
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

  protected activityNode(a: FakeAgentActivity) {
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

/**
 * A plan as Linear takes it ([AI] https://linear.app/developers/agent-interaction#agent-plans): the whole list
 * of steps (each update replaces the plan), each `{ content, status }` with a non-empty content and one of the
 * four statuses. Anything else is refused as a GraphQL error, as Linear refuses input it does not accept.
 */
function checkPlan(value: unknown): FakePlanStep[] {
  if (!Array.isArray(value)) throw invalid("plan must be a list of steps");
  return value.map((v, n) => {
    const step = (v ?? {}) as Record<string, unknown>;
    if (typeof v !== "object" || v === null || Array.isArray(v))
      throw invalid(`plan[${n}] must be an object with content and status`);
    if (typeof step.content !== "string" || step.content.trim() === "")
      throw invalid(`plan[${n}].content must be a non-empty string`);
    if (typeof step.status !== "string" || !PLAN_STATUSES.has(step.status))
      throw invalid(`plan[${n}].status must be one of ${[...PLAN_STATUSES].join(", ")}`);
    return { content: step.content, status: step.status as FakePlanStep["status"] };
  });
}
