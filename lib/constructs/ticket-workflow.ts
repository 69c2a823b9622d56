import { Duration } from "aws-cdk-lib";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import * as tasks from "aws-cdk-lib/aws-stepfunctions-tasks";
import { Construct } from "constructs";
import type { CommentKind } from "../../functions/shared/domain/marker";
import { RETRYABLE_ERRORS } from "../../functions/shared/platform/errors";
import type { StartKind } from "../../functions/start-conversation";

export interface TicketWorkflowProps {
  /**
   * The start queue: opening a conversation (or sending a follow-up) waits here for its turn, and the
   * queue's consumer (functions/start-conversation) reports back with SendTaskSuccess/SendTaskFailure.
   */
  startQueue: IQueue;
  /** Reads the conversation until the reply is final or the next wait is long (functions/poll-conversation). */
  pollConversation: IFunction;
  /** Comments on the ticket: acknowledgement, reply, answer, failure (functions/post-comment). */
  postComment: IFunction;
  /** Reads a follow-up's thread back from the tracker (functions/resolve-thread). */
  resolveThread: IFunction;
  /** Reads QA.tech's test runs for the verdict, and starts `@qa rerun`'s reruns (functions/read-runs). */
  readRuns: IFunction;
  /** The poll loop's own deadline; the execution timeout adds the queue and the comments' retries. */
  replyTimeoutSeconds: number;
  /** Logging for the state machine. Default: none (the local runner logs itself). */
  logs?: sfn.LogOptions;
  /** X-Ray tracing. Default false. */
  tracingEnabled?: boolean;
}

/**
 * How long a start may wait in the queue for its turn. Nothing else bounds the queue: a bulk relabel of
 * any size drains at the configured concurrency (1,000 tickets at 4 at once and 8 s each: 33 minutes).
 * Four days is SQS's default retention, so a message is never dropped before its task gives up.
 */
export const START_QUEUE_TIMEOUT = Duration.days(4);

/**
 * Transient tracker errors (Linear, Jira) on the comment steps: capped exponential backoff with full
 * jitter, 5 s doubling to 5 minutes, 100 attempts. Each wait is uniform in [0, min(5 s * 2^k, 300 s)], so
 * the retries last about 4 hours on average and at most 8; they give up within the first hour with a
 * probability below 1e-11 (Hoeffding's bound over the 94 capped waits). An outage of the tracker of up to
 * an hour therefore still ends in the comments (test/lib/constructs/ticket-workflow.test.ts computes these numbers).
 */
export const TRACKER_RETRY = { intervalSeconds: 5, backoffRate: 2, maxDelaySeconds: 300, maxAttempts: 100 };

/** Transient QA.tech errors: a QA.tech outage ends, after a few minutes, in a comment saying so. */
export const QATECH_RETRY = { intervalSeconds: 5, backoffRate: 2, maxDelaySeconds: 60, maxAttempts: 5 };

/**
 * Errors of the Lambda service itself (throttling when the account's concurrency is exhausted, a
 * function that ran out of its time), which AWS recommends retrying on every Lambda task.
 */
const LAMBDA_SERVICE_ERRORS = [
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
  "Sandbox.Timedout",
  "States.Timeout",
];

/** Margin on top of the queue wait and the reply deadline: the comments' retries (at most 8 hours each). */
const EXECUTION_MARGIN = Duration.days(1);

type RetryPolicy = typeof TRACKER_RETRY;

function retry(task: sfn.TaskStateBase, errors: string[], policy: RetryPolicy): void {
  task.addRetry({
    errors,
    interval: Duration.seconds(policy.intervalSeconds),
    backoffRate: policy.backoffRate,
    maxDelay: Duration.seconds(policy.maxDelaySeconds),
    maxAttempts: policy.maxAttempts,
    jitterStrategy: sfn.JitterType.FULL,
  });
}

/**
 * The workflow of one ticket, as one readable chain:
 * StartConversation -> PostAcknowledgement -> WaitForReply -> PollConversation -> IsReplyFinal? -> ReadRuns ->
 * AreRunsFinal? (-> WaitForRuns -> ReadRuns) -> PostReply, the reply opening with the verdict; every failure and
 * the reply deadline end in PostFailure, a comment saying what happened. A comment in the ticket's thread takes
 * ResolveThread -> SendFollowUp into the same loop (or answers a command with PostAnswer, starts afresh on
 * `retry`, or on `rerun` takes StartRerun -> PostRerunStarted -> WaitForRuns into the runs loop).
 * Each comment task names the kind of comment it posts; each queued task names what it asks for.
 * The stack deploys it and the local runner runs the very same definition.
 */
export class TicketWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: TicketWorkflowProps) {
    super(scope, id);
    const lambdaTask = (name: string, fn: IFunction, comment: string, payload?: sfn.TaskInput) => {
      const t = new tasks.LambdaInvoke(this, name, {
        stateName: name,
        comment,
        lambdaFunction: fn,
        payload,
        payloadResponseOnly: true,
      });
      retry(t, LAMBDA_SERVICE_ERRORS, {
        intervalSeconds: 2,
        backoffRate: 2,
        maxDelaySeconds: 60,
        maxAttempts: 10,
      });
      return t;
    };
    // A Linear agent session whose person asked to stop: nothing more is posted (the first catcher of every
    // comment task, ahead of the failure comment).
    const stopped = new sfn.Succeed(this, "Stopped", {
      stateName: "Stopped",
      comment: "The agent session was stopped: post nothing more",
    });
    const postComment = (name: string, kind: CommentKind, comment: string) => {
      const t = lambdaTask(
        name,
        props.postComment,
        comment,
        sfn.TaskInput.fromObject({ kind, state: sfn.JsonPath.entirePayload }),
      );
      retry(t, [...RETRYABLE_ERRORS], TRACKER_RETRY);
      t.addCatch(stopped, { errors: ["SessionStopped"], resultPath: "$.error" });
      return t;
    };
    const queued = (name: string, kind: StartKind, comment: string) => {
      const t = new tasks.SqsSendMessage(this, name, {
        stateName: name,
        comment,
        queue: props.startQueue,
        integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        messageBody: sfn.TaskInput.fromObject({
          taskToken: sfn.JsonPath.taskToken,
          kind,
          state: sfn.JsonPath.entirePayload,
        }),
        taskTimeout: sfn.Timeout.duration(START_QUEUE_TIMEOUT),
      });
      retry(t, [...RETRYABLE_ERRORS], QATECH_RETRY);
      return t;
    };

    const isFollowUp = new sfn.Choice(this, "IsFollowUp", { stateName: "IsFollowUp" });
    const startConversation = queued(
      "StartConversation",
      "start",
      "Open the QA.tech conversation, when the start queue gives this ticket its turn",
    );
    const postAcknowledgement = postComment(
      "PostAcknowledgement",
      "ack",
      "Say on the ticket that QA.tech is on it, with the link: the root of the ticket's thread",
    );
    const waitForReply = new sfn.Wait(this, "WaitForReply", {
      stateName: "WaitForReply",
      time: sfn.WaitTime.secondsPath("$.poll.waitSeconds"),
    });
    const pollConversation = lambdaTask(
      "PollConversation",
      props.pollConversation,
      "Read the conversation; short waits happen inside",
    );
    retry(pollConversation, [...RETRYABLE_ERRORS], QATECH_RETRY);
    const isReplyFinal = new sfn.Choice(this, "IsReplyFinal", { stateName: "IsReplyFinal" });
    const postReply = postComment("PostReply", "reply", "Comment the reply on the ticket");
    const postProgress = postComment(
      "PostProgress",
      "progress",
      "Agent runs only: show QA.tech's partial text in the session (throttled by the poll function)",
    );
    const replyDeadline = new sfn.Pass(this, "ReplyDeadline", {
      stateName: "ReplyDeadline",
      result: sfn.Result.fromObject({
        Error: "ReplyDeadline",
        Cause: "QA.tech did not finish its reply in time",
      }),
      resultPath: "$.error",
    });
    const postFailure = postComment("PostFailure", "failure", "Comment what went wrong on the ticket");
    const failed = new sfn.Fail(this, "Failed", {
      stateName: "Failed",
      errorPath: "$.error.Error",
      causePath: "$.error.Cause",
    });
    const commentFailed = new sfn.Fail(this, "CommentFailed", {
      stateName: "CommentFailed",
      error: "CommentFailed",
      cause: "Could not comment on the ticket; see the PostReply/PostFailure task errors",
    });

    const resolveThread = lambdaTask(
      "ResolveThread",
      props.resolveThread,
      "Is this comment in our thread, and what does it ask: a question, retry, status or help?",
    );
    retry(resolveThread, [...RETRYABLE_ERRORS], TRACKER_RETRY);
    const whatWasAsked = new sfn.Choice(this, "WhatWasAsked", { stateName: "WhatWasAsked" });
    const sendFollowUp = queued("SendFollowUp", "follow-up", "Send the question to the same conversation");
    const postAnswer = postComment(
      "PostAnswer",
      "answer",
      "Answer a command (help, status, a refused request) in the thread",
    );
    const followUpFailed = new sfn.Fail(this, "FollowUpFailed", {
      stateName: "FollowUpFailed",
      errorPath: "$.error.Error",
      causePath: "$.error.Cause",
    });

    // The verdict: the runs QA.tech's reply links are read, and waited for while not final, on the same
    // deadline as the reply (one deadline per ticket, counted on the poll clock).
    const readRuns = lambdaTask(
      "ReadRuns",
      props.readRuns,
      "Read the test runs the reply links; the verdict once they are final",
      sfn.TaskInput.fromObject({ step: "read", state: sfn.JsonPath.entirePayload }),
    );
    retry(readRuns, [...RETRYABLE_ERRORS], QATECH_RETRY);
    const areRunsFinal = new sfn.Choice(this, "AreRunsFinal", { stateName: "AreRunsFinal" });
    const waitForRuns = new sfn.Wait(this, "WaitForRuns", {
      stateName: "WaitForRuns",
      time: sfn.WaitTime.secondsPath("$.poll.waitSeconds"),
    });
    const postRunsProgress = postComment(
      "PostRunsProgress",
      "progress",
      "Agent runs only: a thought saying which test runs are being waited for",
    );
    const startRerun = lambdaTask(
      "StartRerun",
      props.readRuns,
      "`@qa rerun`: rerun the failed tests (else all) of the runs the conversation's reply links",
      sfn.TaskInput.fromObject({ step: "rerun", state: sfn.JsonPath.entirePayload }),
    );
    retry(startRerun, [...RETRYABLE_ERRORS], QATECH_RETRY);
    const isRerunStarted = new sfn.Choice(this, "IsRerunStarted", { stateName: "IsRerunStarted" });
    const postRerunStarted = postComment(
      "PostRerunStarted",
      "answer",
      "Say in the thread which runs were restarted; the verdict follows",
    );

    const toFailure = { resultPath: "$.error" };
    for (const step of [
      startConversation,
      postAcknowledgement,
      sendFollowUp,
      pollConversation,
      postReply,
      startRerun,
      postRerunStarted,
    ])
      step.addCatch(postFailure, toFailure);
    // Runs that cannot be read past the retries make the verdict "could not verify", never a lost reply.
    readRuns.addCatch(postReply, { resultPath: "$.runsError" });
    postFailure.addCatch(commentFailed, toFailure);
    // Until the thread is known to be ours, a failure must not comment on somebody else's thread.
    resolveThread.addCatch(followUpFailed, toFailure);
    postAnswer.addCatch(followUpFailed, toFailure);

    const definition = isFollowUp
      .when(sfn.Condition.isPresent("$.followUp"), resolveThread)
      .otherwise(startConversation);
    // A labelled ticket: start, acknowledge, then the poll loop.
    startConversation
      .next(postAcknowledgement)
      .next(waitForReply)
      .next(pollConversation)
      .next(
        isReplyFinal
          .when(sfn.Condition.stringEquals("$.poll.status", "final"), readRuns)
          .when(sfn.Condition.stringEquals("$.poll.status", "deadline"), replyDeadline.next(postFailure))
          .when(sfn.Condition.stringEquals("$.poll.status", "progress"), postProgress.next(waitForReply))
          .otherwise(waitForReply),
      );
    readRuns.next(
      areRunsFinal
        .when(
          sfn.Condition.and(
            sfn.Condition.stringEquals("$.runs.status", "waiting"),
            sfn.Condition.stringEquals("$.poll.status", "progress"),
          ),
          postRunsProgress.next(waitForRuns),
        )
        .when(sfn.Condition.stringEquals("$.runs.status", "waiting"), waitForRuns)
        .otherwise(postReply.next(new sfn.Succeed(this, "Done"))),
    );
    waitForRuns.next(readRuns);
    postFailure.next(failed);
    // A comment in a thread: find out what it asks, then join the same loop.
    sendFollowUp.next(waitForReply);
    resolveThread.next(
      whatWasAsked
        .when(sfn.Condition.stringEquals("$.thread.action", "ask"), sendFollowUp)
        .when(sfn.Condition.stringEquals("$.thread.action", "retry"), startConversation)
        .when(
          sfn.Condition.stringEquals("$.thread.action", "rerun"),
          startRerun.next(
            isRerunStarted
              .when(
                sfn.Condition.stringEquals("$.runs.status", "waiting"),
                postRerunStarted.next(waitForRuns),
              )
              .otherwise(postAnswer),
          ),
        )
        .when(
          sfn.Condition.or(
            sfn.Condition.stringEquals("$.thread.action", "status"),
            sfn.Condition.stringEquals("$.thread.action", "help"),
            sfn.Condition.stringEquals("$.thread.action", "refused"),
          ),
          postAnswer.next(new sfn.Succeed(this, "Answered")),
        )
        .otherwise(new sfn.Succeed(this, "Ignored", { comment: "Our own comment, or not our thread" })),
    );

    this.stateMachine = new sfn.StateMachine(this, "StateMachine", {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: START_QUEUE_TIMEOUT.plus(Duration.seconds(props.replyTimeoutSeconds)).plus(EXECUTION_MARGIN),
      logs: props.logs,
      tracingEnabled: props.tracingEnabled,
    });
  }
}
