import { ConfigError } from "../shared/errors";
import { createLogger } from "../shared/log";
import { composeTicketMessage } from "../shared/message";
import { firstPoll } from "../shared/poll-schedule";
import { findPullRequest, type PullRequest } from "../shared/qatech";
import { qatechClientFromEnv } from "../shared/qatech-from-env";
import {
  changeReviewMode,
  pollScheduleSettings,
  type QaTechSettings,
  qatechSettings,
} from "../shared/settings";
import type { Ticket } from "../shared/ticket";
import type { WorkflowState } from "../shared/workflow-state";

const log = createLogger({ service: "qa-ticket", fn: "start-conversation" });

/** The pull request to review instead of chatting, by CHANGE_REVIEW: auto, always or never. */
export function reviewTarget(
  ticket: Ticket,
  settings: QaTechSettings,
  mode = changeReviewMode(),
): PullRequest | null {
  if (mode === "never") return null;
  const pr = findPullRequest(`${ticket.title}\n${ticket.description}`, settings.gitlabHosts);
  if (!pr) return null;
  if (!settings.applicationOverrides?.length) {
    if (mode === "always") {
      throw new ConfigError(
        "CHANGE_REVIEW is always, but a change review needs QATECH_APPLICATION_OVERRIDES",
      );
    }
    return null; // auto: QA.tech's change review requires application overrides
  }
  return pr;
}

/**
 * Opens the QA.tech conversation for the ticket (a change review when it links a pull request), or, for
 * a follow-up, sends the question to the thread's conversation; then sets up the first wait. A new
 * conversation is acknowledged on the ticket next. Errors are for the state machine.
 */
export async function handler(state: WorkflowState): Promise<WorkflowState> {
  const client = await qatechClientFromEnv();
  const poll = { ...firstPoll(pollScheduleSettings()), status: "pending" as const };
  const thread = state.thread;
  if (thread?.action === "ask" && thread.conversation && state.followUp) {
    const conversation = await client.sendMessage(thread.conversation.id, state.followUp.text);
    log.info("follow-up sent", { runId: state.runId, conversation: conversation.id });
    return { ...state, conversation, poll };
  }
  const settings = qatechSettings();
  const message = composeTicketMessage(state.ticket, settings.instruction);
  const pr = reviewTarget(state.ticket, settings);
  const conversation = pr
    ? await client.startChangeReview(pr, message)
    : await client.startConversation(message);
  log.info("conversation started", { runId: state.runId, conversation: conversation.id, review: pr?.url });
  const review = pr ? { prUrl: pr.url } : undefined;
  return { ...state, conversation, review, poll, step: "ack" };
}
