import type { LinearClient } from "@linear/sdk";
import { endsWithTrailer } from "../../domain/marker";
import { PermanentError, TransientError } from "../../platform/errors";
import { isObject } from "../../platform/json";
import { settings } from "../../platform/settings";
import { classifyLinearError, isAuthenticationError, type LinearAuth, linearCall } from "../linear/client";
import type { PlanStep } from "./session";
import { agentTokens, renewAgentTokens } from "./token-store";
import type { AgentTokens } from "./tokens";

/** An activity of a session, as this module reads it back. */
export interface AgentActivityInfo {
  id: string;
  /** content.type: thought, action, elicitation, response, error, prompt. */
  type: string;
  body: string;
  signal?: string;
  userId?: string;
  createdAt: string;
}

/**
 * How to reach Linear as the agent app: its access token and the configured API URL, renewed through the one
 * refresher when Linear answers 401 (it refreshes only if nobody did yet), so every call made with it, here
 * and in ../linear/issues.ts, is sent once more with the newer token.
 */
export async function agentAuth(tokens?: AgentTokens): Promise<LinearAuth & { tokens: AgentTokens }> {
  const current = tokens ?? (await agentTokens());
  return {
    accessToken: current.accessToken,
    apiUrl: settings().linear.apiUrl,
    tokens: current,
    renew: async () => agentAuth(await renewAgentTokens(current.accessToken)),
  };
}

/** One call as the agent app (linearCall: errors mapped, one renewal after a 401). */
async function agentCall<T>(
  what: string,
  work: (client: LinearClient) => Promise<T>,
  timeoutMs = 10_000,
): Promise<T> {
  return linearCall({ ...(await agentAuth()), timeoutMs }, what, work);
}

/** An activity's content (https://linear.app/developers/agent-interaction): thought, response, error, ... each with a markdown body. */
export interface ActivityContent {
  type: "thought" | "response" | "error" | "elicitation";
  body: string;
}

/**
 * Posts an activity with a client-chosen id, idempotently: when the create fails, the id is looked up, so an
 * activity that landed before its answer was lost (or a redelivered webhook's) counts as posted. It counts
 * only when it is provably that activity: in this session, by our app user, of this type, and ending with
 * `trailer` (an activity without one, a thought or progress, must have exactly this body). Any other
 * activity under the id is someone else's: a PermanentError, never a success.
 */
export async function createAgentActivity(req: {
  sessionId: string;
  id: string;
  content: ActivityContent;
  /** This run's marker, which `content.body` ends with; none for thoughts and progress. */
  trailer?: string;
  ephemeral?: boolean;
  /** Per call; default 10 s (the webhook, which Linear gives 5 s in all, uses less). */
  timeoutMs?: number;
}): Promise<{ id: string; duplicate: boolean }> {
  const auth = await agentAuth();
  return linearCall(
    { ...auth, timeoutMs: req.timeoutMs ?? 10_000 },
    "createAgentActivity",
    async (client) => {
      try {
        const payload = await client.createAgentActivity({
          agentSessionId: req.sessionId,
          id: req.id,
          content: { ...req.content },
          ...(req.ephemeral ? { ephemeral: true } : {}),
        });
        if (!payload.success)
          throw new PermanentError(`Linear did not create activity ${req.id} (success: false)`);
        return { id: req.id, duplicate: false };
      } catch (error) {
        if (isAuthenticationError(error)) throw error;
        // A lookup that failed for a moment proves nothing: another try may find our activity. Otherwise
        // (not found, or refused) the create's own error decides (a retry, or a refusal).
        const existing = await client.agentActivity(req.id).catch((lookupError: unknown) => {
          const mapped = classifyLinearError(lookupError, "agentActivity");
          if (mapped instanceof TransientError) throw mapped;
          return null;
        });
        if (!existing) throw error;
        if (isOurActivity(existing, req, auth.tokens.appUserId)) return { id: req.id, duplicate: true };
        throw new PermanentError(
          `Linear agent activity id ${req.id} is already taken by someone else: the activity under it is not ` +
            "this run's (ours, in this session, with this run's text); nothing was posted",
          { cause: error },
        );
      }
    },
  );
}

/** Whether an activity found under our id is the one we posted (see createAgentActivity). */
function isOurActivity(
  found: { id: string; agentSessionId?: string; userId?: string; content: unknown },
  req: { sessionId: string; id: string; content: ActivityContent; trailer?: string },
  appUserId: string,
): boolean {
  const content = isObject(found.content) ? found.content : {};
  const body = typeof content.body === "string" ? content.body : "";
  return (
    found.id === req.id &&
    found.agentSessionId === req.sessionId &&
    found.userId === appUserId &&
    content.type === req.content.type &&
    (req.trailer ? endsWithTrailer(body, req.trailer) : body.trim() === req.content.body.trim())
  );
}

/** Sets the session's external link: Linear shows it as the Open button (and it acknowledges the session). */
export async function setSessionUrl(sessionId: string, link: { label: string; url: string }): Promise<void> {
  await agentCall("updateAgentSession", async (client) => {
    const payload = await client.updateAgentSession(sessionId, { externalUrls: [link] });
    if (!payload.success) throw new PermanentError(`Linear did not update session ${sessionId}`);
  });
}

/**
 * Replaces the session's plan (https://linear.app/developers/agent-interaction#agent-plans: a technology
 * preview; each update is the whole list). One call, no retry of its own: callers treat it as cosmetic.
 */
export async function setSessionPlan(sessionId: string, plan: PlanStep[], timeoutMs = 5_000): Promise<void> {
  await agentCall(
    "updateAgentSession plan",
    async (client) => {
      const payload = await client.updateAgentSession(sessionId, { plan });
      if (!payload.success)
        throw new PermanentError(`Linear did not update the plan of session ${sessionId}`);
    },
    timeoutMs,
  );
}

/** Opens a session on an issue (a label run), already acknowledged by its link; returns its id. */
export async function createSessionOnIssue(
  issueId: string,
  link?: { label: string; url: string },
): Promise<string> {
  return agentCall("agentSessionCreateOnIssue", async (client) => {
    const payload = await client.agentSessionCreateOnIssue({
      issueId,
      ...(link ? { externalUrls: [link] } : {}),
    });
    const id = payload.agentSessionId;
    if (!payload.success || !id) throw new PermanentError(`Linear did not open a session on ${issueId}`);
    return id;
  });
}

/** The session's external URLs (an empty list before anyone set them). */
export async function sessionUrls(sessionId: string, timeoutMs?: number): Promise<string[]> {
  return agentCall(
    "agentSession",
    async (client) => {
      const session = await client.agentSession(sessionId);
      return session.externalLinks.map((link) => link.url);
    },
    timeoutMs,
  );
}

/** The session's activities, oldest first (the most recent `first`, default 100). */
export async function sessionActivities(sessionId: string, first = 100): Promise<AgentActivityInfo[]> {
  return agentCall("agentSession activities", async (client) => {
    // The SDK's own query for AgentSession.activities() (one request instead of agentSession + activities),
    // its errors parsed as the client's own calls parse them (a 401 is then AuthenticationError).
    const { AgentSession_ActivitiesQuery, parseLinearError } = await import("@linear/sdk");
    const request = (document: string, variables?: Record<string, unknown>) =>
      client.client.request(document, variables).catch((error: unknown) => {
        throw parseLinearError(error as never);
      });
    const connection = await new AgentSession_ActivitiesQuery(request as never, sessionId, {
      last: first,
    }).fetch();
    return connection.nodes
      .map((node): AgentActivityInfo => {
        const content = isObject(node.content) ? (node.content as Record<string, unknown>) : {};
        const info: AgentActivityInfo = {
          id: node.id,
          type: typeof content.type === "string" ? content.type : "",
          body: typeof content.body === "string" ? content.body : "",
          createdAt: node.createdAt.toISOString(),
        };
        if (node.signal) info.signal = node.signal;
        if (node.userId) info.userId = node.userId;
        return info;
      })
      .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
  });
}
