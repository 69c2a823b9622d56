import { type CommentContext, composeComment } from "../shared/domain/comment";
import { helpText } from "../shared/domain/follow-up";
import { labelChanges, type RunStage } from "../shared/domain/labels";
import { type CommentKind, markerText } from "../shared/domain/marker";
import { moveFor } from "../shared/domain/moves";
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

/**
 * The stage a comment marks: the start, or the verdict a labelled run (a retry, a rerun) ends with; null for
 * comments that change no label (questions in the thread, commands). A failure is "could not verify": an
 * integration failure is never shown as a failed test.
 */
function stageOf(state: WorkflowState, kind: CommentKind): RunStage | null {
  if (kind === "answer" || kind === "progress") return null;
  const action = state.followUp ? state.thread?.action : undefined;
  if (action === "rerun") return kind === "reply" ? (state.verdict?.outcome ?? "unverified") : null;
  if (state.followUp && action !== "retry") return null;
  if (kind === "ack") return "started";
  return kind === "reply" ? (state.verdict?.outcome ?? "unverified") : "unverified";
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
  stage: RunStage | null,
): Promise<void> {
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

/**
 * Moves the ticket as the organisation configured for the verdict (off by default), before the comment is
 * posted so that a move that cannot be made is said in it: never silent, never retried. A transient error is
 * the state machine's to retry (a move already made is found in place and not made again).
 */
async function moveTicket(
  log: Logger,
  tracker: Tracker,
  s: Settings,
  state: WorkflowState,
  stage: RunStage | null,
): Promise<string[]> {
  if (!stage || stage === "started") return [];
  const to = moveFor(stage, trackerSettings(s, state.ticket.tracker).moves);
  if (!to) return [];
  try {
    const result = await tracker.moveTicket(state.ticket, to);
    if (result.moved) {
      log.info("ticket moved", { stage, to: result.to });
      return [];
    }
    log.warn("ticket not moved", { stage, to, reason: result.reason });
    return [`The ticket was not moved: ${result.reason}`];
  } catch (error) {
    if (error instanceof TransientError) throw error;
    log.warn("ticket not moved", { stage, to, error });
    return [`The ticket was not moved to "${to}": ${error instanceof Error ? error.message : String(error)}`];
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
  const tracker = await trackerOf(state.ticket.tracker);
  const stage = stageOf(state, kind);
  const notes = await moveTicket(log, tracker, s, state, stage);
  const ctx = { ...context(s, state.ticket.tracker), notes };
  const comment = composeComment(kind, state, ctx);
  const conversationId = state.conversation?.id ?? state.thread?.conversation?.id;
  // The project travels with its conversation, signed in the marker: follow-ups find it there.
  const projectShortId = state.conversation
    ? state.conversation.projectShortId
    : state.thread?.conversation?.projectShortId;
  let result: { id: string; duplicate: boolean };
  try {
    const trailer = markerText(await getSecret("MARKER_KEY"), state.ticket, {
      runId: state.runId,
      kind,
      conversationId,
      projectShortId,
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
  await updateLabels(log, tracker, s, state, stage);
  if (kind === "progress") return state;
  return kind === "ack" ? { ...state, ack: { id: result.id } } : { ...state, comment: result };
}
