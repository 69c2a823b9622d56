import { App, Stack } from "aws-cdk-lib";
import { Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import { Queue } from "aws-cdk-lib/aws-sqs";
import type { CfnStateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { TicketWorkflow } from "../lib/constructs/ticket-workflow";

/** The Amazon States Language definition, as Step Functions receives it. */
export interface StateMachineDefinition {
  StartAt: string;
  States: Record<string, Record<string, unknown>>;
  TimeoutSeconds?: number;
  [key: string]: unknown;
}

const ACCOUNT = "123456789012";
const REGION = "us-east-1";

/** The name a rendered Task's Resource carries for a function (functions/<name>), or null for other resources. */
export function functionOfResource(resource: unknown): string | null {
  const match = /^arn:aws:lambda:[^:]+:\d+:function:([\w-]+)$/.exec(String(resource));
  return match ? match[1] : null;
}

/** The pseudo parameters a rendered definition may still refer to, as they are in the placeholder region. */
const PSEUDO: Record<string, string> = {
  "AWS::Partition": "aws",
  "AWS::Region": REGION,
  "AWS::AccountId": ACCOUNT,
};

function joinStrings(value: unknown): string {
  if (typeof value === "string") return value;
  const ref = (value as { Ref?: string }).Ref;
  if (ref !== undefined && Object.hasOwn(PSEUDO, ref)) return PSEUDO[ref];
  const join = (value as { "Fn::Join"?: [string, unknown[]] })["Fn::Join"];
  if (join) return join[1].map(joinStrings).join(join[0]);
  throw new Error(
    `The workflow definition still holds unresolved tokens: ${JSON.stringify(value).slice(0, 200)}`,
  );
}

/**
 * Renders the very definition the stack deploys, by building the TicketWorkflow construct in a throwaway
 * stack whose functions and queue are imported by name, so every Task's Resource names what it runs: a
 * function (`...:function:post-comment`, the folder under functions/) or the start queue.
 */
export function renderWorkflowDefinition(replyTimeoutSeconds: number): StateMachineDefinition {
  const stack = new Stack(new App(), "LocalWorkflow", { env: { account: ACCOUNT, region: REGION } });
  const fn = (name: string) =>
    LambdaFunction.fromFunctionArn(stack, name, `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`);
  const workflow = new TicketWorkflow(stack, "Workflow", {
    startQueue: Queue.fromQueueAttributes(stack, "StartQueue", {
      queueArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:start-queue`,
      queueUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/start-queue`,
    }),
    pollConversation: fn("poll-conversation"),
    postComment: fn("post-comment"),
    resolveThread: fn("resolve-thread"),
    readRuns: fn("read-runs"),
    replyTimeoutSeconds,
  });
  const cfn = workflow.stateMachine.node.defaultChild as CfnStateMachine;
  return JSON.parse(joinStrings(stack.resolve(cfn.definitionString))) as StateMachineDefinition;
}
