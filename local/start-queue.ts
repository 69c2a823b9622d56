import type { SQSEvent } from "aws-lambda";
import type { WorkflowState } from "../functions/shared/domain/workflow-state";
import type { StartRequest, TaskResults } from "../functions/start-conversation";

/** An error as Step Functions raises it in the waiting task after SendTaskFailure: named by `error`. */
class TaskFailure extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/**
 * What SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat answer for a token nobody waits on any more: its
 * task timed out, or its execution was stopped
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskHeartbeat.html).
 */
class TaskTimedOut extends Error {
  override name = "TaskTimedOut";
}

/** What the waiting task fails with when its TimeoutSeconds pass, as in Step Functions. */
class StatesTimeout extends Error {
  override name = "States.Timeout";
}

/** How often SQS delivers a message whose consumer fails before moving it to the dead-letter queue. */
const MAX_RECEIVE_COUNT = 5;
const QUEUE_ARN = "arn:aws:sqs:local:start-queue";
const DEAD_LETTER_ARN = "arn:aws:sqs:local:start-dead-letter-queue";

type Consumer = (event: SQSEvent) => Promise<void>;

/**
 * The start queue on one machine: what `sqs:sendMessage.waitForTaskToken` and the queue's event source do
 * in AWS. A send waits for its turn (first in, first out), at most `maxConcurrency` consumer invocations
 * run at once (0: no bound), and the waiting task ends with what the consumer reports through TaskResults,
 * exactly as Step Functions ends it. A consumer that throws gets the message again, then its dead letter.
 */
export class LocalStartQueue {
  /** What the consumer's START_DEAD_LETTER_QUEUE_ARN is set to, as the stack sets it to the real one. */
  static readonly deadLetterArn = DEAD_LETTER_ARN;
  private readonly waiting: Array<{ request: StartRequest; receives: number }> = [];
  private readonly pending = new Map<
    string,
    { resolve: (output: WorkflowState) => void; reject: (error: Error) => void; timer?: NodeJS.Timeout }
  >();
  private readonly idleWaiters: Array<() => void> = [];
  private readonly delayed = new Set<NodeJS.Timeout>();
  private running = 0;
  private nextId = 0;
  private readonly consumer: Consumer;

  /** `makeConsumer` builds the consumer around the queue's TaskResults (Step Functions' side of its reports). */
  constructor(
    private readonly maxConcurrency: number,
    makeConsumer: (results: TaskResults) => Consumer,
  ) {
    this.consumer = makeConsumer({
      succeed: async (token, output) => this.settle(token).resolve(output),
      fail: async (token, error, cause) => this.settle(token).reject(new TaskFailure(error, cause)),
      heartbeat: async (token) => {
        if (!this.pending.has(token))
          throw new TaskTimedOut("Task Timed Out: the task of this token is no longer waiting");
      },
      // DelaySeconds are real seconds, like QA.tech's Retry-After they come from (not scaled by WAIT_SCALE).
      postpone: async (request, delaySeconds) => {
        const timer = setTimeout(() => {
          this.delayed.delete(timer);
          this.waiting.push({ request, receives: 0 });
          this.pump();
        }, delaySeconds * 1000);
        this.delayed.add(timer);
      },
    });
  }

  /**
   * Queues a request; resolves with the consumer's output, rejects with its reported error. After
   * `timeoutSeconds` (the task's TimeoutSeconds) the task ends with States.Timeout and its token is no
   * longer waited on, as in Step Functions; the message itself stays in the queue.
   */
  send(request: StartRequest, timeoutSeconds?: number): Promise<WorkflowState> {
    return new Promise<WorkflowState>((resolve, reject) => {
      const token = request.taskToken;
      const timer =
        timeoutSeconds === undefined
          ? undefined
          : setTimeout(() => {
              if (this.pending.get(token)?.timer !== timer) return;
              this.pending.delete(token);
              reject(new StatesTimeout("The task did not report within its TimeoutSeconds"));
            }, timeoutSeconds * 1000);
      timer?.unref();
      this.pending.set(token, { resolve, reject, timer });
      this.waiting.push({ request, receives: 0 });
      this.pump();
    });
  }

  /**
   * The execution of `token` ended or was stopped: nobody waits on its task any more. Its task's promise is
   * rejected, so that nothing keeps waiting on it (the execution, already ended, ignores it).
   */
  forget(token: string): void {
    const waiter = this.pending.get(token);
    if (!waiter) return;
    clearTimeout(waiter.timer);
    this.pending.delete(token);
    waiter.reject(new TaskTimedOut("The execution no longer waits on this task"));
  }

  /** Consumer invocations in progress. */
  get busy(): number {
    return this.running;
  }

  /** Resolves when no message waits, is delayed or is being consumed. */
  idle(): Promise<void> {
    if (this.depth === 0 && this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Requests waiting for a consumer, delayed ones included. */
  get depth(): number {
    return this.waiting.length + this.delayed.size;
  }

  /** Drops what is still queued (the runner is closing; its executions are being stopped). */
  clear(): void {
    for (const timer of this.delayed) clearTimeout(timer);
    this.delayed.clear();
    this.waiting.length = 0;
    for (const token of [...this.pending.keys()]) this.forget(token);
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.depth !== 0 || this.running !== 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private settle(token: string) {
    const waiter = this.pending.get(token);
    if (!waiter) throw new TaskTimedOut("Task Timed Out: the task of this token is no longer waiting");
    clearTimeout(waiter.timer);
    this.pending.delete(token);
    return waiter;
  }

  private pump(): void {
    while (this.waiting.length > 0 && (this.maxConcurrency === 0 || this.running < this.maxConcurrency)) {
      const message = this.waiting.shift() as { request: StartRequest; receives: number };
      this.running++;
      void this.deliver(message).finally(() => {
        this.running--;
        this.pump();
      });
    }
    this.notifyIdle();
  }

  private async deliver(message: { request: StartRequest; receives: number }): Promise<void> {
    message.receives++;
    const dead = message.receives > MAX_RECEIVE_COUNT;
    const event = {
      Records: [
        {
          messageId: `local-${++this.nextId}`,
          body: JSON.stringify(message.request),
          eventSourceARN: dead ? DEAD_LETTER_ARN : QUEUE_ARN,
          attributes: { ApproximateReceiveCount: String(message.receives) },
        },
      ],
    } as unknown as SQSEvent;
    try {
      await this.consumer(event);
    } catch {
      if (!dead) this.waiting.unshift(message);
    }
  }
}
