import type { SQSRecord } from "aws-lambda";
import type { WorkflowState } from "../shared/domain/workflow-state";
import { ConfigError } from "../shared/platform/errors";
import { type StartKind, sendFollowUp, startConversation } from "./work";

/** What the workflow puts on the start queue (lib/constructs/ticket-workflow.ts builds it). */
export interface StartRequest {
  taskToken: string;
  kind: StartKind;
  state: WorkflowState;
  /** How often QA.tech's Retry-After already sent this request back to the queue. */
  postponed?: number;
}

/** The work each kind of request runs. */
export const WORK: Record<StartKind, (state: WorkflowState) => Promise<WorkflowState>> = {
  start: startConversation,
  "follow-up": sendFollowUp,
};

/** The queued request in an SQS record, or a ConfigError if it is none. */
export function parseRequest(record: SQSRecord): StartRequest {
  const request = JSON.parse(record.body) as Partial<StartRequest>;
  const known = typeof request.kind === "string" && Object.hasOwn(WORK, request.kind);
  if (typeof request.taskToken !== "string" || !request.state || !known)
    throw new ConfigError(`Start queue message ${record.messageId} is not a start request`);
  return request as StartRequest;
}
