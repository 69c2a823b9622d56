/**
 * The admin-webhook part of the Jira simulator: `/rest/webhooks/1.0/webhook`, as `npm run setup` and
 * `npm run doctor` use it. Sources: Atlassian's "Webhooks" page for Jira Cloud
 * (developer.atlassian.com/cloud/jira/platform/webhooks: webhooks "registered by /rest/webhooks/1.0/webhook
 * are called admin webhooks"; a `secret` may be set when registering through the REST API or the UI, and
 * cannot be read back; only a Jira admin may register one), and the request and response shapes of
 * jira.js's `createWebhook` (name, url, events, filters {"issue-related-events-section": jql}, excludeBody;
 * answer: id, name, url, events, enabled/active). Assumed where those are silent: the 403 and its message
 * for a non-admin, the 400 for a missing field, that `self` ends in the webhook's id, and that an update
 * without `enabled` may keep a disabled webhook disabled: the fake refuses such a PUT (400), so a client
 * that means "enabled" has to say it.
 */

/** An admin webhook as the fake stores it; `secret` is kept (Jira signs with it) but never shown. */
export interface FakeJiraWebhook {
  id: number;
  name: string;
  url: string;
  events: string[];
  jql: string;
  secret?: string;
  enabled: boolean;
}

/** What the routes share with the rest of the fake. */
export interface JiraAdminContext {
  /** The account behind the API token has Jira admin permission. */
  admin: boolean;
  webhooks: FakeJiraWebhook[];
  /** The fake's base URL, for `self`. */
  baseUrl(): string;
}

type Reply = { status: number; body: unknown };

const WEBHOOKS_PATH = "/rest/webhooks/1.0/webhook";
const ONE_WEBHOOK = /^\/rest\/webhooks\/1\.0\/webhook\/(\d+)$/;

function errors(status: number, message: string): Reply {
  return { status, body: { errorMessages: [message], errors: {} } };
}

function wire(ctx: JiraAdminContext, webhook: FakeJiraWebhook) {
  return {
    self: `${ctx.baseUrl()}${WEBHOOKS_PATH}/${webhook.id}`,
    name: webhook.name,
    url: webhook.url,
    events: webhook.events,
    filters: { "issue-related-events-section": webhook.jql },
    excludeBody: false,
    enabled: webhook.enabled,
  };
}

/** Answers an admin-webhook request, or undefined when the path is not one. */
export function jiraAdminRoute(
  ctx: JiraAdminContext,
  method: string,
  path: string,
  body: unknown,
): Reply | undefined {
  const one = ONE_WEBHOOK.exec(path);
  if (path !== WEBHOOKS_PATH && !one) return undefined;
  if (!ctx.admin) return errors(403, "You must be a Jira administrator to manage webhooks.");
  const input = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const fields = (): Omit<FakeJiraWebhook, "id"> | Reply => {
    if (typeof input.name !== "string" || typeof input.url !== "string" || !Array.isArray(input.events))
      return errors(400, "name, url and events are required");
    const filters = (input.filters ?? {}) as Record<string, unknown>;
    return {
      name: input.name,
      url: input.url,
      events: input.events.map(String),
      jql:
        typeof filters["issue-related-events-section"] === "string"
          ? filters["issue-related-events-section"]
          : "",
      secret: typeof input.secret === "string" ? input.secret : undefined,
      enabled: input.enabled !== false,
    };
  };
  if (!one) {
    if (method === "GET") return { status: 200, body: ctx.webhooks.map((w) => wire(ctx, w)) };
    if (method !== "POST") return errors(405, `Method ${method} is not allowed`);
    const made = fields();
    if ("status" in made) return made;
    const webhook = { id: (ctx.webhooks.at(-1)?.id ?? 0) + 1, ...made };
    ctx.webhooks.push(webhook);
    return { status: 201, body: wire(ctx, webhook) };
  }
  const webhook = ctx.webhooks.find((w) => w.id === Number(one[1]));
  if (!webhook) return errors(404, "Webhook not found");
  if (method === "GET") return { status: 200, body: wire(ctx, webhook) };
  if (method !== "PUT") return errors(405, `Method ${method} is not allowed`);
  // The docs do not say what an update without `enabled` does to a disabled webhook (Jira may keep it
  // disabled while the caller believes it updated it): refused, so every update says what it means.
  if (typeof input.enabled !== "boolean") return errors(400, "enabled is required when updating a webhook");
  const changed = fields();
  if ("status" in changed) return changed;
  // A PUT without a secret keeps the one set before (it cannot be read back, so it cannot be resent).
  Object.assign(webhook, { ...changed, secret: changed.secret ?? webhook.secret });
  return { status: 200, body: wire(ctx, webhook) };
}
