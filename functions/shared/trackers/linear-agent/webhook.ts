import { stripPrefix } from "../../domain/follow-up";
import { capText, DESCRIPTION_MAX_BYTES, jsonBytes, KEY_MAX_BYTES } from "../../domain/limits";
import { keyedUuid } from "../../domain/marker";
import { boundedFollowUpText, boundedTicket, type Ticket, type Trigger } from "../../domain/ticket";
import { PayloadError } from "../../platform/errors";
import { isObject } from "../../platform/json";
import { getSecret } from "../../platform/secrets";
import { settings } from "../../platform/settings";
import type { ActContext, ActingWebhookSpec, StopRuns } from "../../webhook/handler";
import { issueRunPrefix } from "../../webhook/run-names";
import { withTimeout } from "../linear/client";
import { verifyLinearSignature } from "../linear/webhook";
import { createAgentActivity, sessionActivities, sessionUrls } from "./api";
import {
  createdRunId,
  FIRST_THOUGHT,
  PROMPT_THOUGHT,
  promptedRunId,
  STOPPED_RESPONSE,
  sessionRunPrefix,
} from "./session";
import { foreignDelivery } from "./token-store";

/**
 * Each Linear call of the webhook may take this long: Linear gives the whole delivery 5 s (https://linear.app/developers/webhooks), and a call that
 * times out fails the delivery (500), which Linear sends again.
 */
const WEBHOOK_CALL_TIMEOUT_MS = 2_000;

/** The text of a prompt activity: `content.body`, as implementers read it, else `body` as the docs say (§2). */
function promptText(activity: Record<string, unknown>): string {
  const content = isObject(activity.content) ? activity.content : {};
  if (typeof content.body === "string") return content.body;
  return typeof activity.body === "string" ? activity.body : "";
}

/** What a new session asks: Linear's own context for it, or the words gathered from the payload. */
type SessionRequest = { promptContext: string } | { asked: string };

/**
 * The session's issue as the ticket of its runs, with what the session asks. Linear's promptContext already
 * holds the issue, so it replaces the description; gathered words follow the issue's description, which is
 * cut first so that they keep their room. Null for a session on something other than an issue: QA.tech
 * tests what issues describe.
 */
function sessionTicket(session: Record<string, unknown>, request: SessionRequest): Ticket | null {
  const issue = isObject(session.issue) ? session.issue : {};
  const id = typeof issue.id === "string" ? issue.id : session.issueId;
  if (typeof id !== "string") return null;
  const issueDescription = typeof issue.description === "string" ? issue.description : "";
  let description: string;
  if ("promptContext" in request) {
    description = `Linear's context for this agent session (the issue, the thread that asked, the guidance):\n\n${request.promptContext}`;
  } else {
    const asked = request.asked.trim()
      ? `\n\nAsked in Linear's agent session:\n\n${boundedFollowUpText(request.asked.trim())}`
      : "";
    const room = Math.max(0, DESCRIPTION_MAX_BYTES - jsonBytes(asked));
    description = `${capText(issueDescription, room, " [cut]")}${asked}`;
  }
  return boundedTicket({
    tracker: "linear-agent",
    id,
    key: typeof issue.identifier === "string" ? issue.identifier : "session",
    title: typeof issue.title === "string" ? issue.title : "",
    url: typeof issue.url === "string" ? issue.url : typeof session.url === "string" ? session.url : "",
    description,
    teamId: typeof issue.teamId === "string" ? issue.teamId : undefined,
    sessionId: session.id as string,
  });
}

/** The `body` strings of a list of objects (previousComments, guidance); anything else is skipped. */
function bodies(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((item) =>
    isObject(item) && typeof item.body === "string" && item.body.trim() ? [item.body.trim()] : [],
  );
}

/**
 * What a `created` session asks, from all of Linear's input (https://linear.app/developers/agent-interaction):
 * its promptContext (the issue, the thread that asked, the other threads, the guidance) when present; else
 * the comments before the mention (`previousComments`), the mention, and the guidance. Never the thread's
 * root comment for its own sake: on a delegation it is Linear's system comment ("This thread is for an agent
 * session with ..."), and on a mention in a reply it is not the mention. All of it is untrusted text, bounded
 * with the ticket (boundedTicket).
 */
export function sessionRequest(
  payload: Record<string, unknown>,
  session: Record<string, unknown>,
): SessionRequest {
  if (typeof payload.promptContext === "string" && payload.promptContext.trim())
    return { promptContext: payload.promptContext };
  const parts = bodies(payload.previousComments);
  const comment = isObject(session.comment) ? session.comment : {};
  // The root is the mention only when the session started from it (a mention at the thread's root).
  const rootAsked =
    typeof session.sourceCommentId === "string" &&
    (session.sourceCommentId === session.commentId || session.sourceCommentId === comment.id);
  if (rootAsked && typeof comment.body === "string" && comment.body.trim()) parts.push(comment.body.trim());
  const guidance = bodies(payload.guidance);
  if (guidance.length)
    parts.push(`Guidance of the workspace and team:\n${guidance.map((g) => `- ${g}`).join("\n")}`);
  return { asked: parts.join("\n\n") };
}

/**
 * Turns an AgentSessionEvent into a run: `created` starts the session's conversation (named from the session,
 * so a redelivery maps to the same run); `prompted` sends the person's message to the same conversation (named
 * from the prompt activity); a prompt with the `stop` signal asks to stop the session's runs (https://linear.app/developers/agent-interaction,
 * https://linear.app/developers/agent-signals). Anything else is ignored.
 */
export function detectAgentEvent(payload: unknown, prefix = "@qa"): Trigger | null {
  if (!isObject(payload) || payload.type !== "AgentSessionEvent") return null;
  const session = payload.agentSession;
  if (!isObject(session) || typeof session.id !== "string" || session.id === "")
    throw new PayloadError("AgentSessionEvent without agentSession.id");
  if (payload.action === "created") {
    const ticket = sessionTicket(session, sessionRequest(payload, session));
    return ticket ? { runId: createdRunId(session.id), ticket } : null;
  }
  if (payload.action !== "prompted") return null;
  const activity = payload.agentActivity;
  if (!isObject(activity) || typeof activity.id !== "string" || jsonBytes(activity.id) > KEY_MAX_BYTES)
    throw new PayloadError("prompted AgentSessionEvent without a plausible agentActivity.id");
  const ticket = sessionTicket(session, { asked: "" });
  if (!ticket) return null;
  if (activity.signal === "stop")
    return { runId: promptedRunId(session.id, activity.id), ticket, stop: true };
  // `@qa status` in a session is the command `status`, as in a thread; the prefix is optional there.
  const text = (stripPrefix(promptText(activity), prefix) ?? promptText(activity)).trim();
  if (!text) return null;
  return {
    runId: promptedRunId(session.id, activity.id),
    ticket,
    followUp: {
      commentId: activity.id,
      parentId: session.id,
      authorId:
        typeof activity.userId === "string" && jsonBytes(activity.userId) <= KEY_MAX_BYTES
          ? activity.userId
          : undefined,
      text: boundedFollowUpText(text),
    },
  };
}

/** An AgentSessionEvent as the webhook acts on it: the run, and what `act` checks of the delivery. */
export interface AgentDelivery {
  trigger: Trigger;
  /** The install the delivery names (organizationId, appUserId, oauthClientId), as sent: foreignDelivery checks it. */
  install: Record<string, unknown>;
  /** The session's creator, as sent; none when the integration opened the session for a label run. */
  sessionCreatorId: unknown;
}

/** detectAgentEvent's run, with the fields of the delivery that acting on it needs, read once. */
export function detectAgentDelivery(payload: unknown, prefix = "@qa"): AgentDelivery | null {
  const trigger = detectAgentEvent(payload, prefix);
  if (!trigger || !isObject(payload)) return null;
  const session = isObject(payload.agentSession) ? payload.agentSession : {};
  return {
    trigger,
    install: {
      organizationId: payload.organizationId,
      appUserId: payload.appUserId,
      oauthClientId: payload.oauthClientId,
    },
    sessionCreatorId: session.creatorId,
  };
}

/** The run an acknowledgement's marker names (`qa-ticket <runId>/ack ...`, domain/marker.ts). */
const ACK_MARKER = /qa-ticket ([A-Za-z0-9_-]{1,80})\/ack /;

/**
 * Stops the label run (named under issueRunPrefix) that reports in this session: the one whose
 * acknowledgement the session holds, known by the activity's id (derived from the run's name) or by the run
 * its marker names. Only the app's own activities count: people write only prompts in a session, and only
 * the session's agent may post anything else (https://linear.app/developers/agent-interaction).
 */
async function stopLabelRun(issueId: string, sessionId: string, stop: StopRuns, cause: string) {
  const activities = await withTimeout(
    sessionActivities(sessionId),
    WEBHOOK_CALL_TIMEOUT_MS,
    "agentSession activities",
  );
  const own = activities.filter((a) => a.type !== "prompt");
  const ids = new Set(own.map((a) => a.id));
  const named = new Set(own.flatMap((a) => ACK_MARKER.exec(a.body)?.[1] ?? []));
  const key = await getSecret("MARKER_KEY");
  return stop(
    issueRunPrefix(issueId),
    cause,
    (name) => named.has(name) || ids.has(keyedUuid(key, `${name}:ack:0`)),
  );
}

/** Whether the session holds a stop prompt (https://linear.app/developers/agent-signals: a `prompt` activity with signal `stop`). */
async function stopRequested(sessionId: string): Promise<boolean> {
  const activities = await withTimeout(
    sessionActivities(sessionId),
    WEBHOOK_CALL_TIMEOUT_MS,
    "agentSession activities",
  );
  return activities.some((a) => a.signal === "stop");
}

/**
 * What the webhook does before answering, all within Linear's 5 s: on `created`, the first thought goes out
 * BEFORE the run starts, so Linear's 10 s rule is met however long the start queue is; on a stop, the session's
 * runs are stopped and the final response posted. Each activity has an id derived from what caused it, so a
 * redelivery posts nothing twice. An activity that cannot be posted (Linear's rate limit included) fails the
 * delivery with 500, and Linear delivers it again.
 */
async function actOnAgentEvent(
  { trigger, install, sessionCreatorId }: AgentDelivery,
  { start, stop }: ActContext,
): Promise<string> {
  const foreign = await foreignDelivery(install); // another workspace's or app's delivery starts nothing
  if (foreign) return foreign;
  const sessionId = trigger.ticket.sessionId as string;
  if (trigger.stop) {
    const cause = "The agent session's person asked to stop";
    let stopped = await stop(sessionRunPrefix(sessionId), cause);
    // A session without a creator was opened by a label run, named after its label change: the run whose
    // acknowledgement is in this session is the one to stop.
    if (!sessionCreatorId) stopped += await stopLabelRun(trigger.ticket.id, sessionId, stop, cause);
    await createAgentActivity({
      sessionId,
      id: keyedUuid(await getSecret("MARKER_KEY"), `${trigger.runId}:stopped`),
      content: { type: "response", body: STOPPED_RESPONSE },
      timeoutMs: WEBHOOK_CALL_TIMEOUT_MS,
    });
    return stopped > 0 ? "stopped" : "stopped (nothing was running)";
  }
  if (!trigger.followUp) {
    // A session the integration opened itself for a label run arrives as `created` too, without a creator
    // and already carrying its conversation's link: that run already serves it.
    if (!sessionCreatorId && (await sessionUrls(sessionId, WEBHOOK_CALL_TIMEOUT_MS)).length > 0)
      return "ignored (our own session)";
    // A stop can come before `created` is acted on (a first delivery that failed, delivered again later):
    // after a stop, no further action (https://linear.app/developers/agent-signals). The session's own
    // stop prompt is the tombstone, so nothing is stored elsewhere.
    if (await stopRequested(sessionId)) return "stopped before it started";
    await createAgentActivity({
      sessionId,
      id: keyedUuid(await getSecret("MARKER_KEY"), `${sessionId}:first-thought`),
      content: { type: "thought", body: FIRST_THOUGHT },
      timeoutMs: WEBHOOK_CALL_TIMEOUT_MS,
    });
    const outcome = await start(trigger);
    // A stop delivered while this run was being started found nothing to stop: read again, and stop it here.
    if (await stopRequested(sessionId)) {
      await stop(sessionRunPrefix(sessionId), "The agent session's person asked to stop");
      return "stopped as it started";
    }
    return outcome;
  }
  await createAgentActivity({
    sessionId,
    id: keyedUuid(await getSecret("MARKER_KEY"), `${trigger.runId}:prompt-thought`),
    content: { type: "thought", body: PROMPT_THOUGHT },
    ephemeral: true,
    timeoutMs: WEBHOOK_CALL_TIMEOUT_MS,
  });
  return start(trigger);
}

/**
 * The Linear agent's webhook (POST /webhooks/linear-agent): Linear's usual signature and 60 s window, with the
 * OAuth app's own webhook signing secret, and its AgentSessionEvent routed to detectAgentEvent and act.
 */
export function linearAgentWebhook(env: NodeJS.ProcessEnv = process.env): ActingWebhookSpec<AgentDelivery> {
  return {
    tracker: "linear-agent",
    deliveryHeader: "linear-delivery",
    verify: verifyLinearSignature("LINEAR_AGENT_WEBHOOK_SECRET", env),
    eventField: "type",
    events: {
      AgentSessionEvent: (payload) => detectAgentDelivery(payload, settings(env).comments.followUpPrefix),
    },
    runOf: (delivery) => delivery.trigger,
    act: actOnAgentEvent,
  };
}
