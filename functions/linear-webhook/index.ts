import { LinearWebhookClient } from "@linear/sdk/webhooks";
import { PayloadError } from "../shared/errors";
import { getSecret } from "../shared/secrets";
import { followUpPrefix, linearTriggerLabel } from "../shared/settings";
import type { Trigger } from "../shared/ticket";
import { detectLinearFollowUp, detectLinearTrigger } from "../shared/trackers/linear";
import { header, type StartRun, stepFunctionsStarter } from "../shared/webhook";
import { createWebhookHandler } from "../shared/webhook-handler";

/** Linear's events we act on, keyed by the webhook's `type`: labels on issues, replies in our threads. */
const LINEAR_EVENTS: Record<string, (payload: unknown, env: NodeJS.ProcessEnv) => Trigger | null> = {
  Issue: (payload, env) => detectLinearTrigger(payload, linearTriggerLabel(env)),
  Comment: (payload, env) => detectLinearFollowUp(payload, followUpPrefix(env)),
};

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
      detect(payload) {
        if (typeof payload !== "object" || payload === null)
          throw new PayloadError("The body is not a JSON object");
        const event = String((payload as { type?: unknown }).type);
        // Own keys only: an event named "constructor" or "__proto__" must not reach Object's members.
        const route = Object.hasOwn(LINEAR_EVENTS, event) ? LINEAR_EVENTS[event] : undefined;
        return route ? route(payload, env) : null;
      },
    },
    startRun,
  );
}

/** The Lambda entry point. */
export const handler = createLinearWebhookHandler(stepFunctionsStarter());
