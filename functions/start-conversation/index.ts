import { createLogger } from "../shared/log";
import { composeTicketMessage } from "../shared/message";
import { firstPoll } from "../shared/poll-schedule";
import { qatechClientFromEnv } from "../shared/qatech-from-env";
import { pollScheduleSettings, qatechSettings } from "../shared/settings";
import type { WorkflowState } from "../shared/workflow-state";

const log = createLogger({ service: "qa-ticket", fn: "start-conversation" });

/** Opens the QA.tech conversation for the ticket and sets up the first wait. Errors are for the state machine. */
export async function handler(state: WorkflowState): Promise<WorkflowState> {
  const client = await qatechClientFromEnv();
  const message = composeTicketMessage(state.ticket, qatechSettings().instruction);
  const conversation = await client.startConversation(message);
  const poll = firstPoll(pollScheduleSettings());
  log.info("conversation started", { runId: state.runId, conversation: conversation.id });
  return { ...state, conversation, poll: { ...poll, status: "pending" } };
}
