import { type InvocationClock, handler as pollConversation } from "../functions/poll-conversation";
import { POLL_TIMEOUT_SECONDS } from "../functions/poll-conversation/timeout";
import { handler as postComment } from "../functions/post-comment";
import { handler as readRuns } from "../functions/read-runs";
import { handler as resolveThread } from "../functions/resolve-thread";
import { jsonBytes, STATE_MAX_BYTES } from "../functions/shared/domain/limits";
import type { StartRequest } from "../functions/start-conversation";
import { functionOfResource, type StateMachineDefinition } from "./definition";
import type { LocalStartQueue } from "./start-queue";

/** A Task's work on the local runner: its input after Parameters, its result before ResultPath. */
export type LocalTask = (input: unknown) => Promise<unknown>;

/** A Lambda context as far as the handlers read it: an invocation that ends after the function's timeout. */
function invocationClock(timeoutSeconds: number): InvocationClock {
  const deadline = Date.now() + timeoutSeconds * 1000;
  return { getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) };
}

/** The functions the workflow's Lambda tasks invoke, by folder name (functions/<name>/index.ts). */
const FUNCTIONS: Record<string, LocalTask> = {
  "poll-conversation": (input) => pollConversation(input as never, invocationClock(POLL_TIMEOUT_SECONDS)),
  "post-comment": (input) => postComment(input as never),
  "resolve-thread": (input) => resolveThread(input as never),
  "read-runs": (input) => readRuns(input as never),
};

const WAIT_FOR_QUEUE = "arn:aws:states:::sqs:sendMessage.waitForTaskToken";

/**
 * The local work of every Task state, read off the definition itself: a Lambda task runs the handler of
 * the function its Resource names, a queued task waits on the local start queue. A Resource the runner
 * cannot run is an error at start, not a surprise mid-run.
 */
export function localTasks(
  definition: StateMachineDefinition,
  queue: LocalStartQueue,
): Record<string, LocalTask> {
  const tasks: Record<string, LocalTask> = {};
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type !== "Task") continue;
    const fn = functionOfResource(state.Resource);
    if (fn && FUNCTIONS[fn]) tasks[name] = FUNCTIONS[fn];
    else if (state.Resource === WAIT_FOR_QUEUE) {
      const timeout = typeof state.TimeoutSeconds === "number" ? state.TimeoutSeconds : undefined;
      tasks[name] = (input) => queue.send((input as { MessageBody: StartRequest }).MessageBody, timeout);
    } else throw new Error(`The local runner cannot run ${name}: unknown Resource ${String(state.Resource)}`);
  }
  return tasks;
}

/**
 * Step Functions' limit on a state's data, as AWS enforces it: an execution whose state passes 256 KiB of
 * JSON fails with States.DataLimitExceeded, which no Retry or Catch can handle (aws-local-stepfunctions
 * honours these two flags).
 */
export class DataLimitExceeded extends Error {
  override name = "States.DataLimitExceeded";
  readonly isCatchable = false;
  readonly isRetryable = false;
}

/** Wraps a task so that its input and its result are held to Step Functions' 256 KiB. */
export function withDataLimit(name: string, task: LocalTask): LocalTask {
  const check = (what: string, value: unknown) => {
    const bytes = jsonBytes(value);
    if (bytes > STATE_MAX_BYTES)
      throw new DataLimitExceeded(`The ${what} of state ${name} is ${bytes} bytes, over ${STATE_MAX_BYTES}`);
  };
  return async (input) => {
    check("input", input);
    const output = await task(input);
    check("output", output);
    return output;
  };
}

/** What StartExecution answers to an input over its length constraint. */
class InputTooLarge extends Error {
  override name = "ValidationException";
}

/** StartExecution's limit: an input over 256 KiB of JSON is refused, and no execution starts. */
export function checkExecutionInput(input: unknown): void {
  const bytes = jsonBytes(input);
  if (bytes > STATE_MAX_BYTES) {
    throw new InputTooLarge(
      "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length " +
        `less than or equal to ${STATE_MAX_BYTES} (got ${bytes} bytes)`,
    );
  }
}
