import type { SQSEvent } from "aws-lambda";
import type { WorkflowState } from "../shared/domain/workflow-state";
import { TransientError } from "../shared/platform/errors";
import { forRun } from "../shared/platform/log";
import { parseRequest, type StartRequest, WORK } from "./registry";
import { logger } from "./work";

/** How the consumer hands a task's outcome back to the waiting execution, or puts it back in the queue. */
export interface TaskResults {
  succeed(taskToken: string, output: WorkflowState): Promise<void>;
  fail(taskToken: string, error: string, cause: string): Promise<void>;
  /** Confirms that the execution still waits on the task (SendTaskHeartbeat); throws TaskTimedOut if not. */
  heartbeat(taskToken: string): Promise<void>;
  /** Puts the request back in the queue, to be delivered again after `delaySeconds`. */
  postpone(request: StartRequest, delaySeconds: number): Promise<void>;
}

/**
 * QA.tech's Retry-After is honoured by sending the request back to the queue with that delay: the slot is
 * free for others meanwhile, and the execution keeps waiting on the same task. SQS delays a message by at
 * most 15 minutes; after 10 postponements the error goes to the state machine's Retry like any other.
 */
const MAX_POSTPONE_SECONDS = 900;
const MAX_POSTPONEMENTS = 10;

/** Step Functions' answers that mean the waiting task is gone (timed out, execution stopped). */
const TASK_GONE = new Set(["TaskTimedOut", "TaskDoesNotExist", "InvalidToken"]);

/**
 * Pauses between further attempts to report a task's outcome. QA.tech's POSTs are not idempotent: a report
 * that never arrives sends the message back to the queue, and its second delivery would open a second
 * conversation. These (with the SDK's own retries) fit the consumer's 30 s beside QA.tech's 10 s call.
 */
export const REPORT_RETRY_DELAYS_MS = [500, 1_000, 2_000, 4_000];

/** Runs `report` until it succeeds, pausing as REPORT_RETRY_DELAYS_MS says; a gone task is not retried. */
async function reportWithRetries(report: () => Promise<void>, onRetry: (error: unknown) => void) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await report();
    } catch (error) {
      const gone = error instanceof Error && TASK_GONE.has(error.name);
      if (gone || attempt >= REPORT_RETRY_DELAYS_MS.length) throw error;
      onRetry(error);
      await new Promise((resolve) => setTimeout(resolve, REPORT_RETRY_DELAYS_MS[attempt]));
    }
  }
}

/**
 * The start queue's consumer. The queue's event source runs at most `qatech.maxConcurrency` of these at
 * once: that, and nothing with a retry budget, is the bound on conversations started, so a bulk relabel
 * of any size waits its turn instead of failing. Every outcome, errors included, goes back to the waiting
 * execution, whose Retry and Catch decide what happens next. Messages from the dead-letter queue (those
 * whose consumer kept crashing) are answered with a failure, so their tickets still get a comment.
 */
export function createStartConsumer(results: TaskResults, env: NodeJS.ProcessEnv = process.env) {
  return async (event: SQSEvent): Promise<void> => {
    for (const record of event.Records) {
      const request = parseRequest(record);
      const runLog = forRun(logger, request.state.runId);
      let settle: () => Promise<void>;
      if (env.START_DEAD_LETTER_QUEUE_ARN && record.eventSourceARN === env.START_DEAD_LETTER_QUEUE_ARN) {
        runLog.error("start request dead-lettered", { kind: request.kind, messageId: record.messageId });
        const cause = "the request to QA.tech could not be processed (its consumer failed repeatedly)";
        settle = () => results.fail(request.taskToken, "StartFailed", cause);
      } else {
        // QA.tech's POSTs are not idempotent, and its conversations spend credits: first confirm that the
        // execution still waits on this task. Stopped (a Linear agent's stop) or timed out, it never will, so
        // the message is dropped instead of opening a conversation nobody follows.
        try {
          await results.heartbeat(request.taskToken);
        } catch (error) {
          if (error instanceof Error && TASK_GONE.has(error.name)) {
            runLog.warn("start dropped: the execution no longer waits", { kind: request.kind, error });
            continue;
          }
          throw error; // Step Functions unreachable: SQS delivers the message again.
        }
        try {
          const output = await WORK[request.kind](request.state);
          settle = () => results.succeed(request.taskToken, output);
        } catch (error) {
          const e = error instanceof Error ? error : new Error(String(error));
          const postponed = request.postponed ?? 0;
          if (
            e instanceof TransientError &&
            e.retryAfterSeconds !== undefined &&
            postponed < MAX_POSTPONEMENTS
          ) {
            const delay = Math.min(MAX_POSTPONE_SECONDS, e.retryAfterSeconds);
            runLog.warn("start postponed", { kind: request.kind, delaySeconds: delay, error: e });
            await results.postpone({ ...request, postponed: postponed + 1 }, delay);
            continue;
          }
          runLog.warn("start failed", { kind: request.kind, error: e });
          settle = () => results.fail(request.taskToken, e.name, e.message);
        }
      }
      try {
        await reportWithRetries(settle, (error) =>
          runLog.warn("start result not reported yet: trying again", { kind: request.kind, error }),
        );
      } catch (error) {
        // The execution stopped waiting (or was stopped): nobody is left to answer.
        if (error instanceof Error && TASK_GONE.has(error.name)) {
          runLog.warn("start result not delivered: the execution no longer waits", { error });
          continue;
        }
        // Step Functions unreachable through every retry: SQS delivers the message again, and a second
        // conversation may start (docs/architecture.md, Known limitations).
        throw error;
      }
    }
  };
}
