import { type CommentContext, composeComment } from "../shared/comment";
import { TransientError } from "../shared/errors";
import { helpText } from "../shared/follow-up";
import { labelChanges, type RunStage } from "../shared/labels";
import { createLogger } from "../shared/log";
import {
  changeReviewMode,
  followUpPrefix,
  jiraSettings,
  labelSettings,
  linearTriggerLabel,
  pollScheduleSettings,
  replyMode,
} from "../shared/settings";
import type { TrackerName } from "../shared/ticket";
import { commenters, labelers } from "../shared/trackers";
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

/** The stage a labelled run's comment marks, or null for comments that change no label (follow-ups, commands). */
function stageOf(state: WorkflowState, kind: "ack" | "reply" | "failure"): RunStage | null {
  if (state.followUp && state.thread?.action !== "retry") return null;
  if (kind === "ack") return "started";
  return kind === "reply" && state.reply?.status === "COMPLETED" ? "passed" : "failed";
}

/**
 * Shows the run's state in the ticket's labels, when the organisation configured any. A transient error
 * is the state machine's to retry (labels and comments are idempotent); any other is logged and the run
 * goes on: the comment, already posted, is what the ticket must have.
 */
async function updateLabels(state: WorkflowState, kind: "ack" | "reply" | "failure"): Promise<void> {
  const stage = stageOf(state, kind);
  if (!stage) return;
  const trigger = state.ticket.tracker === "linear" ? linearTriggerLabel() : jiraSettings().triggerLabel;
  const { add, remove } = labelChanges(stage, labelSettings(), trigger);
  if (add.length === 0 && remove.length === 0) return;
  try {
    const setLabels = await labelers[state.ticket.tracker]();
    const { skipped } = await setLabels(state.ticket, add, remove);
    log.info("labels updated", { runId: state.runId, stage, add, remove, skipped });
  } catch (error) {
    if (error instanceof TransientError) throw error;
    log.warn("labels not updated", { runId: state.runId, stage, error });
  }
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
  await updateLabels(state, comment.kind);
  if (comment.kind === "ack") {
    const { step: _, ...rest } = state;
    return { ...rest, ack: { id: result.id } };
  }
  return { ...state, comment: result };
}
