import type { SQSEvent } from "aws-lambda";
import type { WorkflowState } from "../../functions/shared/domain/workflow-state";
import type { StartRequest, TaskResults } from "../../functions/start-conversation";

/** An error as Step Functions raises it in the waiting task after SendTaskFailure: named by `error`. */
class TaskFailure extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** What SendTaskSuccess/SendTaskFailure answer for a token nobody waits on. */
class TaskTimedOut extends Error {
  override name = "TaskTimedOut";
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
    { resolve: (output: WorkflowState) => void; reject: (error: Error) => void }
  >();
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

  /** Queues a request; resolves with the consumer's output, rejects with its reported error. */
  send(request: StartRequest): Promise<WorkflowState> {
    return new Promise<WorkflowState>((resolve, reject) => {
      this.pending.set(request.taskToken, { resolve, reject });
      this.waiting.push({ request, receives: 0 });
      this.pump();
    });
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
  }

  private settle(token: string) {
    const waiter = this.pending.get(token);
    if (!waiter) throw new TaskTimedOut("Task Timed Out: the task of this token is no longer waiting");
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
