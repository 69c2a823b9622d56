import { composeComment } from "../shared/comment";
import { createLogger } from "../shared/log";
import { commenters } from "../shared/trackers";
import type { WorkflowState } from "../shared/workflow-state";

const log = createLogger({ service: "qa-ticket", fn: "post-comment" });

/** Comments the outcome of a run on its ticket: the reply, or what went wrong. Posted once per run and kind. */
export async function handler(state: WorkflowState): Promise<WorkflowState> {
  const comment = composeComment(state);
  const post = await commenters[state.ticket.tracker]();
  const result = await post(state.ticket, comment, state.runId);
  log.info("comment posted", { runId: state.runId, kind: comment.kind, duplicate: result.duplicate });
  return { ...state, comment: result };
}
