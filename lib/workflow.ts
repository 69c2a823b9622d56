import { Duration } from "aws-cdk-lib";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import * as tasks from "aws-cdk-lib/aws-stepfunctions-tasks";
import { Construct } from "constructs";
import { RETRYABLE_ERRORS } from "../functions/shared/errors";

export interface TicketWorkflowProps {
  /** Opens the QA.tech conversation (functions/start-conversation). */
  startConversation: IFunction;
  /** Reads the conversation until the reply is final or the next wait is long (functions/poll-conversation). */
  pollConversation: IFunction;
  /** Comments on the ticket: acknowledgement, reply, failure (functions/post-comment). */
  postComment: IFunction;
  /** Reads a follow-up's thread back from the tracker (functions/resolve-thread). */
  resolveThread: IFunction;
  /** The poll loop's own deadline; the execution timeout is this plus a margin for retries and the comment. */
  replyTimeoutSeconds: number;
  /** Logging for the state machine. Default: none (the local runner logs itself). */
  logs?: sfn.LogOptions;
  /** X-Ray tracing. Default false. */
  tracingEnabled?: boolean;
}

/** The error a Lambda invocation fails with when the function is at its reserved concurrency. */
export const THROTTLED = "Lambda.TooManyRequestsException";

/**
 * Margin on top of the reply deadline (which counts from the first wait): up to about 30 minutes queued
 * for a start when many tickets arrive at once, and the last poll's and the comment's retries.
 */
const EXECUTION_MARGIN_SECONDS = 60 * 60;

/**
 * The workflow of one ticket, as one readable chain:
 * StartConversation -> PostAcknowledgement -> WaitForReply -> PollConversation -> IsReplyFinal? -> PostReply,
 * with every failure and the reply deadline ending in PostFailure, a comment saying what happened.
 * A comment in the ticket's thread takes ResolveThread -> SendFollowUp into the same loop (or answers a
 * command, or starts afresh on `retry`).
 * The stack deploys it and the local runner runs the very same definition.
 */
export class TicketWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: TicketWorkflowProps) {
    super(scope, id);
    const task = (name: string, fn: IFunction, comment: string) => {
      const t = new tasks.LambdaInvoke(this, name, {
        stateName: name,
        comment,
        lambdaFunction: fn,
        payloadResponseOnly: true,
      });
      t.addRetry({
        errors: [...RETRYABLE_ERRORS],
        interval: Duration.seconds(5),
        backoffRate: 2,
        maxAttempts: 5,
        maxDelay: Duration.seconds(60),
        jitterStrategy: sfn.JitterType.FULL,
      });
      // A function at its reserved concurrency (the bound on conversations started) is throttled: that
      // is a queue, not a failure, so keep trying for a long while (about 30 minutes), spread by jitter.
      t.addRetry({
        errors: [THROTTLED],
        interval: Duration.seconds(2),
        backoffRate: 1.5,
        maxAttempts: 40,
        maxDelay: Duration.seconds(60),
        jitterStrategy: sfn.JitterType.FULL,
      });
      return t;
    };

    const startConversation = task(
      "StartConversation",
      props.startConversation,
      "Open the QA.tech conversation",
    );
    const waitForReply = new sfn.Wait(this, "WaitForReply", {
      stateName: "WaitForReply",
      time: sfn.WaitTime.secondsPath("$.poll.waitSeconds"),
    });
    const pollConversation = task(
      "PollConversation",
      props.pollConversation,
      "Read the conversation; short waits happen inside",
    );
    const postReply = task("PostReply", props.postComment, "Comment the reply on the ticket");
    const postFailure = task("PostFailure", props.postComment, "Comment what went wrong on the ticket");
    const replyDeadline = new sfn.Pass(this, "ReplyDeadline", {
      stateName: "ReplyDeadline",
      result: sfn.Result.fromObject({
        Error: "ReplyDeadline",
        Cause: "QA.tech did not finish its reply in time",
      }),
      resultPath: "$.error",
    });
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

    const postAcknowledgement = task(
      "PostAcknowledgement",
      props.postComment,
      "Say on the ticket that QA.tech is on it, with the link: the root of the ticket's thread",
    );
    const resolveThread = task(
      "ResolveThread",
      props.resolveThread,
      "Is this comment in our thread, and what does it ask: a question, retry, status or help?",
    );
    const sendFollowUp = task(
      "SendFollowUp",
      props.startConversation,
      "Send the question to the same conversation",
    );
    const followUpFailed = new sfn.Fail(this, "FollowUpFailed", {
      stateName: "FollowUpFailed",
      errorPath: "$.error.Error",
      causePath: "$.error.Cause",
    });

    const toFailure = { resultPath: "$.error" };
    startConversation.addCatch(postFailure, toFailure);
    postAcknowledgement.addCatch(postFailure, toFailure);
    sendFollowUp.addCatch(postFailure, toFailure);
    pollConversation.addCatch(postFailure, toFailure);
    postReply.addCatch(postFailure, toFailure);
    postFailure.addCatch(commentFailed, toFailure);
    // Until the thread is known to be ours, a failure must not comment on somebody else's thread.
    resolveThread.addCatch(followUpFailed, toFailure);

    // A labelled ticket: start, acknowledge, then the poll loop.
    startConversation
      .next(postAcknowledgement)
      .next(waitForReply)
      .next(pollConversation)
      .next(
        new sfn.Choice(this, "IsReplyFinal", { stateName: "IsReplyFinal" })
          .when(
            sfn.Condition.stringEquals("$.poll.status", "final"),
            postReply.next(new sfn.Succeed(this, "Done")),
          )
          .when(sfn.Condition.stringEquals("$.poll.status", "deadline"), replyDeadline.next(postFailure))
          .otherwise(waitForReply),
      );
    postFailure.next(failed);
    // A comment in a thread: find out what it asks, then join the same loop.
    sendFollowUp.next(waitForReply);
    resolveThread.next(
      new sfn.Choice(this, "WhatWasAsked", { stateName: "WhatWasAsked" })
        .when(sfn.Condition.stringEquals("$.thread.action", "ask"), sendFollowUp)
        .when(sfn.Condition.stringEquals("$.thread.action", "retry"), startConversation)
        .when(
          sfn.Condition.or(
            sfn.Condition.stringEquals("$.thread.action", "status"),
            sfn.Condition.stringEquals("$.thread.action", "help"),
          ),
          postReply,
        )
        .otherwise(new sfn.Succeed(this, "Ignored", { comment: "Our own comment, or not our thread" })),
    );
    const definition = new sfn.Choice(this, "IsFollowUp", { stateName: "IsFollowUp" })
      .when(sfn.Condition.isPresent("$.followUp"), resolveThread)
      .otherwise(startConversation);

    this.stateMachine = new sfn.StateMachine(this, "StateMachine", {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: Duration.seconds(props.replyTimeoutSeconds + EXECUTION_MARGIN_SECONDS),
      logs: props.logs,
      tracingEnabled: props.tracingEnabled,
    });
  }
}
