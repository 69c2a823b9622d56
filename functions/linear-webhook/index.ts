import { linearWebhook } from "../shared/trackers/linear/webhook";
import { webhookEntry } from "../shared/trackers/webhooks";

/** Linear's label webhook (POST /webhooks/linear): one run per labelled issue. */
export const { createWebhook, handler } = webhookEntry(linearWebhook);
