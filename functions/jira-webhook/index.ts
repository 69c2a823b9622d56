import { jiraWebhook } from "../shared/trackers/jira/webhook";
import { webhookEntry } from "../shared/trackers/webhooks";

/** Jira's label webhook (POST /webhooks/jira): one run per labelled issue. */
export const { createWebhook, handler } = webhookEntry(jiraWebhook);
