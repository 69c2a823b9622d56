import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import {
  type ActingWebhookSpec,
  createWebhookHandler,
  type StopRuns,
  type WebhookSpec,
} from "../webhook/handler";
import { type StartRun, stepFunctionsStarter, stepFunctionsStopper } from "../webhook/starter";

/** A webhook function's handler: one API Gateway (payload 2.0) delivery in, one answer out. */
export type WebhookHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** One webhook function's exports: its handler for tests and the local runner, and its Lambda entry point. */
export interface WebhookEntry {
  /** The webhook in the pipeline every tracker shares (webhook/handler.ts), starting runs with `startRun`. */
  createWebhook(startRun: StartRun, env?: NodeJS.ProcessEnv, stopRuns?: StopRuns): WebhookHandler;
  /** The Lambda entry point: starts and stops Step Functions executions. */
  handler: WebhookHandler;
}

/**
 * The entry of one tracker's webhook function (functions/<tracker>-webhook/index.ts), from its webhook
 * (trackers/<name>/webhook.ts: its signature check and its event table). Each route has its own function
 * importing its own tracker's webhook only, so a bundle holds no other tracker's code: the Linear webhook no
 * Jira/ADF code, the Jira webhook no Linear code, and neither the agent's client (docs/architecture.md).
 */
export function webhookEntry(spec: (env: NodeJS.ProcessEnv) => WebhookSpec): WebhookEntry;
export function webhookEntry<T>(spec: (env: NodeJS.ProcessEnv) => ActingWebhookSpec<T>): WebhookEntry;
export function webhookEntry<T>(
  spec: (env: NodeJS.ProcessEnv) => WebhookSpec | ActingWebhookSpec<T>,
): WebhookEntry {
  // Either overload of createWebhookHandler: a spec without runOf detects the run itself.
  const createWebhook = (startRun: StartRun, env: NodeJS.ProcessEnv = process.env, stopRuns?: StopRuns) =>
    createWebhookHandler(spec(env) as ActingWebhookSpec<T>, startRun, stopRuns);
  let serving: WebhookHandler | undefined;
  const handler: WebhookHandler = async (event) => {
    serving ??= createWebhook(stepFunctionsStarter(), process.env, stepFunctionsStopper());
    return serving(event);
  };
  return { createWebhook, handler };
}
