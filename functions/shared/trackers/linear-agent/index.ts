import type { TicketComment } from "../../domain/comment";
import { keyedUuid } from "../../domain/marker";
import type { Ticket } from "../../domain/ticket";
import { SessionStopped } from "../../platform/errors";
import { forRun, functionLogger } from "../../platform/log";
import { getSecret } from "../../platform/secrets";
import { renderLinearComment } from "../linear/comment";
import { linearIssueOperations } from "../linear/issues";
import type { PostOptions, Tracker } from "../tracker";
import {
  agentAuth,
  createAgentActivity,
  createSessionOnIssue,
  sessionActivities,
  setSessionPlan,
  setSessionUrl,
} from "./api";
import { contentTypeOf, planOf, SESSION_LINK_LABEL, sessionConversation, stoppedSince } from "./session";
import { agentTokens } from "./token-store";

const logger = functionLogger("linear-agent");

/** The session a run posts to: the webhook's, or (a label run) the one its acknowledgement opened. */
function sessionOf(ticket: Ticket, options: PostOptions): string | undefined {
  return ticket.sessionId ?? options.placement?.parentId ?? options.placement?.replaceId;
}

/**
 * Posts a run's comment as session updates: the acknowledgement sets the Open link and says QA.tech is on it,
 * progress is an ephemeral thought, the reply or an answer the session's response, a failure an error. Before
 * anything is posted the session is read back: once its person asked to stop, nothing more is posted
 * (SessionStopped ends the run quietly). Each activity's id is keyed from the run and kind (keyedUuid),
 * so retries never post twice and nobody without the marker key can claim the id first. After the activity
 * (never before: Linear's 10-second rule wants an activity first), the session's plan follows it (updatePlan).
 */
async function postToSession(
  ticket: Ticket,
  comment: TicketComment,
  options: PostOptions,
): Promise<{ id: string; duplicate: boolean }> {
  let sessionId = sessionOf(ticket, options);
  const link = comment.link ? { label: SESSION_LINK_LABEL, url: comment.link.url } : undefined;
  if (!sessionId && comment.kind !== "ack") {
    // A label run that failed before its acknowledgement: no session to tell, so a comment on the issue, as
    // the label flow does. A session opened here would carry no link, and could not be told from a session
    // someone else opened when Linear reports it as `created` (webhook.ts).
    const { linear } = await import("../linear");
    return linear.postComment(ticket, comment, options);
  }
  if (!sessionId) {
    // A label run: its acknowledgement opens the session, already acknowledged by its link.
    sessionId = await createSessionOnIssue(ticket.id, link);
  } else {
    const activities = await sessionActivities(sessionId);
    if (stoppedSince(activities, options.followUpId)) {
      throw new SessionStopped(`The agent session ${sessionId} was stopped: ${comment.kind} not posted`);
    }
    if (comment.kind === "ack" && link) await setSessionUrl(sessionId, link);
  }
  const kind = comment.kind;
  const body =
    kind === "progress"
      ? comment.markdown
      : renderLinearComment({ ...comment, link: undefined }, options.trailer);
  const posted = await createAgentActivity({
    sessionId,
    id: keyedUuid(await getSecret("MARKER_KEY"), `${options.runId}:${kind}:${options.sequence ?? 0}`),
    content: { type: contentTypeOf(kind, comment.failed), body },
    // Progress is the reply's partial text, sent as it is, without our marker.
    trailer: kind === "progress" ? undefined : options.trailer,
    ephemeral: kind === "progress",
  });
  await updatePlan(sessionId, comment, options);
  return { id: sessionId, duplicate: posted.duplicate };
}

/**
 * Shows the run's steps in the session's plan (session.ts planOf), best effort: the plan is cosmetic, so a
 * refusal, a rate limit or an outage is logged and skipped (the next post sets the whole plan again), never
 * retried and never a reason to fail the comment that was posted.
 */
async function updatePlan(sessionId: string, comment: TicketComment, options: PostOptions): Promise<void> {
  const plan = planOf(comment);
  if (!plan) return;
  try {
    await setSessionPlan(sessionId, plan);
  } catch (error) {
    forRun(logger, options.runId).warn("session plan not updated", { sessionId, kind: comment.kind, error });
  }
}

/** The same issue reads and labels as the Linear tracker's, with the app's OAuth token (renewed on a 401). */
const issues = linearIssueOperations(() => agentAuth());

/** Linear as the agent app: the same issue reads and labels as Linear, with the app's OAuth token. */
export const linearAgent: Tracker = {
  postComment: postToSession,
  setLabels: issues.setLabels,
  async findThread(ticket, followUp) {
    const sessionId = ticket.sessionId ?? followUp.parentId;
    if (!sessionId) return { own: false, root: null };
    const { appUserId } = await agentTokens();
    if (followUp.authorId === appUserId) return { own: true, root: null };
    const activities = await sessionActivities(sessionId);
    const conversation = sessionConversation(activities, appUserId, await getSecret("MARKER_KEY"), ticket);
    return { own: false, root: conversation ? { rootId: sessionId, conversation } : null };
  },
  refreshTicket: issues.refreshTicket,
  linkedUrls: issues.attachmentUrls,
  moveTicket: issues.moveTicket,
};
