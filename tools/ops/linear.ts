import type { LinearClient } from "@linear/sdk";
import { registerSecret } from "../../functions/shared/platform/redact";
import { type LinearAuth, linearClient } from "../../functions/shared/trackers/linear/client";

/** What the integration's Linear webhook must subscribe to: labels on issues, and replies in threads. */
export const LINEAR_RESOURCE_TYPES = ["Issue", "Comment"] as const;

/** The label setup gives the webhook it registers, so a re-run (and doctor) can tell it from others. */
export function webhookLabel(org: string): string {
  return `qa-ticket ${org}`;
}

/** A webhook as setup and doctor look at it. */
export interface LinearWebhookView {
  id: string;
  url: string;
  label?: string | null;
  enabled: boolean;
  resourceTypes: string[];
  /** Null when Linear does not show it to this key. */
  secret?: string | null;
}

/** A failed delivery of the webhook (WebhookFailureEvent). */
export interface LinearWebhookFailure {
  executionId: string;
  httpStatus?: number | null;
  responseOrError?: string | null;
  createdAt: string;
}

/** The Linear API as setup and doctor use it, through the SDK. */
export class LinearAdmin {
  private readonly auth: LinearAuth;
  private sdk: Promise<LinearClient> | undefined;

  constructor(apiUrl: string, apiKey: string) {
    registerSecret(apiKey);
    this.auth = { apiKey, apiUrl };
  }

  /** The SDK client, built as the functions build theirs (trackers/linear/client.ts), on first use. */
  private client(): Promise<LinearClient> {
    this.sdk ??= linearClient(this.auth);
    return this.sdk;
  }

  /** The integration's webhook: the one pointing at `url`, else the one carrying its label. */
  async findWebhook(url: string, label: string): Promise<LinearWebhookView | null> {
    const client = await this.client();
    const webhooks = await client.webhooks({ first: 100 });
    // fetchNext appends the next page to the same connection's nodes.
    while (webhooks.pageInfo.hasNextPage) await webhooks.fetchNext();
    const all: LinearWebhookView[] = webhooks.nodes.map((w) => ({
      id: w.id,
      url: w.url ?? "",
      label: w.label,
      enabled: w.enabled,
      resourceTypes: w.resourceTypes,
      secret: w.secret,
    }));
    return all.find((w) => w.url === url) ?? all.find((w) => w.label === label) ?? null;
  }

  /** Registers the webhook with the signing secret we chose (and stored first); returns its id. */
  async createWebhook(input: { url: string; label: string; secret: string }): Promise<string> {
    const client = await this.client();
    const payload = await client.createWebhook({
      ...input,
      resourceTypes: [...LINEAR_RESOURCE_TYPES],
      allPublicTeams: true,
      enabled: true,
    });
    const id = payload.webhookId;
    if (!payload.success || !id) throw new Error("Linear did not create the webhook");
    return id;
  }

  /** Points an existing webhook at `url`, with our resources and secret, enabled. */
  async updateWebhook(id: string, input: { url: string; label: string; secret: string }): Promise<void> {
    const client = await this.client();
    const payload = await client.updateWebhook(id, {
      ...input,
      resourceTypes: [...LINEAR_RESOURCE_TYPES],
      enabled: true,
    });
    if (!payload.success) throw new Error("Linear did not update the webhook");
  }

  /**
   * The webhook's recent failed deliveries. The SDK has no call for them (Webhook.failures is marked
   * [INTERNAL] in its schema), so this is a raw query; null when Linear does not answer it for this key.
   */
  async webhookFailures(id: string): Promise<LinearWebhookFailure[] | null> {
    const query = `query webhook($id: String!) {
  webhook(id: $id) { id failures { id executionId httpStatus responseOrError createdAt } }
}`;
    try {
      const client = await this.client();
      const res = await client.client.rawRequest<
        { webhook?: { failures?: LinearWebhookFailure[] } },
        { id: string }
      >(query, { id });
      return res.data?.webhook?.failures ?? [];
    } catch {
      return null;
    }
  }

  /** Whether a label of this name exists (any case; in the workspace, or in any team when `anyTeam`). */
  async hasLabel(name: string, anyTeam: boolean): Promise<boolean> {
    const filter = anyTeam
      ? { name: { eqIgnoreCase: name } }
      : { and: [{ name: { eqIgnoreCase: name } }, { team: { null: true } }] };
    const client = await this.client();
    const labels = await client.issueLabels({ filter, first: 1 });
    return labels.nodes.length > 0;
  }

  /** Creates a workspace label (every team can use it). */
  async createLabel(name: string): Promise<void> {
    const client = await this.client();
    const payload = await client.createIssueLabel({ name });
    if (!payload.success) throw new Error(`Linear did not create the label "${name}"`);
  }
}
