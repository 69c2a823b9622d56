import { stripPrefix } from "../../domain/follow-up";
import { jsonBytes, KEY_MAX_BYTES } from "../../domain/limits";
import { boundedFollowUpText, boundedTicket, type Ticket, type Trigger } from "../../domain/ticket";
import { PayloadError } from "../../platform/errors";
import { isObject } from "../../platform/json";
import { settings } from "../../platform/settings";
import type { ActContext, WebhookSpec } from "../../webhook/handler";
import { deterministicUuid } from "../linear/comment";
import { verifyLinearSignature } from "../linear/webhook";
import { createAgentActivity, sessionUrls } from "./api";
import {
  createdRunId,
  FIRST_THOUGHT,
  PROMPT_THOUGHT,
  promptedRunId,
  STOPPED_RESPONSE,
  sessionRunPrefix,
} from "./session";
import { foreignDelivery } from "./tokens";

/**
 * Each Linear call of the webhook may take this long: Linear gives the whole delivery 5 s ([WH]), and a call that
 * times out fails the delivery (500), which Linear sends again.
 */
const WEBHOOK_CALL_TIMEOUT_MS = 2_000;

/** The text of a prompt activity: `content.body`, as implementers read it, else `body` as the docs say (§2). */
function promptText(activity: Record<string, unknown>): string {
  const content = isObject(activity.content) ? activity.content : {};
  if (typeof content.body === "string") return content.body;
  return typeof activity.body === "string" ? activity.body : "";
}

/**
 * The session's issue as the ticket of its runs; the person's request (the mention) goes with its text. Null
 * for a session on something other than an issue: QA.tech tests what issues describe.
 */
function sessionTicket(session: Record<string, unknown>, request: string): Ticket | null {
  const issue = isObject(session.issue) ? session.issue : {};
  const id = typeof issue.id === "string" ? issue.id : session.issueId;
  if (typeof id !== "string") return null;
  const description = typeof issue.description === "string" ? issue.description : "";
  const asked = request.trim() ? `\n\nAsked in Linear's agent session:\n\n${request.trim()}` : "";
  return boundedTicket({
    tracker: "linear-agent",
    id,
    key: typeof issue.identifier === "string" ? issue.identifier : "session",
    title: typeof issue.title === "string" ? issue.title : "",
    url: typeof issue.url === "string" ? issue.url : typeof session.url === "string" ? session.url : "",
    description: `${description}${asked}`,
    teamId: typeof issue.teamId === "string" ? issue.teamId : undefined,
    sessionId: session.id as string,
  });
}

/**
 * Turns an AgentSessionEvent into a run: `created` starts the session's conversation (named from the session,
 * so a redelivery maps to the same run); `prompted` sends the person's message to the same conversation (named
 * from the prompt activity); a prompt with the `stop` signal asks to stop the session's runs (linear-agents.md
 * §2, §5). Anything else is ignored.
 */
export function detectAgentEvent(payload: unknown, prefix = "@qa"): Trigger | null {
  if (!isObject(payload) || payload.type !== "AgentSessionEvent") return null;
  const session = payload.agentSession;
  if (!isObject(session) || typeof session.id !== "string" || session.id === "")
    throw new PayloadError("AgentSessionEvent without agentSession.id");
  if (payload.action === "created") {
    const comment =
      isObject(session.comment) && typeof session.comment.body === "string" ? session.comment.body : "";
    const ticket = sessionTicket(session, comment);
    return ticket ? { runId: createdRunId(session.id), ticket } : null;
  }
  if (payload.action !== "prompted") return null;
  const activity = payload.agentActivity;
  if (!isObject(activity) || typeof activity.id !== "string" || jsonBytes(activity.id) > KEY_MAX_BYTES)
    throw new PayloadError("prompted AgentSessionEvent without a plausible agentActivity.id");
  const ticket = sessionTicket(session, "");
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

/**
 * What the webhook does before answering, all within Linear's 5 s: on `created`, the first thought goes out
 * BEFORE the run starts, so Linear's 10 s rule is met however long the start queue is; on a stop, the session's
 * runs are stopped and the final response posted. Each activity has an id derived from what caused it, so a
 * redelivery posts nothing twice. An activity that cannot be posted (Linear's rate limit included) fails the
 * delivery with 500, and Linear delivers it again.
 */
async function actOnAgentEvent(trigger: Trigger, { payload, start, stop }: ActContext): Promise<string> {
  const foreign = await foreignDelivery(payload); // another workspace's or app's delivery starts nothing
  if (foreign) return foreign;
  const sessionId = trigger.ticket.sessionId as string;
  if (trigger.stop) {
    const stopped = await stop(sessionRunPrefix(sessionId), "The agent session's person asked to stop");
    await createAgentActivity({
      sessionId,
      id: deterministicUuid(`${trigger.runId}:stopped`),
      content: { type: "response", body: STOPPED_RESPONSE },
      timeoutMs: WEBHOOK_CALL_TIMEOUT_MS,
    });
    return stopped > 0 ? "stopped" : "stopped (nothing was running)";
  }
  if (!trigger.followUp) {
    // A session the integration opened itself for a label run arrives as `created` too, without a creator
    // and already carrying its conversation's link: that run already serves it.
    const session = isObject(payload) && isObject(payload.agentSession) ? payload.agentSession : {};
    if (!session.creatorId && (await sessionUrls(sessionId, WEBHOOK_CALL_TIMEOUT_MS)).length > 0)
      return "ignored (our own session)";
    await createAgentActivity({
      sessionId,
      id: deterministicUuid(`${sessionId}:first-thought`),
      content: { type: "thought", body: FIRST_THOUGHT },
      timeoutMs: WEBHOOK_CALL_TIMEOUT_MS,
    });
  } else {
    await createAgentActivity({
      sessionId,
      id: deterministicUuid(`${trigger.runId}:prompt-thought`),
      content: { type: "thought", body: PROMPT_THOUGHT },
      ephemeral: true,
      timeoutMs: WEBHOOK_CALL_TIMEOUT_MS,
    });
  }
  return start(trigger);
}

/**
 * The Linear agent's webhook (POST /webhooks/linear-agent): Linear's usual signature and 60 s window, with the
 * OAuth app's own webhook signing secret, and its AgentSessionEvent routed to detectAgentEvent and act.
 */
export function linearAgentWebhook(env: NodeJS.ProcessEnv = process.env): WebhookSpec {
  return {
    tracker: "linear-agent",
    deliveryHeader: "linear-delivery",
    verify: verifyLinearSignature("LINEAR_AGENT_WEBHOOK_SECRET", env),
    eventField: "type",
    events: {
      AgentSessionEvent: (payload) => detectAgentEvent(payload, settings(env).comments.followUpPrefix),
    },
    act: actOnAgentEvent,
  };
}
