import type { TrackerName } from "../domain/ticket";
import type { WebhookSpec } from "../webhook/handler";

/** The trackers whose label webhooks the webhook function serves. */
export type LabelTracker = Exclude<TrackerName, "linear-agent">;

/**
 * Each tracker's webhook (trackers/<name>/webhook.ts: its signature check and its event table), loaded on
 * first use. Kept apart from the trackers' other half (index.ts), so the webhook function bundles neither
 * tracker SDK nor the ADF converter: it stays small and starts fast. The Linear agent's webhook is a function
 * of its own (functions/linear-agent-webhook): it posts to Linear and reads the agent's tokens, whose client
 * libraries would make this bundle about five times larger and its cold start three times longer.
 */
export const WEBHOOKS: Record<LabelTracker, () => Promise<(env: NodeJS.ProcessEnv) => WebhookSpec>> = {
  linear: async () => (await import("./linear/webhook")).linearWebhook,
  jira: async () => (await import("./jira/webhook")).jiraWebhook,
};
