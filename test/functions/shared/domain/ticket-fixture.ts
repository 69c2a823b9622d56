/** A Linear ticket and a run's state, shared by the message and comment tests. */
import type { Ticket } from "../../../../functions/shared/domain/ticket";
import type { WorkflowState } from "../../../../functions/shared/domain/workflow-state";

export const ticket: Ticket = {
  tracker: "linear",
  id: "539068e2-ae88-4d09-bd75-22eb4a59612f",
  key: "ENG-42",
  title: "Checkout crashes on empty cart",
  url: "https://linear.app/acme/issue/ENG-42/checkout-crashes-on-empty-cart",
  description: "Steps to reproduce:\n1. Open the shop with an empty cart\n2. Press **Checkout**",
};

export const CONVERSATION_URL = "https://app.qa.tech/p/proj_shop/chat/chat_7";

/** A run's state at PostReply/PostFailure time; by default the conversation was opened. */
export function state(more: Partial<WorkflowState> = {}): WorkflowState {
  return {
    runId: "linear-ENG-42-0123456789abcdef",
    ticket,
    conversation: { id: "chat_7", url: CONVERSATION_URL, sentDigest: "0123456789abcdef" },
    poll: { n: 5, elapsedSeconds: 40, waitSeconds: 4, status: "pending" },
    ...more,
  };
}
