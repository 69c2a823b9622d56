import { parseFollowUp } from "../shared/domain/follow-up";
import type { ThreadAction, WorkflowState } from "../shared/domain/workflow-state";
import { ConfigError } from "../shared/platform/errors";
import { createLogger } from "../shared/platform/log";
import { newestAssistantMessage } from "../shared/qatech/client";
import { qatechClientFromEnv } from "../shared/qatech/from-settings";
import { threadFinders, ticketRefreshers } from "../shared/trackers/threads";

const log = createLogger({ service: "qa-ticket", fn: "resolve-thread" });

/**
 * Decides what a comment in a thread asks for: ignore it (ours, or not our thread), answer a command
 * (`retry`, `status`, `help`), or send it to the thread's conversation. The thread and its conversation
 * are read back from the tracker, never from memory.
 */
export async function handler(state: WorkflowState): Promise<WorkflowState> {
  const followUp = state.followUp;
  if (!followUp) throw new ConfigError("resolve-thread ran without a follow-up");
  const { own, root } = await threadFinders[state.ticket.tracker](state.ticket, followUp);
  const asked = parseFollowUp(followUp.text);
  let action: ThreadAction;
  if (own) action = "ignore";
  else if (
    "command" in asked &&
    (asked.command === "help" || (asked.command === "retry" && state.ticket.tracker === "jira"))
  )
    action = asked.command; // addressed with the prefix: answer even where no conversation exists yet
  else if (!root) action = "ignore";
  else action = "command" in asked ? asked.command : "ask";
  let latest: string | undefined;
  let conversation: { id: string; url?: string } | undefined = root?.conversation;
  if (action === "status" && root) {
    const found = await (await qatechClientFromEnv()).getConversation(root.conversation.id);
    const newest = newestAssistantMessage(found.messages);
    latest = newest ? (newest.isStreaming ? "PARTIAL" : newest.status) : "none";
    conversation = { id: found.shortId, url: found.url };
  }
  const ticket =
    action === "retry" ? await ticketRefreshers[state.ticket.tracker](state.ticket) : state.ticket;
  log.info("thread resolved", { runId: state.runId, action, own, conversation: root?.conversation.id });
  return {
    ...state,
    ticket,
    thread: { action, rootId: root?.rootId, conversation, latest },
  };
}
