import { type CommentContext, composeComment } from "../shared/comment";
import { helpText } from "../shared/follow-up";
import { createLogger } from "../shared/log";
import {
  changeReviewMode,
  followUpPrefix,
  jiraSettings,
  linearTriggerLabel,
  pollScheduleSettings,
  replyMode,
} from "../shared/settings";
import type { TrackerName } from "../shared/ticket";
import { commenters } from "../shared/trackers";
import { placementOf } from "../shared/trackers/placement";
import type { WorkflowState } from "../shared/workflow-state";

const log = createLogger({ service: "qa-ticket", fn: "post-comment" });

function context(tracker: TrackerName): CommentContext {
  const mode = replyMode();
  const help = helpText({
    triggerLabel: tracker === "linear" ? linearTriggerLabel() : jiraSettings().triggerLabel,
    prefix: followUpPrefix(),
    replyMode: mode,
    changeReview: changeReviewMode(),
    replyTimeoutMinutes: Math.round(pollScheduleSettings().replyTimeoutSeconds / 60),
    tracker,
  });
  return { help, replyMode: mode };
}

/**
 * Comments on the ticket: the acknowledgement (the thread's root), then the reply, a command's answer or
 * what went wrong, in that thread. Each is posted once per run and kind, however often the step is retried.
 */
export async function handler(state: WorkflowState): Promise<WorkflowState> {
  const ctx = context(state.ticket.tracker);
  const comment = composeComment(state, ctx);
  const placement = placementOf(state, comment.kind, ctx.replyMode);
  const post = await commenters[state.ticket.tracker]();
  const result = await post(state.ticket, comment, state.runId, placement);
  log.info("comment posted", { runId: state.runId, kind: comment.kind, duplicate: result.duplicate });
  if (comment.kind === "ack") {
    const { step: _, ...rest } = state;
    return { ...rest, ack: { id: result.id } };
  }
  return { ...state, comment: result };
}
