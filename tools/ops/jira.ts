/**
 * Jira's admin webhook (POST /rest/webhooks/1.0/webhook, Jira admins only; simulators/jira-admin.ts cites
 * the sources): what qa-ticket needs from it, and the calls that register it.
 */

import { redactSecrets, registerSecret } from "../../functions/shared/platform/redact";

/** The events the integration acts on: labels on issues (created, updated) and `@qa` comments. */
export const JIRA_EVENTS = ["jira:issue_created", "jira:issue_updated", "comment_created"] as const;

/** The webhook's name in Jira, so a re-run finds its own. */
export function jiraWebhookName(org: string): string {
  return `qa-ticket ${org}`;
}

/** The JQL that keeps traffic down: the configured projects, never the label (follow-ups must still arrive). */
export function jiraWebhookJql(projectKeys: string[]): string {
  return projectKeys.length ? `project in (${projectKeys.join(", ")})` : "";
}

/** An admin webhook as Jira lists it. */
export interface JiraWebhookView {
  id: string;
  name: string;
  url: string;
  events: string[];
  jql: string;
  enabled: boolean;
}

/** Jira's answer that the account may not manage webhooks. */
export class JiraNotAdminError extends Error {
  override name = "JiraNotAdminError";
}

/** The admin-webhook REST calls, with the integration's Basic auth. */
export class JiraAdmin {
  private readonly auth: string;

  constructor(
    private readonly baseUrl: string,
    email: string,
    token: string,
  ) {
    const basic = Buffer.from(`${email}:${token}`).toString("base64");
    registerSecret(token);
    registerSecret(basic);
    this.auth = `Basic ${basic}`;
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: this.auth,
        accept: "application/json",
        ...(body ? { "content-type": "application/json" } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (res.status === 403)
      throw new JiraNotAdminError("Jira answered 403: only Jira admins may manage webhooks");
    if (res.status >= 300)
      // Redacted before the cut, so an echoed Authorization header cannot survive half-cut.
      throw new Error(
        `Jira answered ${res.status} to ${method} ${path}: ${redactSecrets(text).slice(0, 200)}`,
      );
    return text ? JSON.parse(text) : undefined;
  }

  /** The webhook pointing at `url`, else the one of this name; null when neither exists. */
  async findWebhook(url: string, name: string): Promise<JiraWebhookView | null> {
    const list = (await this.call("GET", "/rest/webhooks/1.0/webhook")) as Array<Record<string, unknown>>;
    const views = list.map((w) => ({
      id:
        String(w.self ?? "")
          .split("/")
          .pop() ?? "",
      name: String(w.name ?? ""),
      url: String(w.url ?? ""),
      events: Array.isArray(w.events) ? w.events.map(String) : [],
      jql: String((w.filters as Record<string, unknown> | undefined)?.["issue-related-events-section"] ?? ""),
      enabled: w.enabled !== false,
    }));
    return views.find((w) => w.url === url) ?? views.find((w) => w.name === name) ?? null;
  }

  /** Registers (or, with `id`, updates) the webhook with the secret we stored; Jira signs with it. */
  async putWebhook(
    input: { name: string; url: string; jql: string; secret: string },
    id?: string,
  ): Promise<void> {
    const body = {
      name: input.name,
      url: input.url,
      events: [...JIRA_EVENTS],
      filters: { "issue-related-events-section": input.jql },
      excludeBody: false,
      secret: input.secret,
      // Said on every update too: a webhook someone disabled would otherwise stay disabled, and setup would
      // still report it updated (https://developer.atlassian.com/cloud/jira/platform/webhooks/).
      enabled: true,
    };
    await this.call(
      id ? "PUT" : "POST",
      id ? `/rest/webhooks/1.0/webhook/${id}` : "/rest/webhooks/1.0/webhook",
      body,
    );
  }
}
