import type http from "node:http";
import { validateAdf } from "./adf-schema";
import { type FakeJiraWebhook, jiraAdminRoute } from "./jira-admin";
import { answer, FaultQueue, type FaultRule, parseJson, type Reply, readBody, startServer } from "./server";

/** A comment as stored by the fake. */
export interface FakeJiraComment {
  id: string;
  issueKey: string;
  /** The ADF document posted. */
  body: unknown;
  authorAccountId: string;
  created: string;
  /** Bodies set by PUT .../comment/{id}, in order (the last one is `body`). */
  edits?: unknown[];
  /** When it was last edited; `created` when never. */
  updated?: string;
}

/** One label edit received through PUT /rest/api/3/issue/{key}. */
export interface FakeJiraLabelChange {
  issueKey: string;
  added: string[];
  removed: string[];
}

/** A workflow transition: from the statuses in `from` (none: from any status, a global transition) to `to`. */
export interface FakeJiraTransition {
  id: string;
  name: string;
  /** The status it leads to. */
  to: string;
  /** The statuses it starts from; absent: every status (a global transition). */
  from?: string[];
  /** Fields its screen requires (e.g. "resolution"): a POST without them is refused, as Jira refuses it. */
  requiredFields?: string[];
}

/**
 * Jira's default simplified workflow (a team-managed project's board columns): three statuses, each reachable
 * from any other by a global transition named after it. New issues start in the first.
 */
export const DEFAULT_FAKE_JIRA_WORKFLOW: { statuses: string[]; transitions: FakeJiraTransition[] } = {
  statuses: ["To Do", "In Progress", "Done"],
  transitions: [
    { id: "11", name: "To Do", to: "To Do" },
    { id: "21", name: "In Progress", to: "In Progress" },
    { id: "31", name: "Done", to: "Done" },
  ],
};

/** One transition made through POST /rest/api/3/issue/{key}/transitions. */
export interface FakeJiraTransitionMade {
  issueKey: string;
  transitionId: string;
  from: string;
  to: string;
}

/** One request as the fake received it. */
export interface RecordedJiraRequest {
  method: string;
  /** The full path as requested, query and any `/ex/jira/{cloudId}` prefix included. */
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

/** Options of startFakeJira. */
export interface FakeJiraOptions {
  /** The account the API token belongs to; default "qa-bot@example.com". */
  email?: string;
  /** Default "jira-api-token". */
  apiToken?: string;
  /** Labels issues start with, by issue key; any other issue starts with none. */
  labels?: Record<string, string[]>;
  /**
   * Issues GET /rest/api/3/issue/{key} knows, by key: the summary and the description (an ADF document, as
   * v3 returns it). Any other issue is unknown (404), as it is to Jira.
   */
  issues?: Record<string, { id: string; summary: string; description?: unknown; status?: string }>;
  /** The workflow every issue follows; default DEFAULT_FAKE_JIRA_WORKFLOW. An issue starts in `status` or the first status. */
  workflow?: { statuses: string[]; transitions: FakeJiraTransition[] };
  /** The account is a Jira admin, so it may register admin webhooks (simulators/jira-admin.ts); default false. */
  admin?: boolean;
  /** Remote links ("web links") of issues, by key: what GET .../remotelink lists; any other issue has none. */
  remoteLinks?: Record<string, Array<{ url: string; title?: string }>>;
}

/** A running fake Jira Cloud REST API (v3 comments and myself). */
export interface FakeJira {
  /** "http://127.0.0.1:PORT": use as the site; append `/ex/jira/{cloudId}` for the api.atlassian.com style. */
  url: string;
  /** Every comment created, in order (edits change them in place). */
  comments: FakeJiraComment[];
  /** Every label edit, in order (no-op edits included). */
  labelChanges: FakeJiraLabelChange[];
  /** The issue's current labels, in the order they were added. */
  labels(issueKey: string): string[];
  /** The issue's current status (undefined for an issue the fake does not know). */
  status(issueKey: string): string | undefined;
  /** Every transition made, in order. */
  transitionsMade: FakeJiraTransitionMade[];
  /** Stores a comment as written by someone else (a human reply), without a request; returns it. */
  addComment(issueKey: string, comment: { body: unknown; authorAccountId: string }): FakeJiraComment;
  /** Every request received, faulted ones included. */
  requests: RecordedJiraRequest[];
  /** Admin webhooks registered (simulators/jira-admin.ts); `secret` is what Jira would sign with. */
  webhooks: FakeJiraWebhook[];
  /** Queues a fault for the next `times` (default 1) matching requests; `path` is matched without the prefix. */
  failNext(rule: FaultRule): void;
  /** Stops the server, ending hung requests. */
  close(): Promise<void>;
}

/** The bot's own account, as GET /rest/api/3/myself reports it and as the author of its comments. */
export const FAKE_JIRA_ACCOUNT = { accountId: "jira-bot-account", displayName: "QA.tech" };

const COMMENT_PATH = /^\/rest\/api\/3\/issue\/([^/]+)\/comment$/;
const ONE_COMMENT_PATH = /^\/rest\/api\/3\/issue\/([^/]+)\/comment\/([^/]+)$/;
const ISSUE_PATH = /^\/rest\/api\/3\/issue\/([^/]+)$/;
const TRANSITIONS_PATH = /^\/rest\/api\/3\/issue\/([^/]+)\/transitions$/;
const REMOTE_LINKS_PATH = /^\/rest\/api\/3\/issue\/([^/]+)\/remotelink$/;
const CLOUD_PREFIX = /^\/ex\/jira\/[^/]+/;
const COMMENT_MAX_CHARS = 32_767;

function errors(status: number, ...messages: string[]): Reply {
  return { status, body: { errorMessages: messages, errors: {} } };
}

/** Starts a fake Jira Cloud on 127.0.0.1 with an OS-chosen port. */
export async function startFakeJira(options: FakeJiraOptions = {}): Promise<FakeJira> {
  const email = options.email ?? "qa-bot@example.com";
  const apiToken = options.apiToken ?? "jira-api-token";
  const expectedAuth = `Basic ${Buffer.from(`${email}:${apiToken}`).toString("base64")}`;
  const comments: FakeJiraComment[] = [];
  const requests: RecordedJiraRequest[] = [];
  const faults = new FaultQueue();
  const labelChanges: FakeJiraLabelChange[] = [];
  const labels = new Map<string, string[]>(
    Object.entries(options.labels ?? {}).map(([key, value]) => [key, [...value]]),
  );
  let nextId = 10_000;
  const webhooks: FakeJiraWebhook[] = [];
  const workflow = options.workflow ?? DEFAULT_FAKE_JIRA_WORKFLOW;
  const statuses = new Map<string, string>(
    Object.entries(options.issues ?? {}).map(([key, issue]) => [key, issue.status ?? workflow.statuses[0]]),
  );
  const transitionsMade: FakeJiraTransitionMade[] = [];
  let baseUrl = "";

  const route = (
    method: string,
    path: string,
    query: URLSearchParams,
    body: unknown,
    auth?: string,
  ): Reply => {
    if (auth !== expectedAuth) return errors(401, "Client must be authenticated to access this resource.");
    if (method === "GET" && path === "/rest/api/3/myself") {
      return { status: 200, body: { ...FAKE_JIRA_ACCOUNT, emailAddress: email, active: true } };
    }
    const admin = jiraAdminRoute(
      { admin: options.admin ?? false, webhooks, baseUrl: () => baseUrl },
      method,
      path,
      body,
    );
    if (admin) return admin;
    const one = ONE_COMMENT_PATH.exec(path);
    if (one) {
      if (method !== "PUT") return errors(405, `Method ${method} is not allowed`);
      return editComment(decodeURIComponent(one[1]), decodeURIComponent(one[2]), body);
    }
    const remoteLinksOf = REMOTE_LINKS_PATH.exec(path)?.[1];
    if (remoteLinksOf !== undefined) {
      if (method !== "GET") return errors(405, `Method ${method} is not allowed`);
      return listRemoteLinks(decodeURIComponent(remoteLinksOf));
    }
    const transitionsOf = TRANSITIONS_PATH.exec(path)?.[1];
    if (transitionsOf !== undefined) {
      const key = decodeURIComponent(transitionsOf);
      if (method === "GET") return listTransitions(key);
      if (method === "POST") return transition(key, body);
      return errors(405, `Method ${method} is not allowed`);
    }
    const issue = ISSUE_PATH.exec(path)?.[1];
    if (issue !== undefined) {
      if (method === "GET") return readIssue(decodeURIComponent(issue), query);
      if (method !== "PUT") return errors(405, `Method ${method} is not allowed`);
      return editIssue(decodeURIComponent(issue), body);
    }
    const issueKey = COMMENT_PATH.exec(path)?.[1];
    if (issueKey === undefined) return errors(404, "Not found");
    const key = decodeURIComponent(issueKey);
    if (method === "GET") return listComments(key, query);
    if (method === "POST") return createComment(key, body);
    return errors(405, `Method ${method} is not allowed`);
  };

  /** What v3 checks on a comment body: an ADF document, schema-valid, within the size limit. */
  const invalidBody = (doc: unknown): Reply | undefined => {
    if (typeof doc !== "object" || doc === null || (doc as { type?: unknown }).type !== "doc") {
      // What v3 answers to a plain string body.
      const comment = "Operation value must be an Atlassian Document (see the Atlassian Document Format)";
      return { status: 400, body: { errorMessages: [], errors: { comment } } };
    }
    if (validateAdf(doc).length > 0) return errors(400, "INVALID_INPUT");
    if (JSON.stringify(doc).length > COMMENT_MAX_CHARS) {
      const comment = "The entered text is too long. It exceeds the allowed limit of 32,767 characters.";
      return { status: 400, body: { errorMessages: [], errors: { comment } } };
    }
    return undefined;
  };

  const editComment = (issueKey: string, id: string, body: unknown): Reply => {
    const stored = comments.find((c) => c.issueKey === issueKey && c.id === id);
    if (!stored) return errors(404, "Can not find a comment for the id");
    // The bot's token may edit its own comments; editing others' needs "Edit all comments", which it lacks.
    if (stored.authorAccountId !== FAKE_JIRA_ACCOUNT.accountId) {
      return errors(403, "You do not have the permission to edit this comment.");
    }
    const doc = (body as { body?: unknown } | undefined)?.body;
    const invalid = invalidBody(doc);
    if (invalid) return invalid;
    stored.body = doc;
    stored.edits = [...(stored.edits ?? []), doc];
    stored.updated = new Date().toISOString();
    return { status: 200, body: toWire(stored) };
  };

  // GET /rest/api/3/issue/{issueIdOrKey}: `fields` (comma-separated) limits the fields returned; v3 gives the
  // description as an ADF document (Jira Cloud REST v3 reference, "Get issue").
  const readIssue = (issueKey: string, query: URLSearchParams): Reply => {
    const found = options.issues?.[issueKey];
    if (!found) return errors(404, "Issue does not exist or you do not have permission to see it.");
    const all: Record<string, unknown> = {
      summary: found.summary,
      description: found.description ?? null,
      labels: labels.get(issueKey) ?? [],
      project: { key: issueKey.split("-")[0] },
      status: statusNode(statuses.get(issueKey) ?? workflow.statuses[0]),
    };
    const wanted = query.get("fields")?.split(",").filter(Boolean);
    const fields = wanted ? Object.fromEntries(wanted.filter((f) => f in all).map((f) => [f, all[f]])) : all;
    return { status: 200, body: { id: found.id, key: issueKey, fields } };
  };

  const statusNode = (name: string) => ({
    id: String(10_000 + Math.max(0, workflow.statuses.indexOf(name))),
    name,
    statusCategory: { key: name === "Done" ? "done" : name === "To Do" ? "new" : "indeterminate" },
  });

  /**
   * The transitions the issue offers from its status: those from it, and the global ones but one leading to
   * the status it is in (Jira lists only the transitions available now; includeUnavailableTransitions is off
   * by default). GET /rest/api/3/issue/{issueIdOrKey}/transitions:
   * https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-transitions-get
   */
  const available = (issueKey: string): FakeJiraTransition[] => {
    const status = statuses.get(issueKey) ?? workflow.statuses[0];
    return workflow.transitions.filter((t) => (t.from ? t.from.includes(status) : t.to !== status));
  };

  const listTransitions = (issueKey: string): Reply => {
    if (!statuses.has(issueKey))
      return errors(404, "Issue does not exist or you do not have permission to see it.");
    const transitions = available(issueKey).map((t) => ({
      id: t.id,
      name: t.name,
      to: { self: `${baseUrl}/rest/api/3/status/${statusNode(t.to).id}`, ...statusNode(t.to) },
      hasScreen: (t.requiredFields ?? []).length > 0,
      isGlobal: t.from === undefined,
      isInitial: false,
      isAvailable: true,
      isConditional: false,
      isLooped: false,
    }));
    return { status: 200, body: { expand: "transitions", transitions } };
  };

  /**
   * POST /rest/api/3/issue/{issueIdOrKey}/transitions `{ transition: { id } }`: 204, or 400 when no
   * transition is given, when the id is not one the issue offers now ("Transition id '...' is not valid for
   * this issue.", what Jira answers), or when a field the transition's screen requires is missing (the
   * field's error in `errors`, as Jira reports field errors); 404 for an issue it does not show.
   * https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-transitions-post
   */
  const transition = (issueKey: string, body: unknown): Reply => {
    if (!statuses.has(issueKey))
      return errors(404, "Issue does not exist or you do not have permission to see it.");
    const request = (body ?? {}) as { transition?: { id?: unknown }; fields?: Record<string, unknown> };
    const id = request.transition?.id;
    if (typeof id !== "string" && typeof id !== "number")
      return errors(400, "Missing 'transition' identifier");
    const chosen = available(issueKey).find((t) => t.id === String(id));
    if (!chosen) return errors(400, `Transition id '${id}' is not valid for this issue.`);
    const missing = (chosen.requiredFields ?? []).filter((field) => request.fields?.[field] === undefined);
    if (missing.length > 0) {
      const fieldErrors = Object.fromEntries(missing.map((field) => [field, `${field} is required.`]));
      return { status: 400, body: { errorMessages: [], errors: fieldErrors } };
    }
    const from = statuses.get(issueKey) ?? workflow.statuses[0];
    statuses.set(issueKey, chosen.to);
    transitionsMade.push({ issueKey, transitionId: chosen.id, from, to: chosen.to });
    return { status: 204, body: null };
  };

  const editIssue = (issueKey: string, body: unknown): Reply => {
    const update = (body as { update?: { labels?: unknown } } | undefined)?.update;
    const ops = update?.labels;
    if (!Array.isArray(ops) || (body as { fields?: unknown }).fields !== undefined) {
      // Only label edits are faked; anything else is a test asking for more than the fake knows.
      return errors(400, 'Fake Jira only supports {"update":{"labels":[...]}}');
    }
    const added: string[] = [];
    const removed: string[] = [];
    for (const op of ops as Array<Record<string, unknown>>) {
      const [verb, value] = Object.entries(op ?? {})[0] ?? [];
      if ((verb !== "add" && verb !== "remove") || typeof value !== "string" || value === "") {
        return { status: 400, body: { errorMessages: [], errors: { labels: "Invalid label operation" } } };
      }
      if (/\s/.test(value)) {
        const labels = `The label '${value}' contains spaces which is invalid.`;
        return { status: 400, body: { errorMessages: [], errors: { labels } } };
      }
      (verb === "add" ? added : removed).push(value);
    }
    const current = labels.get(issueKey) ?? [];
    // Labels are case-sensitive: "Needs-Test" is not "needs-test".
    for (const op of ops as Array<Record<string, string>>) {
      if (op.add !== undefined && !current.includes(op.add)) current.push(op.add);
      if (op.remove !== undefined && current.includes(op.remove))
        current.splice(current.indexOf(op.remove), 1);
    }
    labels.set(issueKey, current);
    labelChanges.push({ issueKey, added, removed });
    return { status: 204, body: null };
  };

  /**
   * GET /rest/api/3/issue/{issueIdOrKey}/remotelink: an array of remote issue links, each `{ id, self,
   * object: { url, title } }` (web links have no application); `[]` for an issue without any.
   * https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-remote-links/#api-rest-api-3-issue-issueidorkey-remotelink-get
   */
  const listRemoteLinks = (issueKey: string): Reply => {
    const links = (options.remoteLinks?.[issueKey] ?? []).map((link, i) => ({
      id: 10_000 + i,
      self: `${baseUrl}/rest/api/3/issue/${issueKey}/remotelink/${10_000 + i}`,
      object: { url: link.url, title: link.title ?? link.url },
    }));
    return { status: 200, body: links };
  };

  const listComments = (issueKey: string, query: URLSearchParams): Reply => {
    const all = comments.filter((c) => c.issueKey === issueKey).map(toWire);
    if (query.get("orderBy") === "-created") all.reverse();
    const startAt = Number(query.get("startAt") ?? 0);
    const maxResults = Number(query.get("maxResults") ?? 5000);
    const page = all.slice(startAt, startAt + maxResults);
    return { status: 200, body: { startAt, maxResults, total: all.length, comments: page } };
  };

  const createComment = (issueKey: string, body: unknown): Reply => {
    const doc = (body as { body?: unknown } | undefined)?.body;
    const invalid = invalidBody(doc);
    if (invalid) return invalid;
    const stored: FakeJiraComment = {
      id: String(nextId++),
      issueKey,
      body: doc,
      authorAccountId: FAKE_JIRA_ACCOUNT.accountId,
      created: new Date().toISOString(),
    };
    comments.push(stored);
    return { status: 201, body: toWire(stored) };
  };

  const server = await startServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://fake");
    const method = req.method ?? "GET";
    const body = parseJson(await readBody(req));
    requests.push({ method, path: `${url.pathname}${url.search}`, headers: req.headers, body });
    const path = url.pathname.replace(CLOUD_PREFIX, "");
    const fault = faults.take({ method, path });
    answer(
      res,
      fault,
      () => route(method, path, url.searchParams, body, req.headers.authorization),
      (status) => errors(status, `Injected ${status}`).body,
    );
  });

  baseUrl = server.url;
  return {
    url: server.url,
    comments,
    requests,
    webhooks,
    labelChanges,
    labels: (issueKey) => [...(labels.get(issueKey) ?? [])],
    status: (issueKey) => statuses.get(issueKey),
    transitionsMade,
    addComment: (issueKey, comment) => {
      const stored: FakeJiraComment = {
        id: String(nextId++),
        issueKey,
        body: comment.body,
        authorAccountId: comment.authorAccountId,
        created: new Date().toISOString(),
      };
      comments.push(stored);
      return stored;
    },
    failNext: (rule) => faults.add(rule),
    close: server.close,
  };
}

function toWire(comment: FakeJiraComment) {
  const author =
    comment.authorAccountId === FAKE_JIRA_ACCOUNT.accountId
      ? FAKE_JIRA_ACCOUNT
      : { accountId: comment.authorAccountId, displayName: `User ${comment.authorAccountId}` };
  return {
    id: comment.id,
    body: comment.body,
    author,
    created: comment.created,
    updated: comment.updated ?? comment.created,
  };
}
