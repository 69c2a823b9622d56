import { ConfigError } from "../shared/errors";
import { createLogger } from "../shared/log";
import { afterPoll } from "../shared/poll-schedule";
import { findReply, type Reply } from "../shared/qatech";
import { qatechClientFromEnv } from "../shared/qatech-from-env";
import { pollScheduleSettings } from "../shared/settings";
import type { WorkflowState } from "../shared/workflow-state";

const log = createLogger({ service: "qa-ticket", fn: "poll-conversation" });

/** Largest reply carried in the workflow state (Step Functions allows 256 KB per state). */
export const MAX_REPLY_BYTES = 120_000;

function capReply(reply: Reply): Reply {
  const bytes = Buffer.from(reply.text, "utf8");
  if (bytes.length <= MAX_REPLY_BYTES) return reply;
  const text = bytes
    .subarray(0, MAX_REPLY_BYTES)
    .toString("utf8")
    .replace(/\uFFFD$/, "");
  return { ...reply, text: `${text}\n\n[The reply was cut; read it in full in QA.tech.]` };
}

/** Reads the conversation once: the reply when it is final, else the next wait, or the deadline. */
export async function handler(state: WorkflowState): Promise<WorkflowState> {
  if (!state.conversation || !state.poll)
    throw new ConfigError("poll-conversation ran without a conversation");
  const client = await qatechClientFromEnv();
  const conversation = await client.getConversation(state.conversation.id);
  const reply = findReply(conversation.messages, state.conversation.sentDigest);
  const n = state.poll.n + 1;
  if (reply) {
    log.info("reply final", { runId: state.runId, n, status: reply.status });
    return { ...state, poll: { ...state.poll, n, status: "final" }, reply: capReply(reply) };
  }
  const next = afterPoll(state.poll, pollScheduleSettings());
  if (!next) {
    log.warn("reply deadline reached", { runId: state.runId, n });
    return { ...state, poll: { ...state.poll, n, status: "deadline" } };
  }
  return { ...state, poll: { ...next, status: "pending" } };
}
