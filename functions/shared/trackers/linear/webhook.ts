import { LinearWebhookClient } from "@linear/sdk/webhooks";
import { isOwnComment, stripPrefix } from "../../domain/follow-up";
import { boundedFollowUpText, boundedTicket, executionName, type Trigger } from "../../domain/ticket";
import { PayloadError } from "../../platform/errors";
import { isObject, isStringArray } from "../../platform/json";
import { getSecret } from "../../platform/secrets";
import { settings } from "../../platform/settings";
import { header, type WebhookSpec } from "../../webhook/handler";
import { labelRunReporting } from "../../webhook/run-names";

/** The fields of a Linear webhook that detection reads. */
interface LinearIssueData {
  id: string;
  identifier: string;
  title: string;
  description?: string | null;
  url?: string;
  teamId?: string;
  team?: { id?: string };
  labelIds?: string[];
  labels?: Array<{ id: string; name: string }>;
  createdAt?: string;
  updatedAt?: string;
}

/**
 * An issue created with the label may be delivered both as a create and as an update that adds the label
 * right after (Linear's own follow-up of the creation): both are one change and must name one run. That
 * update is the issue's first (its `updatedFrom.updatedAt` is the creation time) and comes within this
 * window. A label removed and added again, however soon, is not the first update: it is a new request.
 */
const CREATION_WINDOW_MS = 60_000;

function issueData(payload: Record<string, unknown>): LinearIssueData {
  const data = payload.data;
  if (!isObject(data) || typeof data.id !== "string" || typeof data.identifier !== "string") {
    throw new PayloadError("Issue event without data.id and data.identifier");
  }
  if (data.labelIds !== undefined && !isStringArray(data.labelIds)) {
    throw new PayloadError("data.labelIds must be an array of ids");
  }
  if (data.labels !== undefined && !Array.isArray(data.labels)) {
    throw new PayloadError("data.labels must be an array");
  }
  return data as unknown as LinearIssueData;
}

/** The ids of the issue's labels whose name is the trigger label (case-insensitive; names are not unique). */
function triggerLabelIds(data: LinearIssueData, label: string): string[] {
  const wanted = label.trim().toLowerCase();
  return (data.labels ?? [])
    .filter((l) => isObject(l) && typeof l.name === "string" && l.name.trim().toLowerCase() === wanted)
    .map((l) => l.id);
}

/** When the change happened, in a form that is the same on every delivery of it. */
function changeTime(action: "create" | "update", data: LinearIssueData, updatedFrom: unknown): string {
  if (action === "create") return `created:${data.createdAt}`;
  const created = Date.parse(data.createdAt ?? "");
  const updated = Date.parse(data.updatedAt ?? "");
  const previous = isObject(updatedFrom) ? updatedFrom.updatedAt : undefined;
  // Without the previous update time (not seen from Linear, but possible), the window alone decides.
  const first = typeof previous === "string" ? Date.parse(previous) === created : true;
  const soon = updated - created >= 0 && updated - created <= CREATION_WINDOW_MS;
  return first && soon ? `created:${data.createdAt}` : `updated:${data.updatedAt}`;
}

/**
 * Decides whether a Linear webhook means "the trigger label was just added" (an issue update whose
 * `updatedFrom.labelIds` lacked it, or an issue created with it) and builds the run it asks for.
 * Returns null for every other event; throws PayloadError for an Issue event of the wrong shape.
 */
export function detectLinearTrigger(payload: unknown, triggerLabel: string): Trigger | null {
  if (!isObject(payload)) throw new PayloadError("The body is not a JSON object");
  if (payload.type !== "Issue") return null;
  const action = payload.action;
  if (action !== "create" && action !== "update") return null;
  const data = issueData(payload);
  const labelIds = new Set(data.labelIds ?? (data.labels ?? []).map((l) => l.id));
  const present = triggerLabelIds(data, triggerLabel).filter((id) => labelIds.has(id));
  let added = present;
  if (action === "update") {
    const before = isObject(payload.updatedFrom) ? payload.updatedFrom.labelIds : undefined;
    if (before === undefined) return null; // labels did not change in this update
    if (!isStringArray(before)) throw new PayloadError("updatedFrom.labelIds must be an array of ids");
    added = present.filter((id) => !before.includes(id));
  }
  const labelId = added.sort()[0];
  if (!labelId) return null;
  const change = `${data.id}:${labelId}:${changeTime(action, data, payload.updatedFrom)}`;
  return {
    runId: executionName("linear", data.identifier, change),
    ticket: boundedTicket({
      tracker: "linear",
      id: data.id,
      key: data.identifier,
      title: typeof data.title === "string" ? data.title : "",
      url: typeof data.url === "string" ? data.url : typeof payload.url === "string" ? payload.url : "",
      description: typeof data.description === "string" ? data.description : "",
      teamId: teamIdOf(data),
      // Without `labels` in the payload they are unknown (read back if a route needs them), not none.
      labels: data.labels === undefined ? undefined : labelNames(data, labelIds),
    }),
  };
}

/** The names of the labels the issue carries now (routing matches on them), as the webhook states them. */
function labelNames(data: LinearIssueData, labelIds: Set<string>): string[] {
  return (data.labels ?? []).flatMap((l) =>
    isObject(l) && typeof l.name === "string" && labelIds.has(l.id) ? [l.name] : [],
  );
}

/** The issue's team as the webhook states it (`teamId`, or `team.id`), if it does. */
function teamIdOf(data: LinearIssueData): string | undefined {
  if (typeof data.teamId === "string") return data.teamId;
  return isObject(data.team) && typeof data.team.id === "string" ? data.team.id : undefined;
}

/**
 * A reply in a comment thread (`Comment` create with `parentId`): possibly a follow-up for the
 * conversation whose acknowledgement is the thread's root; the workflow checks that the root is ours.
 * An optional `@qa` prefix is dropped. Comments that carry our own marker never trigger anything.
 */
export function detectLinearFollowUp(payload: unknown, prefix = "@qa"): Trigger | null {
  if (!isObject(payload) || payload.type !== "Comment" || payload.action !== "create") return null;
  const data = payload.data;
  if (!isObject(data) || typeof data.id !== "string" || typeof data.issueId !== "string") {
    throw new PayloadError("Comment event without data.id and data.issueId");
  }
  if (typeof data.parentId !== "string" || typeof data.body !== "string" || isOwnComment(data.body))
    return null;
  const text = stripPrefix(data.body, prefix) ?? data.body.trim();
  if (!text) return null;
  const issue = isObject(data.issue) ? data.issue : {};
  const key = typeof issue.identifier === "string" ? issue.identifier : "comment";
  return {
    runId: executionName("linear", key, `${data.issueId}:comment:${data.id}`),
    ticket: boundedTicket({
      tracker: "linear",
      id: data.issueId,
      key,
      title: typeof issue.title === "string" ? issue.title : "",
      url: typeof payload.url === "string" ? payload.url : "",
      description: "",
    }),
    followUp: {
      commentId: data.id,
      parentId: data.parentId,
      authorId: typeof data.userId === "string" ? data.userId : undefined,
      text: boundedFollowUpText(text),
    },
  };
}

/**
 * Checks `Linear-Signature` and the 60 s `webhookTimestamp` window with the SDK's LinearWebhookClient, using
 * the named signing secret (the workspace webhook's, or the agent's OAuth app's); null when genuine.
 */
export function verifyLinearSignature(
  secret: "LINEAR_WEBHOOK_SECRET" | "LINEAR_AGENT_WEBHOOK_SECRET",
  env: NodeJS.ProcessEnv,
): WebhookSpec["verify"] {
  return async (body, event) => {
    const signature = header(event, "linear-signature");
    if (!signature) return "missing Linear-Signature header";
    const client = new LinearWebhookClient(await getSecret(secret, env));
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
  };
}

/**
 * Linear's webhook: `Linear-Signature` and the 60 s `webhookTimestamp` window, checked by the SDK's
 * LinearWebhookClient; routed by Linear's own event names: labels on issues, replies in threads (the
 * workflow checks that the thread is ours). Where a label run reports (on the issue, or in an agent session)
 * is decided by labelRunReporting (webhook/run-names.ts), not here.
 */
export function linearWebhook(env: NodeJS.ProcessEnv = process.env): WebhookSpec {
  return {
    tracker: "linear",
    deliveryHeader: "linear-delivery",
    verify: verifyLinearSignature("LINEAR_WEBHOOK_SECRET", env),
    eventField: "type",
    events: {
      Issue: (payload) =>
        labelRunReporting(detectLinearTrigger(payload, settings(env).linear.triggerLabel), env),
      Comment: (payload) => detectLinearFollowUp(payload, settings(env).comments.followUpPrefix),
    },
  };
}
