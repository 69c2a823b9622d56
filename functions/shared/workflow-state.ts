import type { PollState } from "./poll-schedule";
import type { ConversationRef, Reply } from "./qatech";
import type { WorkflowInput } from "./ticket";

/** Where the poll loop stands: still waiting, a final reply found, or the reply deadline passed. */
export type PollStatus = "pending" | "final" | "deadline";

/** An error as Step Functions hands it to a Catch (`Cause` is the Lambda's JSON error, or plain text locally). */
export interface CaughtError {
  Error: string;
  Cause?: string;
}

/**
 * The state that travels through the workflow. Each Task handler takes it whole and returns it with its
 * own part added, so the definition needs no path juggling and the handlers are typed end to end.
 */
export interface WorkflowState extends WorkflowInput {
  conversation?: ConversationRef;
  poll?: PollState & { status: PollStatus };
  reply?: Reply;
  error?: CaughtError;
  comment?: { id: string; duplicate: boolean };
}
