import { App, Stack } from "aws-cdk-lib";
import { Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import type { CfnStateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { TicketWorkflow } from "../workflow";

/** The Amazon States Language definition, as Step Functions receives it. */
export interface StateMachineDefinition {
  StartAt: string;
  States: Record<string, Record<string, unknown>>;
  TimeoutSeconds?: number;
  [key: string]: unknown;
}

const PLACEHOLDER_ACCOUNT = "123456789012";

/** The ARN the rendered definition uses for a function; the local runner maps Task states to handlers by name. */
export function placeholderArn(name: string): string {
  return `arn:aws:lambda:us-east-1:${PLACEHOLDER_ACCOUNT}:function:${name}`;
}

function joinStrings(value: unknown): string {
  if (typeof value === "string") return value;
  const join = (value as { "Fn::Join"?: [string, unknown[]] })["Fn::Join"];
  if (join?.[1].every((part) => typeof part === "string")) return join[1].join(join[0]);
  throw new Error(
    `The workflow definition still holds unresolved tokens: ${JSON.stringify(value).slice(0, 200)}`,
  );
}

/**
 * Renders the very definition the stack deploys, by building the TicketWorkflow construct in a
 * throwaway stack whose functions have placeholder ARNs.
 */
export function renderWorkflowDefinition(replyTimeoutSeconds: number): StateMachineDefinition {
  const stack = new Stack(new App(), "LocalWorkflow", {
    env: { account: PLACEHOLDER_ACCOUNT, region: "us-east-1" },
  });
  const fn = (name: string) => LambdaFunction.fromFunctionArn(stack, name, placeholderArn(name));
  const workflow = new TicketWorkflow(stack, "Workflow", {
    startConversation: fn("start-conversation"),
    pollConversation: fn("poll-conversation"),
    postComment: fn("post-comment"),
    resolveThread: fn("resolve-thread"),
    replyTimeoutSeconds,
  });
  const cfn = workflow.stateMachine.node.defaultChild as CfnStateMachine;
  return JSON.parse(joinStrings(stack.resolve(cfn.definitionString))) as StateMachineDefinition;
}
