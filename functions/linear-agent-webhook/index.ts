import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { linearAgentWebhook } from "../shared/trackers/linear-agent/webhook";
import { createWebhookHandler, type StopRuns } from "../shared/webhook/handler";
import { type StartRun, stepFunctionsStarter, stepFunctionsStopper } from "../shared/webhook/starter";

type Handler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * The Linear agent's webhook (POST /webhooks/linear-agent): Linear's AgentSessionEvents in the pipeline every
 * tracker shares (webhook/handler.ts). A function of its own, apart from the label webhooks: it posts the
 * session's first thought and reads the agent's tokens, which the label webhooks never need to load.
 */
export function createAgentWebhook(
  startRun: StartRun,
  env: NodeJS.ProcessEnv = process.env,
  stopRuns?: StopRuns,
): Handler {
  return createWebhookHandler(linearAgentWebhook(env), startRun, stopRuns);
}

let serving: Handler | undefined;

/** The Lambda entry point. */
export const handler: Handler = async (event) => {
  serving ??= createAgentWebhook(stepFunctionsStarter(), process.env, stepFunctionsStopper());
  return serving(event);
};
