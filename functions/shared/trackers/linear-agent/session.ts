import { createHash } from "node:crypto";
import type { CommentKind } from "../../domain/marker";
import { conversationWithProject, readMarker } from "../../domain/marker";
import type { Ticket } from "../../domain/ticket";
import type { ActivityContent, AgentActivityInfo } from "./api";

/**
 * What a run says in a Linear agent session, and what it reads back from one. Pure: the session's activities
 * are the memory (https://linear.app/developers/agent-best-practices: rebuild history from the activities), nothing is stored elsewhere.
 */

/** The first thought, posted by the webhook within Linear's 10 s (https://linear.app/developers/agent-interaction). */
export const FIRST_THOUGHT = "Opening a QA.tech conversation...";
/** The thought a message in the session gets at once, before it reaches the conversation. */
export const PROMPT_THOUGHT = "Sending your message to the QA.tech conversation...";
/** The final response to a stop request; nothing is posted after it. */
export const STOPPED_RESPONSE =
  "Stopped, as asked: qa-ticket no longer follows the QA.tech conversation and posts nothing more in this " +
  "session. The conversation may still finish in QA.tech. Mention QA.tech again to start afresh.";

/** The link on the session's Open button. */
export const SESSION_LINK_LABEL = "QA.tech conversation";

/** The execution names of one session's runs start with this (StopExecution finds them by it). */
export function sessionRunPrefix(sessionId: string): string {
  return `linear-agent-${createHash("sha256").update(sessionId).digest("hex").slice(0, 16)}`;
}

/** The run a session's `created` starts: one per session, however often Linear delivers it. */
export function createdRunId(sessionId: string): string {
  return sessionRunPrefix(sessionId);
}

/** The run a message in the session starts: one per prompt activity. */
export function promptedRunId(sessionId: string, activityId: string): string {
  return `${sessionRunPrefix(sessionId)}-${createHash("sha256").update(activityId).digest("hex").slice(0, 12)}`;
}

/** Which activity type each of a run's comments becomes (https://linear.app/developers/agent-interaction): what failed is an error. */
export function contentTypeOf(kind: CommentKind, failed = false): ActivityContent["type"] {
  if (kind === "failure" || failed) return "error";
  if (kind === "ack" || kind === "progress") return "thought";
  return "response";
}

/**
 * Whether the session was asked to stop after this run began: a `stop` prompt newer than the prompt that
 * started it (a run from `created` or from a label began with the session, so any stop counts). A stop older
 * than the run's own prompt belongs to an earlier run and must not silence this one (cyrus#1389).
 */
export function stoppedSince(activities: AgentActivityInfo[], runPromptId?: string): boolean {
  const since = runPromptId ? activities.find((a) => a.id === runPromptId)?.createdAt : undefined;
  const after = since ? Date.parse(since) : Number.NEGATIVE_INFINITY;
  return activities.some(
    (a) => a.signal === "stop" && a.id !== runPromptId && Date.parse(a.createdAt) >= after,
  );
}

/**
 * The session's conversation: the newest activity written by the app whose last line is a marker signed for
 * this ticket that names one. Text of anyone else, or a marker copied from another ticket, names nothing.
 */
export function conversationOf(
  activities: AgentActivityInfo[],
  appUserId: string,
  markerKey: string,
  ticket: Pick<Ticket, "tracker" | "id">,
): string | null {
  return sessionConversation(activities, appUserId, markerKey, ticket)?.id ?? null;
}

/** The session's conversation as conversationOf finds it, with the project its marker names (a route's). */
export function sessionConversation(
  activities: AgentActivityInfo[],
  appUserId: string,
  markerKey: string,
  ticket: Pick<Ticket, "tracker" | "id">,
): { id: string; projectShortId?: string } | null {
  for (const activity of [...activities].reverse()) {
    if (activity.userId !== appUserId) continue;
    const marker = readMarker(markerKey, ticket, activity.body);
    if (marker?.conversationId) return conversationWithProject(marker.conversationId, marker.projectShortId);
  }
  return null;
}
