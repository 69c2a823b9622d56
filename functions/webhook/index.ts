import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { requireEnv } from "../shared/platform/settings";
import { type LabelTracker, WEBHOOKS } from "../shared/trackers/webhooks";
import { createWebhookHandler, type StopRuns } from "../shared/webhook/handler";
import { type StartRun, stepFunctionsStarter, stepFunctionsStopper } from "../shared/webhook/starter";

type Handler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * The webhook of one tracker: its signature check and its event table (trackers/<name>/webhook.ts) in the
 * pipeline every tracker shares (webhook/handler.ts), starting one run per change with `startRun`.
 */
export async function createTrackerWebhook(
  tracker: LabelTracker,
  startRun: StartRun,
  env: NodeJS.ProcessEnv = process.env,
  stopRuns?: StopRuns,
): Promise<Handler> {
  const spec = await WEBHOOKS[tracker]();
  return createWebhookHandler(spec(env), startRun, stopRuns);
}

let serving: Promise<Handler> | undefined;

/** The Lambda entry point; the stack deploys it once per tracker (Linear, Jira), naming it in TRACKER. */
export const handler: Handler = async (event) => {
  serving ??= createTrackerWebhook(
    requireEnv(process.env, "TRACKER") as LabelTracker,
    stepFunctionsStarter(),
    process.env,
    stepFunctionsStopper(),
  );
  return (await serving)(event);
};
