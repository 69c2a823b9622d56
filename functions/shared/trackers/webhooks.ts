import type { TrackerName } from "../domain/ticket";
import type { WebhookSpec } from "../webhook/handler";

/**
 * Each tracker's webhook (trackers/<name>/webhook.ts: its signature check and its event table), loaded on
 * first use. Kept apart from the trackers' other half (index.ts), so the webhook function bundles neither
 * tracker SDK nor the ADF converter: it stays small and starts fast.
 */
export const WEBHOOKS: Record<TrackerName, () => Promise<(env: NodeJS.ProcessEnv) => WebhookSpec>> = {
  linear: async () => (await import("./linear/webhook")).linearWebhook,
  jira: async () => (await import("./jira/webhook")).jiraWebhook,
  "linear-agent": async () => (await import("./linear-agent/webhook")).linearAgentWebhook,
};
