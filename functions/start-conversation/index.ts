/**
 * The start-conversation function: the start queue's consumer (consumer.ts) runs the work each request
 * asks for (registry.ts, work.ts) and reports back to Step Functions through aws.ts.
 */
import { awsTaskResults } from "./aws";
import { createStartConsumer } from "./consumer";

export { reviewTarget } from "../shared/domain/review-target";
export { awsTaskResults } from "./aws";
export { createStartConsumer, REPORT_RETRY_DELAYS_MS, type TaskResults } from "./consumer";
export type { StartRequest } from "./registry";
export { type StartKind, sendFollowUp, startConversation } from "./work";

/** The Lambda entry point, invoked by the start queue's event source. */
export const handler = createStartConsumer(awsTaskResults());
