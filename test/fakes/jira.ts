import type http from "node:http";
import { validateAdf } from "../support/adf-schema";
import { answer, FaultQueue, type FaultRule, parseJson, type Reply, readBody, startServer } from "./server";

/** A comment as stored by the fake. */
export interface FakeJiraComment {
  id: string;
  issueKey: string;
  /** The ADF document posted. */
  body: unknown;
  authorAccountId: string;
  created: string;
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
}

/** A running fake Jira Cloud REST API (v3 comments and myself). */
export interface FakeJira {
  /** "http://127.0.0.1:PORT": use as the site; append `/ex/jira/{cloudId}` for the api.atlassian.com style. */
  url: string;
  /** Every comment created, in order. */
  comments: FakeJiraComment[];
  /** Every request received, faulted ones included. */
  requests: RecordedJiraRequest[];
  /** Queues a fault for the next `times` (default 1) matching requests; `path` is matched without the prefix. */
  failNext(rule: FaultRule): void;
  /** Stops the server, ending hung requests. */
  close(): Promise<void>;
}

/** The bot's own account, as GET /rest/api/3/myself reports it and as the author of its comments. */
export const FAKE_JIRA_ACCOUNT = { accountId: "jira-bot-account", displayName: "QA.tech" };

const COMMENT_PATH = /^\/rest\/api\/3\/issue\/([^/]+)\/comment$/;
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
  let nextId = 10_000;

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
    const issueKey = COMMENT_PATH.exec(path)?.[1];
    if (issueKey === undefined) return errors(404, "Not found");
    const key = decodeURIComponent(issueKey);
    if (method === "GET") return listComments(key, query);
    if (method === "POST") return addComment(key, body);
    return errors(405, `Method ${method} is not allowed`);
  };

  const listComments = (issueKey: string, query: URLSearchParams): Reply => {
    const all = comments.filter((c) => c.issueKey === issueKey).map(toWire);
    if (query.get("orderBy") === "-created") all.reverse();
    const startAt = Number(query.get("startAt") ?? 0);
    const maxResults = Number(query.get("maxResults") ?? 5000);
    const page = all.slice(startAt, startAt + maxResults);
    return { status: 200, body: { startAt, maxResults, total: all.length, comments: page } };
  };

  const addComment = (issueKey: string, body: unknown): Reply => {
    const doc = (body as { body?: unknown } | undefined)?.body;
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

  return {
    url: server.url,
    comments,
    requests,
    failNext: (rule) => faults.add(rule),
    close: server.close,
  };
}

function toWire(comment: FakeJiraComment) {
  return {
    id: comment.id,
    body: comment.body,
    author: FAKE_JIRA_ACCOUNT,
    created: comment.created,
    updated: comment.created,
  };
}
