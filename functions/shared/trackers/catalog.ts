import type { TrackerName } from "../domain/ticket";
import type { SecretName } from "../platform/secrets";

/**
 * What the stack, the local runner, the operator's tools and the bench need to know about one tracker. Pure
 * data: no SDK, no AWS, no Node built-in, so any bundle may read it without growing.
 */
export interface TrackerFacts {
  /** How people call it, in doctor's titles and messages ("Linear agent"). */
  displayName: string;
  /**
   * The CloudFormation name part: `<stackName>Webhook` (the function's logical id), `<stackName>WebhookUrl`
   * (the stack output). Never change it for an existing tracker: it would replace the function and the URL.
   */
  stackName: string;
  /** The webhook route path the tracker delivers to. Never change it: the trackers were given the URL. */
  webhookPath: `/webhooks/${string}`;
  /** The folder under functions/ of its webhook function's entry (index.ts). */
  webhookEntry: string;
  /** The description of its webhook function. */
  webhookDescription: string;
  /** "label": a label on a ticket starts a run; "agent": a Linear agent session does. */
  kind: "label" | "agent";
  /** The secret its deliveries are signed with. */
  signingSecret: SecretName;
  /** The secrets its webhook function reads (granted by lib/constructs/tracker-secrets). */
  webhookSecrets: readonly SecretName[];
  /** Its block in the settings (`<settingsKey>.enabled`). */
  settingsKey: "linear" | "jira" | "linear.agent";
  /** The local runner's variables for it; the tracker is on when any of them is set. */
  localVariables: readonly string[];
  /** The signature header of its deliveries (the probe and the simulators sign with it). */
  signatureHeader: "linear-signature" | "x-hub-signature";
}

/** Every tracker's facts: a new TrackerName without its entry does not compile. */
export const TRACKER_CATALOG = {
  linear: {
    displayName: "Linear",
    stackName: "Linear",
    webhookPath: "/webhooks/linear",
    webhookEntry: "linear-webhook",
    webhookDescription: "Verifies Linear webhooks and starts one workflow run per labelled ticket",
    kind: "label",
    signingSecret: "LINEAR_WEBHOOK_SECRET",
    webhookSecrets: ["LINEAR_WEBHOOK_SECRET"],
    settingsKey: "linear",
    localVariables: ["LINEAR_API_KEY", "LINEAR_WEBHOOK_SECRET"],
    signatureHeader: "linear-signature",
  },
  jira: {
    displayName: "Jira",
    stackName: "Jira",
    webhookPath: "/webhooks/jira",
    webhookEntry: "jira-webhook",
    webhookDescription: "Verifies Jira webhooks and starts one workflow run per labelled ticket",
    kind: "label",
    signingSecret: "JIRA_WEBHOOK_SECRET",
    webhookSecrets: ["JIRA_WEBHOOK_SECRET"],
    settingsKey: "jira",
    localVariables: ["JIRA_BASE_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_WEBHOOK_SECRET"],
    signatureHeader: "x-hub-signature",
  },
  "linear-agent": {
    displayName: "Linear agent",
    stackName: "LinearAgent",
    webhookPath: "/webhooks/linear-agent",
    webhookEntry: "linear-agent-webhook",
    webhookDescription: "Verifies the Linear agent's session events and starts or stops the session's runs",
    kind: "agent",
    signingSecret: "LINEAR_AGENT_WEBHOOK_SECRET",
    // MARKER_KEY: the agent's webhook keys the ids of the activities it posts with it (the first thought).
    webhookSecrets: ["LINEAR_AGENT_WEBHOOK_SECRET", "MARKER_KEY"],
    settingsKey: "linear.agent",
    localVariables: ["LINEAR_AGENT_CLIENT_ID", "LINEAR_AGENT_CLIENT_SECRET", "LINEAR_AGENT_WEBHOOK_SECRET"],
    signatureHeader: "linear-signature",
  },
} as const satisfies Record<TrackerName, TrackerFacts>;

/** The facts of one tracker. */
export function trackerFacts(tracker: TrackerName): TrackerFacts {
  return TRACKER_CATALOG[tracker];
}

/** Every tracker, in the catalog's order. */
export const TRACKER_NAMES = Object.keys(TRACKER_CATALOG) as TrackerName[];
