import { createHash } from "node:crypto";
import type { TicketComment } from "../../domain/comment";
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

/** A step of the session's plan (https://linear.app/developers/agent-interaction#agent-plans, a technology preview). */
export interface PlanStep {
  content: string;
  status: "pending" | "inProgress" | "completed" | "canceled";
}

/** The plan's steps, in order: the conversation, QA.tech's tests, the wait for its test runs, the verdict. */
export const PLAN_STEPS = [
  "Open a QA.tech conversation",
  "QA.tech tests the ticket",
  "Wait for the test runs",
  "Verdict",
] as const;

/**
 * The session's plan once `comment` is posted, or null when it does not change the plan (a command's answer).
 * Linear replaces the whole plan with each update, so each is complete. The acknowledgement and progress while
 * QA.tech writes: the tests are under way; progress while its runs are waited for (`step: "runs"`): the wait;
 * the reply: all done. A reply that failed (QA.tech's reply failed or was cancelled, posted as an error) still
 * gives the verdict ("could not verify"), but its tests and runs were cut short: canceled. A failure: what was
 * done (the conversation, when it was opened) is completed, the rest canceled.
 */
export function planOf(comment: TicketComment): PlanStep[] | null {
  const steps = (...status: PlanStep["status"][]): PlanStep[] =>
    PLAN_STEPS.map((content, i) => ({ content, status: status[i] }));
  switch (comment.kind) {
    case "ack":
      return steps("completed", "inProgress", "pending", "pending");
    case "progress":
      return comment.step === "runs"
        ? steps("completed", "completed", "inProgress", "pending")
        : steps("completed", "inProgress", "pending", "pending");
    case "reply":
      return comment.failed
        ? steps("completed", "canceled", "canceled", "completed")
        : steps("completed", "completed", "completed", "completed");
    case "failure":
      return comment.link
        ? steps("completed", "canceled", "canceled", "canceled")
        : steps("canceled", "canceled", "canceled", "canceled");
    case "answer":
      return null;
  }
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
 * this ticket that names one, with the project the marker names (a route's). Text of anyone else, or a marker
 * copied from another ticket, names nothing.
 */
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
