import { LinearWebhookClient } from "@linear/sdk/webhooks";
import { getSecret } from "../shared/platform/secrets";
import { followUpPrefix, linearTriggerLabel } from "../shared/platform/settings";
import { detectLinearFollowUp, detectLinearTrigger } from "../shared/trackers/linear/webhook";
import { createWebhookHandler } from "../shared/webhook/handler";
import { header, type StartRun, stepFunctionsStarter } from "../shared/webhook/starter";

/**
 * The Linear webhook: verifies `Linear-Signature` and the 60 s `webhookTimestamp` window with the SDK's
 * LinearWebhookClient, then starts one run per "trigger label added" change.
 */
export function createLinearWebhookHandler(startRun: StartRun, env: NodeJS.ProcessEnv = process.env) {
  return createWebhookHandler(
    {
      tracker: "linear",
      deliveryHeader: "linear-delivery",
      async verify(body, event) {
        const signature = header(event, "linear-signature");
        if (!signature) return "missing Linear-Signature header";
        const client = new LinearWebhookClient(await getSecret("LINEAR_WEBHOOK_SECRET", env));
        try {
          client.verify(body, signature);
          return null;
        } catch (error) {
          // verify checks the HMAC first, then parses the body for its timestamp: a signed body that is
          // not JSON is the sender's bad request, not a forgery.
          if (error instanceof SyntaxError) return null;
          return error instanceof Error && /timestamp/i.test(error.message)
            ? "webhookTimestamp missing or more than 60 s away"
            : "signature does not match";
        }
      },
      eventField: "type",
      // Labels on issues; replies in threads (the workflow checks the thread is ours).
      events: {
        Issue: (payload) => detectLinearTrigger(payload, linearTriggerLabel(env)),
        Comment: (payload) => detectLinearFollowUp(payload, followUpPrefix(env)),
      },
    },
    startRun,
  );
}

/** The Lambda entry point. */
export const handler = createLinearWebhookHandler(stepFunctionsStarter());
