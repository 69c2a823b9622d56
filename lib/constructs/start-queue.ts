import { Duration, Stack } from "aws-cdk-lib";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { type FunctionDefaults, TicketFunction } from "./ticket-function";
import { START_QUEUE_TIMEOUT } from "./ticket-workflow";

/** The consumer: one QA.tech call with a 10 s client timeout, and the answer to Step Functions. */
const CONSUMER_TIMEOUT = Duration.seconds(30);

export interface StartQueueProps {
  defaults: FunctionDefaults;
  /** Conversations being started at once: the consumer's maximum concurrency; 0 for no bound. */
  maxConcurrency: number;
}

/**
 * The start queue: a ticket's execution waits here for its turn to open a conversation (or to send a
 * follow-up), so a bulk relabel queues instead of failing. Its consumer (functions/start-conversation) runs
 * at most `maxConcurrency` at once; a message whose consumer keeps failing is dead-lettered, and the consumer
 * answers it with a failure so that its ticket still gets a comment.
 */
export class StartQueue extends Construct {
  readonly queue: sqs.Queue;
  /** Where a request goes after 5 failed deliveries to the consumer (which answers it with a failure). */
  readonly deadLetters: sqs.Queue;
  readonly consumer: TicketFunction;

  constructor(scope: Construct, id: string, props: StartQueueProps) {
    super(scope, id);
    // The queues live in the stack's own scope: their logical ids never change, so no refactoring can make
    // CloudFormation replace them and drop the messages in them.
    const stack = Stack.of(this);
    const deadLetters = new sqs.Queue(stack, "StartDeadLetterQueue", {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.deadLetters = deadLetters;
    this.queue = new sqs.Queue(stack, "StartQueue", {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Never drop a message before its task stops waiting for it.
      retentionPeriod: START_QUEUE_TIMEOUT,
      // AWS's guidance for a Lambda event source: six times the function timeout.
      visibilityTimeout: Duration.seconds(CONSUMER_TIMEOUT.toSeconds() * 6),
      deadLetterQueue: { queue: deadLetters, maxReceiveCount: 5 },
    });
    this.consumer = new TicketFunction(stack, "StartConversation", {
      defaults: props.defaults,
      entry: "start-conversation",
      description: "Consumes the start queue: opens QA.tech conversations and sends follow-ups",
      timeout: CONSUMER_TIMEOUT,
    });
    const fn = this.consumer.fn;
    fn.addEventSource(
      new SqsEventSource(this.queue, { batchSize: 1, maxConcurrency: props.maxConcurrency || undefined }),
    );
    fn.addEventSource(new SqsEventSource(deadLetters, { batchSize: 1, maxConcurrency: 2 }));
    fn.addEnvironment("START_DEAD_LETTER_QUEUE_ARN", deadLetters.queueArn);
    // QA.tech's Retry-After puts a request back in the queue for that long (no slot held meanwhile).
    fn.addEnvironment("START_QUEUE_URL", this.queue.queueUrl);
    this.queue.grantSendMessages(fn);
  }
}
