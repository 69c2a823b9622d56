import { createHmac, timingSafeEqual } from "node:crypto";
import { isOwnComment, stripPrefix } from "../../domain/follow-up";
import {
  boundedFollowUpText,
  boundedTicket,
  executionName,
  type Ticket,
  type Trigger,
} from "../../domain/ticket";
import { ConfigError, PayloadError } from "../../platform/errors";
import { isObject } from "../../platform/json";
import { getSecret } from "../../platform/secrets";
import { jiraSiteUrl, settings } from "../../platform/settings";
import { header, type WebhookSpec } from "../../webhook/handler";
import { adfToText } from "./adf-text";

/** The webhook body is not the shape of a Jira issue event; the webhook answers 400. */
export class JiraPayloadError extends PayloadError {
  override name = "JiraPayloadError";
}

/** What detection needs to know about the organisation's Jira. */
export interface JiraTriggerConfig {
  /** The label that asks for a test, e.g. `needs-test`; matched exactly and case-sensitively. */
  triggerLabel: string;
  /** Projects to act on; empty or absent means every project the webhook delivers. */
  projectKeys?: string[];
  /** The site people browse, e.g. `https://acme.atlassian.net`; ticket links are built from it. */
  siteUrl: string;
}

const SIGNATURE_PREFIX = "sha256=";

/**
 * Checks `X-Hub-Signature: sha256=<hex>` against the HMAC-SHA256 of the raw body. Fails closed; hex digits
 * may be either case since they encode the same bytes, the `sha256=` prefix must be lowercase as Jira sends it.
 */
export function verifyJiraSignature(
  rawBody: Buffer,
  header: string | undefined,
  secret: string | undefined,
): boolean {
  if (!secret || !header?.startsWith(SIGNATURE_PREFIX)) return false;
  const hex = header.slice(SIGNATURE_PREFIX.length);
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return false;
  const expected = createHmac("sha256", secret).update(rawBody).digest();
  return timingSafeEqual(Buffer.from(hex, "hex"), expected);
}

/** Site URL without trailing slashes, so links and API paths join cleanly. */
export function normaliseSiteUrl(siteUrl: string): string {
  return siteUrl.replace(/\/+$/, "");
}

/** Returns the trigger when this Jira event just added the trigger label to an issue, otherwise null. */
export function detectJiraTrigger(payload: unknown, config: JiraTriggerConfig): Trigger | null {
  if (!isObject(payload) || typeof payload.webhookEvent !== "string") {
    throw new JiraPayloadError("Body is not a Jira webhook event (no webhookEvent)");
  }
  const event = payload.webhookEvent;
  if (event !== "jira:issue_updated" && event !== "jira:issue_created") return null;

  const issue = readIssue(payload.issue);
  if (!servesProject(config, issue)) return null;

  let change: string;
  if (event === "jira:issue_created") {
    if (!issue.labels.includes(config.triggerLabel)) return null;
    change = "created";
  } else {
    // issue_updated also arrives for comments and worklogs, without a changelog.
    if (payload.changelog === undefined || payload.changelog === null) return null;
    const changelog = payload.changelog;
    if (!isObject(changelog) || !Array.isArray(changelog.items)) {
      throw new JiraPayloadError("jira:issue_updated has a changelog without items");
    }
    if (!changelog.items.some((item) => addsLabel(item, config.triggerLabel))) return null;
    if (!isId(changelog.id)) throw new JiraPayloadError("jira:issue_updated has a changelog without an id");
    change = String(changelog.id);
  }

  return {
    runId: executionName("jira", issue.key, `${issue.id}:${change}`),
    ticket: jiraTicket(issue, config.siteUrl, true),
  };
}

/** Whether the issue is in a project we act on: any, when `projectKeys` is empty or absent. */
function servesProject(config: JiraTriggerConfig, issue: IssueFacts): boolean {
  const keys = config.projectKeys ?? [];
  return keys.length === 0 || keys.includes(issue.projectKey ?? "");
}

/** The ticket; `withLabels` where the event carries the issue's labels (comment_created does not). */
function jiraTicket(issue: IssueFacts, siteUrl: string, withLabels = false): Ticket {
  return boundedTicket({
    tracker: "jira",
    id: issue.id,
    key: issue.key,
    title: issue.summary,
    url: `${normaliseSiteUrl(siteUrl)}/browse/${encodeURIComponent(issue.key)}`,
    description: issue.description,
    labels: withLabels ? issue.labels : undefined,
  });
}

/**
 * A `comment_created` addressed to the integration (its text starts with the prefix, `@qa` by default)
 * on a project we serve: a follow-up question or a command for the ticket's conversation. Comments that
 * carry our own marker are ours and never trigger anything.
 */
export function detectJiraFollowUp(
  payload: unknown,
  config: JiraTriggerConfig & { prefix: string },
): Trigger | null {
  if (!isObject(payload) || payload.webhookEvent !== "comment_created") return null;
  const comment = payload.comment;
  if (!isObject(comment) || !isId(comment.id))
    throw new JiraPayloadError("comment_created without comment.id");
  const text = (typeof comment.body === "string" ? comment.body : adfToText(comment.body)).trim();
  const addressed = stripPrefix(text, config.prefix);
  if (addressed === null || isOwnComment(text)) return null;
  const issue = readIssue(payload.issue);
  if (!servesProject(config, issue)) return null;
  const author =
    isObject(comment.author) && typeof comment.author.accountId === "string"
      ? comment.author.accountId
      : undefined;
  return {
    runId: executionName("jira", issue.key, `${issue.id}:comment:${comment.id}`),
    ticket: jiraTicket(issue, config.siteUrl),
    followUp: { commentId: String(comment.id), authorId: author, text: boundedFollowUpText(addressed) },
  };
}

interface IssueFacts {
  id: string;
  key: string;
  summary: string;
  description: string;
  labels: string[];
  projectKey?: string;
}

function readIssue(value: unknown): IssueFacts {
  if (!isObject(value) || !isId(value.id) || typeof value.key !== "string" || value.key === "") {
    throw new JiraPayloadError("Issue event without issue.id and issue.key");
  }
  const fields = value.fields;
  if (!isObject(fields) || typeof fields.summary !== "string") {
    throw new JiraPayloadError(`Issue ${value.key} has no fields.summary`);
  }
  const project = isObject(fields.project) ? fields.project : {};
  return {
    id: String(value.id),
    key: value.key,
    summary: fields.summary,
    description: descriptionText(fields.description),
    labels: Array.isArray(fields.labels)
      ? fields.labels.filter((l): l is string => typeof l === "string")
      : [],
    projectKey: typeof project.key === "string" ? project.key : undefined,
  };
}

function descriptionText(description: unknown): string {
  if (typeof description === "string") return description;
  return isObject(description) ? adfToText(description) : "";
}

/** The changelog holds whole label sets as space-separated strings; added = in `toString`, not in `fromString`. */
function addsLabel(item: unknown, label: string): boolean {
  if (!isObject(item) || (item.field !== "labels" && item.fieldId !== "labels")) return false;
  return labelSet(item.toString).includes(label) && !labelSet(item.fromString).includes(label);
}

function labelSet(value: unknown): string[] {
  return typeof value === "string" ? value.split(/\s+/).filter(Boolean) : [];
}

function isId(value: unknown): value is string | number {
  return (typeof value === "string" && value !== "") || (typeof value === "number" && Number.isFinite(value));
}

/**
 * Jira Cloud's webhook: `X-Hub-Signature: sha256=<hex>` over the raw body (failing closed when no secret is
 * configured); routed by Jira's own event names: labels on issues, comments addressed to us.
 */
export function jiraWebhook(env: NodeJS.ProcessEnv = process.env): WebhookSpec {
  const config = () => {
    const s = settings(env);
    return {
      triggerLabel: s.jira.triggerLabel,
      projectKeys: s.jira.projectKeys,
      siteUrl: jiraSiteUrl(s),
      prefix: s.comments.followUpPrefix,
    };
  };
  return {
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
    events: {
      "jira:issue_created": (payload) => detectJiraTrigger(payload, config()),
      "jira:issue_updated": (payload) => detectJiraTrigger(payload, config()),
      comment_created: (payload) => detectJiraFollowUp(payload, config()),
    },
  };
}
