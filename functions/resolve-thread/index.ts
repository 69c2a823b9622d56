import { threadAction } from "../shared/domain/thread";
import type { WorkflowState } from "../shared/domain/workflow-state";
import { ConfigError } from "../shared/platform/errors";
import { forRun, functionLogger } from "../shared/platform/log";
import { qatechClientFromSettings } from "../shared/qatech/from-settings";
import { newestAssistantMessage } from "../shared/qatech/reply";
import { trackerOf } from "../shared/trackers";

const logger = functionLogger("resolve-thread");

/**
 * Decides what a comment in a thread asks for (domain/thread.ts) from the thread as the tracker holds it:
 * the thread and its conversation are read back each time, never remembered. For `status` it asks QA.tech
 * where the conversation stands; for `retry` it reads the ticket's text back for the new conversation.
 */
export async function handler(state: WorkflowState): Promise<WorkflowState> {
  const followUp = state.followUp;
  if (!followUp) throw new ConfigError("resolve-thread ran without a follow-up");
  const tracker = await trackerOf(state.ticket.tracker);
  const { own, root, labelled } = await tracker.findThread(state.ticket, followUp);
  const action = threadAction({ own, ours: root !== null, labelled }, followUp.text, state.ticket.tracker);
  let latest: string | undefined;
  let conversation: { id: string; url?: string } | undefined = root?.conversation;
  if (action === "status" && root) {
    const found = await (await qatechClientFromSettings()).getConversation(root.conversation.id);
    const newest = newestAssistantMessage(found.messages);
    latest = newest ? (newest.isStreaming ? "PARTIAL" : newest.status) : "none";
    conversation = { id: found.shortId, url: found.url };
  }
  const ticket = action === "retry" ? await tracker.refreshTicket(state.ticket) : state.ticket;
  const reason =
    action === "ignore" && !own && !root
      ? "no conversation of ours on the ticket (and, for retry, no trigger label)"
      : undefined;
  forRun(logger, state.runId).info("thread resolved", {
    action,
    own,
    conversation: root?.conversation.id,
    labelled,
    reason,
  });
  return { ...state, ticket, thread: { action, rootId: root?.rootId, conversation, latest } };
}
