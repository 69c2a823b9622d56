import { randomUUID } from "node:crypto";
import type http from "node:http";
import { adminOperations, type FakeLinearWebhook, type FakeLinearWebhookFailure } from "./linear-admin";
import type { FakeLinearAgent } from "./linear-agent";
import { answer, FaultQueue, type FaultRule, parseJson, type Reply, readBody, startServer } from "./server";

/** A comment as stored by the fake. */
export interface FakeLinearComment {
  id: string;
  issueId: string;
  body: string;
  parentId?: string;
  createdAt: string;
  userId: string;
  /** Bodies set by updateComment, in order (the last one is `body`). */
  edits?: string[];
}

/** A workspace label (no teamId) or a team label. */
export interface FakeLinearLabel {
  id: string;
  name: string;
  teamId?: string;
  /** A label group: it cannot be applied to an issue. */
  isGroup?: boolean;
}

/** A link attached to an issue, as Linear's GitHub/GitLab integrations attach pull requests. */
export interface FakeLinearAttachment {
  url: string;
  title?: string;
  subtitle?: string;
  /** The integration that attached it ("github", "gitlab", ...). */
  sourceType?: string;
}

/** One label edit (issueAddLabel, issueRemoveLabel or updateIssue), with label ids. */
export interface FakeLinearLabelChange {
  issueId: string;
  added: string[];
  removed: string[];
}

/** The labels every fake workspace has unless `labels` says otherwise. */
export const DEFAULT_FAKE_LINEAR_LABELS: FakeLinearLabel[] = [
  { id: "lbl-needs-test", name: "needs test" },
  { id: "lbl-testing", name: "testing" },
  { id: "lbl-tested", name: "tested" },
  { id: "lbl-test-failed", name: "test failed" },
  { id: "lbl-unverified", name: "unverified" },
];

/** The team of every issue the fake is not told otherwise about (`issueTeamIds`). */
export const DEFAULT_FAKE_LINEAR_TEAM = "team-default";

/**
 * A workflow state of a team (SDK class WorkflowState): `type` is one of "triage", "backlog", "unstarted",
 * "started", "completed", "canceled", "duplicate"; each team has its own states.
 */
export interface FakeLinearWorkflowState {
  id: string;
  name: string;
  type: string;
  teamId: string;
  position: number;
}

/** One state change received through updateIssue (stateId). */
export interface FakeLinearStateChange {
  issueId: string;
  from?: string;
  to: string;
}

/**
 * The states a new Linear team has (https://linear.app/docs/configuring-workflows): Backlog, Todo,
 * In Progress, Done, Canceled and Duplicate. Ids are `state-<team>-<slug>`, e.g. `state-team-eng-in-progress`.
 */
export function defaultFakeLinearStates(teamId: string): FakeLinearWorkflowState[] {
  const states: Array<[string, string]> = [
    ["Backlog", "backlog"],
    ["Todo", "unstarted"],
    ["In Progress", "started"],
    ["Done", "completed"],
    ["Canceled", "canceled"],
    ["Duplicate", "duplicate"],
  ];
  return states.map(([name, type], position) => ({
    id: `state-${teamId}-${name.toLowerCase().replace(/\s+/g, "-")}`,
    name,
    type,
    teamId,
    position,
  }));
}

/** An issue the `issue` query knows. */
export interface FakeLinearIssue {
  identifier: string;
  title: string;
  description?: string;
  url: string;
  teamId?: string;
}

/** Options of startFakeLinear. */
export interface FakeLinearOptions {
  /** Expected Authorization header, as the SDK sends an API key (no "Bearer"); default "lin_api_test". */
  apiKey?: string;
  /** The API key's user; it writes every comment. Default "user-qa-bot". */
  viewerId?: string;
  /** The workspace's labels; default DEFAULT_FAKE_LINEAR_LABELS. */
  labels?: FakeLinearLabel[];
  /** Label ids issues start with, by issue id; any other issue starts with none. */
  issueLabelIds?: Record<string, string[]>;
  /** Each issue's team, by issue id; any other issue is in `teamId`. */
  issueTeamIds?: Record<string, string>;
  /** The team of issues not in `issueTeamIds`; default DEFAULT_FAKE_LINEAR_TEAM. */
  teamId?: string;
  /**
   * Every team's workflow states; default defaultFakeLinearStates for each team the fake knows (`teamId`
   * and those in `issueTeamIds`).
   */
  workflowStates?: FakeLinearWorkflowState[];
  /** Each issue's workflow state, by issue id; any other issue is in its team's first "unstarted" state. */
  issueStateIds?: Record<string, string>;
  /** Issues the `issue` query knows, by id. */
  issues?: Record<string, { identifier: string; title: string; description?: string; url: string }>;
  /** Each issue's attachments, in Linear's order, by issue id; an issue not named has none. */
  attachments?: Record<string, FakeLinearAttachment[]>;
  /** Extra GraphQL operations by name: return the `data` object, or throw to answer a GraphQL error. */
  operations?: Record<string, (variables: Record<string, unknown>) => unknown>;
  /** The API key's user is a workspace admin (may manage webhooks, simulators/linear-admin.ts); default true. */
  admin?: boolean;
  /** Webhooks the workspace already has. */
  webhooks?: FakeLinearWebhook[];
  /** Linear as an agent platform (simulators/linear-agent/): OAuth, app tokens, sessions, webhooks. */
  agent?: FakeLinearAgent;
}

/** One GraphQL request as the fake received it. */
export interface RecordedLinearRequest {
  /** The operation name, e.g. "createComment"; "" when the query has none. */
  operation: string;
  variables: unknown;
  query: string;
  headers: Record<string, string | string[] | undefined>;
}

/** A running fake Linear GraphQL API. */
export interface FakeLinear {
  /** "http://127.0.0.1:PORT/graphql": pass as apiUrl to new LinearClient. */
  url: string;
  /** Every comment created, in order (updates edit them in place). */
  comments: FakeLinearComment[];
  /** Every request received, faulted ones included. */
  requests: RecordedLinearRequest[];
  /** Every label edit, in order (no-op edits included). */
  labelChanges: FakeLinearLabelChange[];
  /** Every state change, in order. */
  stateChanges: FakeLinearStateChange[];
  /** The issue's current workflow state id. */
  issueStateId(issueId: string): string | undefined;
  /** The workspace's labels, those created through the API included. */
  labels: FakeLinearLabel[];
  /** The workspace's webhooks (simulators/linear-admin.ts). */
  webhooks: FakeLinearWebhook[];
  /** Records a failed delivery of a webhook, as Linear does when the endpoint does not answer 200. */
  addWebhookFailure(webhookId: string, failure: FakeLinearWebhookFailure): void;
  /** The issue's current label ids, in the order they were added. */
  issueLabelIds(issueId: string): string[];
  /**
   * Stores a comment as written by someone else (a human reply), without a request; returns it. `id` is a
   * client-chosen id, as anyone may send with commentCreate (refused when taken, as createComment refuses it).
   */
  addComment(comment: {
    issueId: string;
    body: string;
    userId: string;
    parentId?: string;
    id?: string;
  }): FakeLinearComment;
  /** Queues a fault for the next `times` (default 1) matching requests; `operation` is the GraphQL name. */
  failNext(rule: FaultRule): void;
  /** Stops the server, ending hung requests. */
  close(): Promise<void>;
}

/** A GraphQL error as Linear sends it; `type` is what the SDK maps to its error classes. */
export class GraphQLError extends Error {
  constructor(
    message: string,
    readonly type: string,
    readonly userPresentableMessage: string,
  ) {
    super(message);
  }
}

function errorReply(error: GraphQLError): Reply {
  const extensions = { type: error.type, userPresentableMessage: error.userPresentableMessage };
  return { status: 400, body: { errors: [{ message: error.message, extensions }] } };
}

/**
 * A fault that the SDK surfaces as RatelimitedLinearError. The SDK picks the class from
 * errors[0].extensions.type and fills retryAfter and the reset times from these response headers. Also the
 * agent platform's answer to a request over its budget (simulators/linear-agent/).
 */
export function ratelimitedFault(
  options: { retryAfterSeconds?: number; resetInMs?: number; resetAt?: number; limit?: number } = {},
): Reply {
  const headers: Record<string, string> = {
    "x-ratelimit-requests-limit": String(options.limit ?? 5000),
    "x-ratelimit-requests-remaining": "0",
    "x-ratelimit-requests-reset": String(options.resetAt ?? Date.now() + (options.resetInMs ?? 1000)),
  };
  if (options.retryAfterSeconds !== undefined) headers["retry-after"] = String(options.retryAfterSeconds);
  const extensions = { type: "ratelimited", userPresentableMessage: "Rate limit exceeded, retry later." };
  return { status: 400, headers, body: { errors: [{ message: "Rate limit exceeded", extensions }] } };
}

// CommentCreateInput.id is documented (SDK types) as "UUID v4 format"; so is AgentActivityCreateInput.id.
export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * A GraphQL connection as the SDK's models read it: the nodes and a PageInfo whose cursors are the first and
 * last node ids (the fake serves one page; `hasNextPage` says whether more were left out).
 */
export function connection<T extends { id: string }>(typename: string, nodes: T[], hasNextPage = false) {
  const pageInfo = {
    __typename: "PageInfo",
    startCursor: nodes[0]?.id ?? null,
    endCursor: nodes.at(-1)?.id ?? null,
    hasPreviousPage: false,
    hasNextPage,
  };
  return { __typename: typename, nodes, pageInfo };
}

/** The SDK posts no operationName: the name is the first word after query/mutation. */
function operationName(body: { query?: unknown; operationName?: unknown }): string {
  if (typeof body.operationName === "string") return body.operationName;
  if (typeof body.query !== "string") return "";
  return /^\s*(?:query|mutation)\s+(\w+)/.exec(body.query)?.[1] ?? "";
}

/** Starts a fake Linear GraphQL API on 127.0.0.1 that answers what @linear/sdk 98 asks for comments. */
export async function startFakeLinear(options: FakeLinearOptions = {}): Promise<FakeLinear> {
  const apiKey = options.apiKey ?? "lin_api_test";
  const viewerId = options.viewerId ?? "user-qa-bot";
  const faults = new FaultQueue();
  const requests: RecordedLinearRequest[] = [];
  const comments: FakeLinearComment[] = [];
  const updatedAt = new Map<string, string>();
  const startedAt = new Date().toISOString();
  let lastSyncId = 0;
  // A copy: labels created through the API must not leak into the shared default or the caller's list.
  const labels = [...(options.labels ?? DEFAULT_FAKE_LINEAR_LABELS)];
  const webhooks = [...(options.webhooks ?? [])];
  const labelChanges: FakeLinearLabelChange[] = [];
  const issueLabels = new Map<string, string[]>(
    Object.entries(options.issueLabelIds ?? {}).map(([id, ids]) => [id, [...ids]]),
  );

  const notFound = (entity: string) =>
    new GraphQLError(`Entity not found: ${entity}`, "invalid input", `Could not find referenced ${entity}.`);

  const teamOf = (issueId: string) =>
    options.issueTeamIds?.[issueId] ?? options.teamId ?? DEFAULT_FAKE_LINEAR_TEAM;

  const knownTeams = new Set([
    options.teamId ?? DEFAULT_FAKE_LINEAR_TEAM,
    ...Object.values(options.issueTeamIds ?? {}),
  ]);
  const workflowStates =
    options.workflowStates ?? [...knownTeams].flatMap((team) => defaultFakeLinearStates(team));
  const stateChanges: FakeLinearStateChange[] = [];
  const issueStates = new Map<string, string>(Object.entries(options.issueStateIds ?? {}));
  /** An issue's state: Linear gives every issue one (Issue.state is non-null in its schema). */
  const stateOf = (issueId: string): string | undefined => {
    const set = issueStates.get(issueId);
    if (set) return set;
    const team = workflowStates.filter((state) => state.teamId === teamOf(issueId));
    return (team.find((state) => state.type === "unstarted") ?? team[0])?.id;
  };

  /**
   * The state an issueUpdate with stateId moves an issue to, checked as Linear does: an id that names no state is
   * refused (Linear answers "Entity not found" for ids it cannot resolve, as for labels), and so is a state of
   * another team than the issue's (assumed error shape: each team has its own workflow, and Linear's UI
   * offers only the team's states).
   */
  const checkState = (issueId: string, stateId: unknown): FakeLinearWorkflowState => {
    const state = workflowStates.find((candidate) => candidate.id === stateId);
    if (!state) throw notFound("WorkflowState");
    if (state.teamId !== teamOf(issueId)) {
      throw new GraphQLError(
        "Argument Validation Error",
        "invalid input",
        `The workflow state '${state.name}' does not belong to the issue's team.`,
      );
    }
    return state;
  };

  /**
   * Applies a label edit to an issue, as Linear does: unknown ids fail the whole edit, group labels too,
   * and so does adding a label of another team than the issue's.
   */
  const changeLabels = (issueId: unknown, added: string[], removed: string[]) => {
    if (typeof issueId !== "string" || issueId === "") {
      throw new GraphQLError("Argument Validation Error", "invalid input", "id is required.");
    }
    for (const id of [...added, ...removed]) {
      const label = labels.find((candidate) => candidate.id === id);
      if (!label) throw notFound("IssueLabel");
      if (label.isGroup && added.includes(id)) {
        throw new GraphQLError(
          "Argument Validation Error",
          "invalid input",
          "A label group cannot be applied.",
        );
      }
      // Linear's answer, as seen from the real API by this project: "LabelIds
      // for incorrect team - The label '...' is not associated with the same team as the issue". The
      // error's type is assumed to be Linear's usual one for refused input.
      if (label.teamId !== undefined && label.teamId !== teamOf(issueId) && added.includes(id)) {
        throw new GraphQLError(
          "LabelIds for incorrect team",
          "invalid input",
          `The label '${label.name}' is not associated with the same team as the issue`,
        );
      }
    }
    const current = issueLabels.get(issueId) ?? [];
    for (const id of added) if (!current.includes(id)) current.push(id);
    for (const id of removed) if (current.includes(id)) current.splice(current.indexOf(id), 1);
    issueLabels.set(issueId, current);
    labelChanges.push({ issueId, added, removed });
    return {
      __typename: "IssuePayload",
      success: true,
      lastSyncId: ++lastSyncId,
      issue: { id: issueId },
    };
  };

  const labelNode = (label: FakeLinearLabel) => ({
    __typename: "IssueLabel",
    id: label.id,
    name: label.name,
    color: "#bec2c8",
    description: null,
    isGroup: label.isGroup ?? false,
    groupType: null,
    lastAppliedAt: null,
    createdAt: startedAt,
    updatedAt: startedAt,
    archivedAt: null,
    inheritedFrom: null,
    parent: null,
    team: label.teamId ? { id: label.teamId } : null,
    creator: null,
    retiredBy: null,
  });

  const find = (id: unknown): FakeLinearComment => {
    const comment = comments.find((candidate) => candidate.id === id);
    if (!comment)
      throw new GraphQLError(
        "Entity not found: Comment",
        "invalid input",
        "Could not find referenced Comment.",
      );
    return comment;
  };

  // A client-chosen comment id: Linear validates it as a UUID (a fake that took any string would hide that
  // bug) and refuses one that is taken, whoever took it and on whichever issue: ids are workspace-wide.
  const claimable = (id: string): void => {
    if (!UUID_V4.test(id))
      throw new GraphQLError("Argument Validation Error", "invalid input", "id must be a UUID v4.");
    if (comments.some((comment) => comment.id === id))
      throw new GraphQLError(
        "Entity already exists",
        "invalid input",
        "A comment with this id already exists.",
      );
  };

  const payload = (comment: FakeLinearComment) => ({
    __typename: "CommentPayload",
    success: true,
    lastSyncId: ++lastSyncId,
    comment: { id: comment.id },
  });

  // The SDK's Comment model maps `reactions` unconditionally; every other field may be null.
  const commentNode = (comment: FakeLinearComment) => ({
    __typename: "Comment",
    id: comment.id,
    body: comment.body,
    issueId: comment.issueId,
    parentId: comment.parentId ?? null,
    createdAt: comment.createdAt,
    updatedAt: updatedAt.get(comment.id) ?? comment.createdAt,
    editedAt: updatedAt.get(comment.id) ?? null,
    archivedAt: null,
    resolvedAt: null,
    url: `https://linear.app/fake/issue/${comment.issueId}#comment-${comment.id.slice(0, 8)}`,
    reactionData: [],
    reactions: [],
    issue: { id: comment.issueId },
    parent: comment.parentId ? { id: comment.parentId } : null,
    user: { id: comment.userId },
    botActor: null,
    syncedWith: null,
  });

  const knownIssue = (id: string) => {
    const issue = options.issues?.[id];
    if (!issue)
      throw new GraphQLError("Entity not found: Issue", "invalid input", "Could not find the issue.");
    return issue;
  };

  // The SDK's Attachment model (dist/index.mjs, class Attachment) maps no list, so nothing here is required
  // by it; `metadata` and `groupBySource` are non-null in Linear's schema, so they are given anyway.
  const attachmentNode = (issueId: string, attachment: FakeLinearAttachment, index: number) => ({
    __typename: "Attachment",
    id: `att-${issueId.slice(0, 8)}-${index + 1}`,
    url: attachment.url,
    title: attachment.title ?? attachment.url,
    subtitle: attachment.subtitle ?? null,
    source: attachment.sourceType ? { type: attachment.sourceType } : null,
    sourceType: attachment.sourceType ?? null,
    metadata: {},
    bodyData: null,
    groupBySource: Boolean(attachment.sourceType),
    createdAt: startedAt,
    updatedAt: startedAt,
    archivedAt: null,
    creator: null,
    externalUserCreator: null,
    issue: { id: issueId },
    originalIssue: null,
  });

  const operations: Record<string, (variables: Record<string, unknown>) => unknown> = {
    issue: (variables) => {
      const id = String(variables.id);
      const issue = knownIssue(id);
      const now = new Date().toISOString();
      // The SDK's Issue model maps these lists; everything else it reads may be null.
      return {
        issue: {
          id,
          identifier: issue.identifier,
          title: issue.title,
          url: issue.url,
          description: issue.description ?? null,
          number: Number(issue.identifier.split("-")[1] ?? 0),
          createdAt: now,
          updatedAt: now,
          // Issue.teamId in the SDK is `team?.id` (dist/index.mjs, class Issue); Issue.stateId `state?.id`.
          team: { id: teamOf(id) },
          state: stateOf(id) ? { id: stateOf(id) } : null,
          labelIds: [...(issueLabels.get(id) ?? [])],
          reactions: [],
          reactionData: [],
          previousIdentifiers: [],
          sharedAccess: { sharedWithUsers: [], isShared: false, viewerHasOnlySharedAccess: false },
        },
      };
    },
    // Issue.attachments() in the SDK sends Issue_AttachmentsDocument (dist/index.mjs): `query
    // issue_attachments($id, $first, ...) { issue(id: $id) { attachments(...) { nodes, pageInfo } } }`.
    issue_attachments: (variables) => {
      const id = String(variables.id);
      knownIssue(id);
      const first = typeof variables.first === "number" ? variables.first : 50;
      const all = (options.attachments?.[id] ?? []).map((a, index) => attachmentNode(id, a, index));
      const nodes = all.slice(0, first);
      return { issue: { attachments: connection("AttachmentConnection", nodes, all.length > nodes.length) } };
    },
    createComment: (variables) => {
      const input = (variables.input ?? {}) as Partial<FakeLinearComment>;
      if (typeof input.issueId !== "string" || typeof input.body !== "string") {
        throw new GraphQLError(
          "Argument Validation Error",
          "invalid input",
          "issueId and body are required.",
        );
      }
      if (input.id !== undefined) claimable(input.id);
      const comment: FakeLinearComment = {
        id: input.id ?? randomUUID(),
        issueId: input.issueId,
        body: input.body,
        createdAt: new Date().toISOString(),
        userId: viewerId,
      };
      if (input.parentId) comment.parentId = input.parentId;
      comments.push(comment);
      return { commentCreate: payload(comment) };
    },
    updateComment: (variables) => {
      const comment = find(variables.id);
      const input = (variables.input ?? {}) as { body?: unknown };
      // Linear lets only the author edit a comment (assumed error shape).
      if (comment.userId !== viewerId) {
        throw new GraphQLError("Forbidden", "forbidden", "You can only edit your own comments.");
      }
      if (typeof input.body === "string") {
        comment.body = input.body;
        comment.edits = [...(comment.edits ?? []), input.body];
      }
      updatedAt.set(comment.id, new Date().toISOString());
      return { commentUpdate: payload(comment) };
    },
    comment: (variables) => ({ comment: commentNode(find(variables.id)) }),
    // The API key's workspace: the agent's, when the simulator also plays the agent platform.
    organization: () => ({
      organization: {
        __typename: "Organization",
        ...(options.agent?.organization ?? { id: "org-acme", name: "Acme Inc", urlKey: "acme" }),
        projectStatuses: [],
      },
    }),
    viewer: () => ({
      viewer: {
        __typename: "User",
        id: viewerId,
        name: "QA.tech bot",
        displayName: "qa-bot",
        email: "qa-bot@example.com",
        active: true,
        // User.admin (SDK class User): "Whether the user is a workspace administrator."
        admin: options.admin ?? true,
        app: true,
        isMe: true,
        createdAt: startedAt,
        updatedAt: startedAt,
        url: `https://linear.app/fake/profiles/${viewerId}`,
      },
    }),
    issueLabels: (variables) => {
      const filter = variables.filter as LabelFilter | undefined;
      const first = typeof variables.first === "number" ? variables.first : 50;
      const nodes = labels.filter((label) => matchesLabel(label, filter)).slice(0, first);
      return { issueLabels: connection("IssueLabelConnection", nodes.map(labelNode)) };
    },
    // LinearClient.workflowStates sends WorkflowStatesDocument: `query workflowStates($filter, $first, ...)`.
    workflowStates: (variables) => {
      const filter = variables.filter as StateFilter | undefined;
      const first = typeof variables.first === "number" ? variables.first : 50;
      const all = workflowStates.filter((state) => matchesState(state, filter));
      const nodes = all.slice(0, first).map(workflowStateNode(startedAt));
      return { workflowStates: connection("WorkflowStateConnection", nodes, all.length > nodes.length) };
    },
    issueAddLabel: (variables) => ({
      issueAddLabel: changeLabels(variables.id, [String(variables.labelId)], []),
    }),
    issueRemoveLabel: (variables) => ({
      issueRemoveLabel: changeLabels(variables.id, [], [String(variables.labelId)]),
    }),
    updateIssue: (variables) => {
      const input = (variables.input ?? {}) as Record<string, unknown>;
      const known = new Set(["addedLabelIds", "removedLabelIds", "labelIds", "stateId"]);
      const unknown = Object.keys(input).filter((key) => !known.has(key));
      if (unknown.length) {
        const message = `Fake Linear updateIssue supports only label ids and stateId, not ${unknown.join(", ")}`;
        throw new GraphQLError(message, "graphql error", message);
      }
      const issueId = String(variables.id);
      // A refused state refuses the whole update: none of it is applied.
      const state = "stateId" in input ? checkState(issueId, input.stateId) : undefined;
      const labelEdit = ["addedLabelIds", "removedLabelIds", "labelIds"].some((key) => key in input);
      const ids = (value: unknown) => (Array.isArray(value) ? value.map(String) : []);
      let added = ids(input.addedLabelIds);
      let removed = ids(input.removedLabelIds);
      if (Array.isArray(input.labelIds)) {
        // labelIds replaces the whole set.
        const current = issueLabels.get(issueId) ?? [];
        const wanted = ids(input.labelIds);
        added = [...added, ...wanted.filter((id) => !current.includes(id))];
        removed = [...removed, ...current.filter((id) => !wanted.includes(id))];
      }
      const result = labelEdit || !state ? changeLabels(variables.id, added, removed) : undefined;
      if (state) {
        stateChanges.push({ issueId, from: stateOf(issueId), to: state.id });
        issueStates.set(issueId, state.id);
      }
      return {
        issueUpdate: result ?? {
          __typename: "IssuePayload",
          success: true,
          lastSyncId: ++lastSyncId,
          issue: { id: issueId },
        },
      };
    },
    ...adminOperations({
      viewerId,
      admin: options.admin ?? true,
      webhooks,
      labels,
      nextSyncId: () => ++lastSyncId,
      fail: (message, type, userMessage) => {
        throw new GraphQLError(message, type, userMessage);
      },
    }),
    ...options.operations,
  };

  const execute = (
    operation: string,
    variables: Record<string, unknown>,
    run = operations[operation],
  ): Reply => {
    if (!run) {
      const message = `Fake Linear does not implement operation "${operation}"`;
      return errorReply(new GraphQLError(message, "graphql error", message));
    }
    try {
      return { status: 200, body: { data: run(variables) } };
    } catch (error) {
      if (error instanceof GraphQLError) return errorReply(error);
      throw error;
    }
  };

  // The agent platform: the OAuth pages, app tokens and the Agent API, from simulators/linear-agent/ ---
  const agent = options.agent;
  if (agent) agent.issues = options.issues ?? {};
  const agentOperations = agent?.operations() ?? {};

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const method = req.method ?? "GET";
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    if (agent && (await agent.route(req, res, path))) return;
    const parsed = parseJson(await readBody(req));
    const body = (typeof parsed === "object" && parsed !== null ? parsed : {}) as Record<string, unknown>;
    const operation = operationName(body);
    const variables = (body.variables ?? {}) as Record<string, unknown>;
    requests.push({ operation, variables, query: String(body.query ?? ""), headers: { ...req.headers } });
    const fault = faults.take({ method, path, operation, variables });
    // An app's OAuth token (null for the API key): who it is, or Linear's 401 or rate-limit answer.
    const appToken = agent?.authenticate(req.headers.authorization) ?? null;

    let commit: () => Reply;
    if (method !== "POST" || path !== "/graphql") {
      commit = () => ({ status: 404, body: { errors: [{ message: `Not found: ${method} ${path}` }] } });
    } else if (appToken) {
      const who = appToken;
      commit = () => {
        if ("reply" in who) return who.reply;
        const run = agentOperations[operation];
        return run ? execute(operation, variables, (v) => run(v, who)) : execute(operation, variables);
      };
    } else if (req.headers.authorization !== apiKey) {
      const message = "Authentication required, not authenticated";
      const error = new GraphQLError(message, "authentication error", "You need to authenticate.");
      commit = () => errorReply(error);
    } else {
      commit = () => execute(operation, variables);
    }
    // A bare status fault carries no GraphQL errors, so the SDK classifies it by status (429, 5xx, ...).
    answer(res, fault, commit, () => ({}));
  };

  const server = await startServer(handle);
  return {
    url: `${server.url}/graphql`,
    comments,
    requests,
    labelChanges,
    stateChanges,
    issueStateId: (issueId) => stateOf(issueId),
    labels,
    webhooks,
    addWebhookFailure: (webhookId, failure) => {
      const webhook = webhooks.find((w) => w.id === webhookId);
      if (!webhook) throw new Error(`Fake Linear has no webhook ${webhookId}`);
      webhook.failures.push({ ...failure, createdAt: failure.createdAt ?? new Date().toISOString() });
    },
    issueLabelIds: (issueId) => [...(issueLabels.get(issueId) ?? [])],
    addComment: (input) => {
      if (input.id !== undefined) claimable(input.id);
      const comment: FakeLinearComment = {
        id: input.id ?? randomUUID(),
        issueId: input.issueId,
        body: input.body,
        createdAt: new Date().toISOString(),
        userId: input.userId,
      };
      if (input.parentId) comment.parentId = input.parentId;
      comments.push(comment);
      return comment;
    },
    failNext: (rule) => faults.add(rule),
    close: server.close,
  };
}

/** The subset of Linear's IssueLabelFilter the fake understands (what setLinearLabels sends, and a bit more). */
interface LabelFilter {
  and?: LabelFilter[];
  or?: LabelFilter[];
  id?: { eq?: string; in?: string[] };
  name?: { eq?: string; eqIgnoreCase?: string; in?: string[] };
  team?: { null?: boolean; id?: { eq?: string; in?: string[] } };
  isGroup?: { eq?: boolean };
}

function matchesLabel(label: FakeLinearLabel, filter: LabelFilter | undefined): boolean {
  if (!filter) return true;
  const known = new Set(["and", "or", "id", "name", "team", "isGroup"]);
  const unknown = Object.keys(filter).filter((key) => !known.has(key));
  if (unknown.length) {
    const message = `Fake Linear cannot filter labels by ${unknown.join(", ")}`;
    throw new GraphQLError(message, "graphql error", message);
  }
  if (filter.and && !filter.and.every((f) => matchesLabel(label, f))) return false;
  if (filter.or && !filter.or.some((f) => matchesLabel(label, f))) return false;
  if (filter.id?.eq !== undefined && label.id !== filter.id.eq) return false;
  if (filter.id?.in && !filter.id.in.includes(label.id)) return false;
  if (filter.name?.eq !== undefined && label.name !== filter.name.eq) return false;
  if (filter.name?.in && !filter.name.in.includes(label.name)) return false;
  if (
    filter.name?.eqIgnoreCase !== undefined &&
    label.name.toLowerCase() !== filter.name.eqIgnoreCase.toLowerCase()
  ) {
    return false;
  }
  if (filter.team?.null !== undefined && (label.teamId === undefined) !== filter.team.null) return false;
  if (filter.team?.id?.eq !== undefined && label.teamId !== filter.team.id.eq) return false;
  if (filter.team?.id?.in && !(label.teamId && filter.team.id.in.includes(label.teamId))) return false;
  if (filter.isGroup?.eq !== undefined && (label.isGroup ?? false) !== filter.isGroup.eq) return false;
  return true;
}

/** A workflow state as the SDK's WorkflowState fragment reads it (dist/index.mjs, fragment WorkflowState). */
function workflowStateNode(startedAt: string) {
  return (state: FakeLinearWorkflowState) => ({
    __typename: "WorkflowState",
    id: state.id,
    name: state.name,
    type: state.type,
    position: state.position,
    color: "#bec2c8",
    description: null,
    inheritedFrom: null,
    team: { id: state.teamId },
    createdAt: startedAt,
    updatedAt: startedAt,
    archivedAt: null,
  });
}

/** The subset of Linear's WorkflowStateFilter the fake understands. */
interface StateFilter {
  and?: StateFilter[];
  or?: StateFilter[];
  id?: { eq?: string; in?: string[] };
  name?: { eq?: string; eqIgnoreCase?: string; in?: string[] };
  team?: { id?: { eq?: string; in?: string[] } };
  type?: { eq?: string; in?: string[] };
}

function matchesState(state: FakeLinearWorkflowState, filter: StateFilter | undefined): boolean {
  if (!filter) return true;
  const known = new Set(["and", "or", "id", "name", "team", "type"]);
  const unknown = Object.keys(filter).filter((key) => !known.has(key));
  if (unknown.length) {
    const message = `Fake Linear cannot filter workflow states by ${unknown.join(", ")}`;
    throw new GraphQLError(message, "graphql error", message);
  }
  if (filter.and && !filter.and.every((f) => matchesState(state, f))) return false;
  if (filter.or && !filter.or.some((f) => matchesState(state, f))) return false;
  if (filter.id?.eq !== undefined && state.id !== filter.id.eq) return false;
  if (filter.id?.in && !filter.id.in.includes(state.id)) return false;
  if (filter.name?.eq !== undefined && state.name !== filter.name.eq) return false;
  if (filter.name?.in && !filter.name.in.includes(state.name)) return false;
  if (
    filter.name?.eqIgnoreCase !== undefined &&
    state.name.toLowerCase() !== filter.name.eqIgnoreCase.toLowerCase()
  ) {
    return false;
  }
  if (filter.team?.id?.eq !== undefined && state.teamId !== filter.team.id.eq) return false;
  if (filter.team?.id?.in && !filter.team.id.in.includes(state.teamId)) return false;
  if (filter.type?.eq !== undefined && state.type !== filter.type.eq) return false;
  if (filter.type?.in && !filter.type.in.includes(state.type)) return false;
  return true;
}
