import { randomBytes, randomUUID } from "node:crypto";

/**
 * The workspace-administration part of the Linear simulator: webhooks (create, update, list, read, their
 * failed deliveries) and label creation, as `npm run setup` and `npm run doctor` use them. Each rule cites
 * its source; where the source is silent, the comment says what is assumed.
 * Sources: the SDK's types and doc comments (node_modules/@linear/sdk/dist/index.d.mts and the
 * index-*.d.mts it imports), its GraphQL documents (dist/index.mjs), and Linear's API docs (https://linear.app/developers/graphql,
 * https://linear.app/developers/webhooks).
 */

/** A webhook as the fake stores it (the fields of the SDK's `fragment Webhook`, and its failures). */
export interface FakeLinearWebhook {
  id: string;
  url: string;
  label: string | null;
  secret: string;
  resourceTypes: string[];
  enabled: boolean;
  allPublicTeams: boolean;
  teamId: string | null;
  creatorId: string;
  createdAt: string;
  updatedAt: string;
  /** Failed deliveries, oldest first (WebhookFailureEvent). */
  failures: FakeLinearWebhookFailure[];
}

/** A failed delivery, as `WebhookFailureEvent` describes it (SDK: class WebhookFailureEvent). */
export interface FakeLinearWebhookFailure {
  /** Stable across retries of the same payload (SDK doc comment of `executionId`). */
  executionId: string;
  /** Null when no response arrived (DNS, timeout). */
  httpStatus: number | null;
  /** The response body or the error, truncated to 1000 characters. */
  responseOrError: string | null;
  createdAt?: string;
}

/** What the operations below share with the rest of the fake. */
export interface AdminContext {
  viewerId: string;
  /** The API key's user is a workspace admin. */
  admin: boolean;
  webhooks: FakeLinearWebhook[];
  /** The workspace's labels (the fake's list, extended in place). */
  labels: Array<{ id: string; name: string; teamId?: string; isGroup?: boolean }>;
  nextSyncId(): number;
  /** Raises the GraphQL error the fake answers with (its `GraphQLError`). */
  fail(message: string, type: string, userMessage: string): never;
}

/** WebhookResourceType in the SDK (index-*.d.mts, `declare enum WebhookResourceType`). */
const RESOURCE_TYPES = new Set([
  "AgentSessionEvent",
  "AppUserNotification",
  "Attachment",
  "Comment",
  "Customer",
  "CustomerNeed",
  "Cycle",
  "Document",
  "Initiative",
  "InitiativeUpdate",
  "Issue",
  "IssueLabel",
  "IssueSLA",
  "OAuthAuthorization",
  "PermissionChange",
  "Project",
  "ProjectLabel",
  "ProjectUpdate",
  "Reaction",
  "Release",
  "ReleaseNote",
  "User",
]);

/** The webhook as the SDK's `fragment Webhook` selects it; `failures` is what the doctor's own query adds. */
function webhookNode(webhook: FakeLinearWebhook) {
  return {
    __typename: "Webhook",
    id: webhook.id,
    label: webhook.label,
    secret: webhook.secret,
    url: webhook.url,
    resourceTypes: webhook.resourceTypes,
    enabled: webhook.enabled,
    allPublicTeams: webhook.allPublicTeams,
    team: webhook.teamId ? { id: webhook.teamId } : null,
    creator: { id: webhook.creatorId },
    archivedAt: null,
    createdAt: webhook.createdAt,
    updatedAt: webhook.updatedAt,
    failures: webhook.failures.map((failure, index) => ({
      __typename: "WebhookFailureEvent",
      id: `${webhook.id}-failure-${index + 1}`,
      executionId: failure.executionId,
      httpStatus: failure.httpStatus,
      responseOrError: failure.responseOrError?.slice(0, 1000) ?? null,
      url: webhook.url,
      createdAt: failure.createdAt ?? webhook.updatedAt,
      webhook: { id: webhook.id },
    })),
  };
}

/** The administration operations, by the operation name the SDK sends (see each). */
export function adminOperations(
  ctx: AdminContext,
): Record<string, (variables: Record<string, unknown>) => unknown> {
  // Linear's docs (Developers, Webhooks): creating and managing webhooks needs a workspace admin. The error's
  // shape is assumed: the SDK's usual one for a refused permission.
  const requireAdmin = () => {
    if (!ctx.admin)
      ctx.fail("Forbidden", "forbidden", "You need to be a workspace admin to manage webhooks.");
  };
  const find = (id: unknown) =>
    ctx.webhooks.find((webhook) => webhook.id === id) ??
    ctx.fail("Entity not found: Webhook", "invalid input", "Could not find referenced Webhook.");
  const checkResourceTypes = (types: unknown) => {
    if (!Array.isArray(types) || types.length === 0 || !types.every((t) => RESOURCE_TYPES.has(String(t))))
      ctx.fail(
        "Argument Validation Error",
        "invalid input",
        "resourceTypes must be WebhookResourceType values.",
      );
  };
  const payload = (webhook: FakeLinearWebhook) => ({
    __typename: "WebhookPayload",
    success: true,
    lastSyncId: ctx.nextSyncId(),
    webhook: { id: webhook.id },
  });

  return {
    // `query webhooks($after: String, ..., $first: Int, ...)` (WebhooksDocument): every webhook of the
    // workspace, paginated forward from the cursor `after` (the SDK's fetchNext sends pageInfo.endCursor).
    webhooks: (variables) => {
      requireAdmin();
      const first = typeof variables.first === "number" ? variables.first : 50;
      const start =
        typeof variables.after === "string"
          ? ctx.webhooks.findIndex((webhook) => webhook.id === variables.after) + 1
          : 0;
      const nodes = ctx.webhooks.slice(start, start + first).map(webhookNode);
      const pageInfo = {
        __typename: "PageInfo",
        startCursor: nodes[0]?.id ?? null,
        endCursor: nodes.at(-1)?.id ?? null,
        hasPreviousPage: start > 0,
        hasNextPage: ctx.webhooks.length > start + nodes.length,
      };
      return { webhooks: { __typename: "WebhookConnection", nodes, pageInfo } };
    },
    // `query webhook($id)` (WebhookDocument), and the doctor's query of the same name that also selects
    // `failures` ("[INTERNAL] Webhook failure events associated with the webhook (last 50)", index-*.d.mts).
    webhook: (variables) => {
      requireAdmin();
      const node = webhookNode(find(variables.id));
      return { webhook: { ...node, failures: node.failures.slice(-50) } };
    },
    // `mutation createWebhook($input: WebhookCreateInput!)`. WebhookCreateInput: url and resourceTypes are
    // required; the SDK's doc comment of Webhook.create: "Requires specifying a URL, resource types to
    // subscribe to, and either a specific team or all public teams"; Webhook.secret: "Automatically
    // generated if not provided during creation".
    createWebhook: (variables) => {
      requireAdmin();
      const input = (variables.input ?? {}) as Record<string, unknown>;
      if (typeof input.url !== "string" || input.url === "")
        ctx.fail("Argument Validation Error", "invalid input", "url is required.");
      checkResourceTypes(input.resourceTypes);
      if (typeof input.teamId !== "string" && input.allPublicTeams !== true)
        ctx.fail("Argument Validation Error", "invalid input", "A team or all public teams is required.");
      const now = new Date().toISOString();
      const webhook: FakeLinearWebhook = {
        id: typeof input.id === "string" ? input.id : randomUUID(),
        url: input.url as string,
        label: typeof input.label === "string" ? input.label : null,
        secret: typeof input.secret === "string" ? input.secret : `lin_wh_${randomBytes(24).toString("hex")}`,
        resourceTypes: (input.resourceTypes as unknown[]).map(String),
        enabled: input.enabled !== false,
        allPublicTeams: input.allPublicTeams === true,
        teamId: typeof input.teamId === "string" ? input.teamId : null,
        creatorId: ctx.viewerId,
        createdAt: now,
        updatedAt: now,
        failures: [],
      };
      ctx.webhooks.push(webhook);
      return { webhookCreate: payload(webhook) };
    },
    // `mutation updateWebhook($id: String!, $input: WebhookUpdateInput!)`: enabled, label, resourceTypes,
    // secret and url may change; the team may not (WebhookUpdateInput has no teamId).
    updateWebhook: (variables) => {
      requireAdmin();
      const webhook = find(variables.id);
      const input = (variables.input ?? {}) as Record<string, unknown>;
      const known = new Set(["enabled", "label", "resourceTypes", "secret", "url"]);
      const unknown = Object.keys(input).filter((key) => !known.has(key));
      if (unknown.length)
        ctx.fail(
          "Argument Validation Error",
          "invalid input",
          `WebhookUpdateInput has no ${unknown.join(", ")}.`,
        );
      if (input.resourceTypes !== undefined) {
        checkResourceTypes(input.resourceTypes);
        webhook.resourceTypes = (input.resourceTypes as unknown[]).map(String);
      }
      if (typeof input.enabled === "boolean") webhook.enabled = input.enabled;
      if (typeof input.label === "string") webhook.label = input.label;
      if (typeof input.secret === "string") webhook.secret = input.secret;
      if (typeof input.url === "string") webhook.url = input.url;
      webhook.updatedAt = new Date().toISOString();
      return { webhookUpdate: payload(webhook) };
    },
    // `mutation createIssueLabel($input: IssueLabelCreateInput!, ...)`: name is required; without teamId the
    // label belongs to the workspace (IssueLabelCreateInput.teamId's doc comment). A second label of the same
    // name in the same team or workspace is refused: assumed from Linear's UI, which does not allow it.
    createIssueLabel: (variables) => {
      const input = (variables.input ?? {}) as Record<string, unknown>;
      if (typeof input.name !== "string" || input.name.trim() === "")
        ctx.fail("Argument Validation Error", "invalid input", "name is required.");
      const name = String(input.name);
      const teamId = typeof input.teamId === "string" ? input.teamId : undefined;
      if (ctx.labels.some((l) => l.teamId === teamId && l.name.toLowerCase() === name.toLowerCase()))
        ctx.fail("Label already exists", "invalid input", `A label named "${name}" already exists.`);
      const label = { id: typeof input.id === "string" ? input.id : randomUUID(), name, teamId };
      ctx.labels.push(label);
      return {
        issueLabelCreate: {
          __typename: "IssueLabelPayload",
          success: true,
          lastSyncId: ctx.nextSyncId(),
          issueLabel: { id: label.id },
        },
      };
    },
  };
}
