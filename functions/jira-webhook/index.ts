import { ConfigError } from "../shared/platform/errors";
import { getSecret } from "../shared/platform/secrets";
import { followUpPrefix, jiraSettings } from "../shared/platform/settings";
import { detectJiraFollowUp, detectJiraTrigger, verifyJiraSignature } from "../shared/trackers/jira/webhook";
import { createWebhookHandler } from "../shared/webhook/handler";
import { header, type StartRun, stepFunctionsStarter } from "../shared/webhook/starter";

/**
 * The Jira Cloud webhook: verifies `X-Hub-Signature: sha256=<hex>` over the raw body (failing closed when
 * no secret is configured), then starts one run per change that added the trigger label.
 */
export function createJiraWebhookHandler(startRun: StartRun, env: NodeJS.ProcessEnv = process.env) {
  const config = () => {
    const { triggerLabel, projectKeys, siteUrl } = jiraSettings(env);
    return { triggerLabel, projectKeys, siteUrl, prefix: followUpPrefix(env) };
  };
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
      eventField: "webhookEvent",
      // Labels on issues; comments addressed to us.
      events: {
        "jira:issue_created": (payload) => detectJiraTrigger(payload, config()),
        "jira:issue_updated": (payload) => detectJiraTrigger(payload, config()),
        comment_created: (payload) => detectJiraFollowUp(payload, config()),
      },
    },
    startRun,
  );
}

/** The Lambda entry point. */
export const handler = createJiraWebhookHandler(stepFunctionsStarter());
