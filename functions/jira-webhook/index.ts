import { ConfigError, PayloadError } from "../shared/errors";
import { getSecret } from "../shared/secrets";
import { followUpPrefix, jiraSettings } from "../shared/settings";
import type { Trigger } from "../shared/ticket";
import {
  detectJiraFollowUp,
  detectJiraTrigger,
  type JiraTriggerConfig,
  verifyJiraSignature,
} from "../shared/trackers/jira";
import { header, type StartRun, stepFunctionsStarter } from "../shared/webhook";
import { createWebhookHandler } from "../shared/webhook-handler";

/** Jira's events we act on, keyed by `webhookEvent`: labels on issues, comments addressed to us. */
const JIRA_EVENTS: Record<
  string,
  (payload: unknown, config: JiraTriggerConfig & { prefix: string }) => Trigger | null
> = {
  "jira:issue_created": detectJiraTrigger,
  "jira:issue_updated": detectJiraTrigger,
  comment_created: detectJiraFollowUp,
};

/**
 * The Jira Cloud webhook: verifies `X-Hub-Signature: sha256=<hex>` over the raw body (failing closed when
 * no secret is configured), then starts one run per change that added the trigger label.
 */
export function createJiraWebhookHandler(startRun: StartRun, env: NodeJS.ProcessEnv = process.env) {
  return createWebhookHandler(
    {
      tracker: "jira",
      deliveryHeader: "x-atlassian-webhook-identifier",
      async verify(body, event) {
        const signature = header(event, "x-hub-signature");
        if (!signature) return "missing X-Hub-Signature header";
        let secret: string;
        try {
          secret = await getSecret("JIRA_WEBHOOK_SECRET", env);
        } catch (error) {
          if (error instanceof ConfigError) return "no Jira webhook secret is configured";
          throw error;
        }
        return verifyJiraSignature(body, signature, secret) ? null : "signature does not match";
      },
      detect(payload) {
        if (typeof payload !== "object" || payload === null)
          throw new PayloadError("The body is not a JSON object");
        const event = String((payload as { webhookEvent?: unknown }).webhookEvent);
        // Own keys only: an event named "constructor" or "__proto__" must not reach Object's members.
        const route = Object.hasOwn(JIRA_EVENTS, event) ? JIRA_EVENTS[event] : undefined;
        if (!route) return null;
        const { triggerLabel, projectKeys, siteUrl } = jiraSettings(env);
        return route(payload, { triggerLabel, projectKeys, siteUrl, prefix: followUpPrefix(env) });
      },
    },
    startRun,
  );
}

/** The Lambda entry point. */
export const handler = createJiraWebhookHandler(stepFunctionsStarter());
