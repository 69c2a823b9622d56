import { linearAgentWebhook } from "../shared/trackers/linear-agent/webhook";
import { webhookEntry } from "../shared/trackers/webhooks";

/**
 * The Linear agent's webhook (POST /webhooks/linear-agent): Linear's AgentSessionEvents in the pipeline every
 * tracker shares (webhook/handler.ts). A function of its own, apart from the label webhooks: it posts the
 * session's first thought and reads the agent's tokens, which the label webhooks never need to load.
 */
export const { createWebhook, handler } = webhookEntry(linearAgentWebhook);
