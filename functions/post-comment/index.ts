import { type CommentContext, composeComment } from "../shared/domain/comment";
import { helpText } from "../shared/domain/follow-up";
import { labelChanges, type RunStage } from "../shared/domain/labels";
import { type CommentKind, markerText } from "../shared/domain/marker";
import { placementOf } from "../shared/domain/placement";
import type { TrackerName } from "../shared/domain/ticket";
import type { WorkflowState } from "../shared/domain/workflow-state";
import { SessionStopped, TransientError } from "../shared/platform/errors";
import { forRun, functionLogger, type Logger } from "../shared/platform/log";
import { getSecret } from "../shared/platform/secrets";
import { type Settings, settings } from "../shared/platform/settings";
import { type Tracker, trackerOf } from "../shared/trackers";

const logger = functionLogger("post-comment");

/** The settings block of a tracker: the Linear agent is Linear's (its labels, its trigger label). */
function trackerSettings(s: Settings, tracker: TrackerName): Settings["linear"] | Settings["jira"] {
  return tracker === "linear-agent" ? s.linear : s[tracker];
}

function context(s: Settings, tracker: TrackerName): CommentContext {
  const help = helpText({
    triggerLabel: trackerSettings(s, tracker).triggerLabel,
    prefix: s.comments.followUpPrefix,
    replyMode: s.comments.replyMode,
    changeReview: s.qatech.changeReview,
    replyTimeoutMinutes: Math.round(s.replyTimeoutMinutes),
    tracker: tracker === "jira" ? "jira" : "linear",
  });
  return { help, replyMode: s.comments.replyMode };
}

/** The stage a labelled run's comment marks, or null for comments that change no label (follow-ups, commands). */
function stageOf(state: WorkflowState, kind: CommentKind): RunStage | null {
  if (kind === "answer" || kind === "progress" || (state.followUp && state.thread?.action !== "retry"))
    return null;
  if (kind === "ack") return "started";
  return kind === "reply" && state.reply?.status === "COMPLETED" ? "passed" : "failed";
}

/**
 * Shows the run's state in the ticket's labels, when the organisation configured any. A transient error
 * is the state machine's to retry (labels and comments are idempotent); any other is logged and the run
 * goes on: the comment, already posted, is what the ticket must have.
 */
async function updateLabels(
  log: Logger,
  tracker: Tracker,
  s: Settings,
  state: WorkflowState,
  kind: CommentKind,
): Promise<void> {
  const stage = stageOf(state, kind);
  if (!stage) return;
  const { add, remove } = labelChanges(
    stage,
    s.labels,
    trackerSettings(s, state.ticket.tracker).triggerLabel,
  );
  if (add.length === 0 && remove.length === 0) return;
  try {
    const { skipped } = await tracker.setLabels(state.ticket, add, remove);
    log.info("labels updated", { stage, add, remove, skipped });
  } catch (error) {
    if (error instanceof TransientError) throw error;
    log.warn("labels not updated", { stage, error });
  }
}

const KIND_NAMES: Record<CommentKind, string> = {
  ack: "the acknowledgement",
  reply: "QA.tech's reply",
  answer: "the answer to the command",
  failure: "the failure comment",
  progress: "the progress update",
};

/** What the state machine passes: the kind of comment (named by the task) and the run's state. */
export interface PostCommentEvent {
  kind: CommentKind;
  state: WorkflowState;
}

/**
 * Comments on the ticket: the acknowledgement (the thread's root), then the reply, a command's answer or
 * what went wrong, in that thread. Each is posted once per run and kind, however often the step is retried,
 * and ends with the integration's signed marker. An error keeps its name (for the state machine's Retry)
 * and says which comment could not be posted.
 */
export async function handler({ kind, state }: PostCommentEvent): Promise<WorkflowState> {
  const log = forRun(logger, state.runId);
  const s = settings();
  const ctx = context(s, state.ticket.tracker);
  const comment = composeComment(kind, state, ctx);
  const conversationId = state.conversation?.id ?? state.thread?.conversation?.id;
  const tracker = await trackerOf(state.ticket.tracker);
  let result: { id: string; duplicate: boolean };
  try {
    const trailer = markerText(await getSecret("MARKER_KEY"), state.ticket, {
      runId: state.runId,
      kind,
      conversationId,
    });
    result = await tracker.postComment(state.ticket, comment, {
      runId: state.runId,
      trailer,
      placement: placementOf(state, kind, ctx.replyMode),
      followUpId: state.followUp?.commentId,
      sequence: kind === "progress" ? state.progress?.sent : undefined,
    });
  } catch (error) {
    // A progress update is superseded by the next one: one that cannot be posted (Linear's rate limit
    // included) is skipped, never retried for hours, and never fails the run.
    if (kind === "progress" && !(error instanceof SessionStopped)) {
      log.warn("progress not posted", { error });
      return state;
    }
    if (error instanceof Error) error.message = `Could not post ${KIND_NAMES[kind]}: ${error.message}`;
    throw error;
  }
  log.info("comment posted", { kind, duplicate: result.duplicate });
  await updateLabels(log, tracker, s, state, kind);
  if (kind === "progress") return state;
  return kind === "ack" ? { ...state, ack: { id: result.id } } : { ...state, comment: result };
}
