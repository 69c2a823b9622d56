import type http from "node:http";
import { type AddedRun, type FakeRun, type RunPlan, RunStore } from "./qatech-runs";
import { answer, FaultQueue, type FaultRule, parseJson, type Reply, readBody, startServer } from "./server";

export type { AddedRun, FakeRun, FakeRunTestCase, RunPlan, TestPlan } from "./qatech-runs";

/** How the fake assistant answers one user message. */
export interface ReplyPlan {
  /**
   * GETs of the conversation that still show the reply pending before it turns final: the first shows no
   * assistant message, the later ones a PARTIAL one with isStreaming true. Default 2. The reply never shows
   * before the user message does (see visibleAfterGets).
   */
  pollsUntilFinal?: number;
  /** Final status; "NEVER" keeps it PARTIAL forever. Default "COMPLETED". */
  status?: "COMPLETED" | "FAILED" | "CANCELLED" | "NEVER";
  /** Final assistant text (markdown). Default: a short reply quoting the first line of the user's message. */
  text?: string;
  /**
   * Test runs the assistant started: created (in the conversation's project) when the reply turns final, and
   * linked from its text, one `[Run results](<run url>)` line each.
   */
  runs?: RunPlan[];
  /** Also link each test of those runs (`[<name>](<.../results/test/<id>>)`), as a reply may; default false. */
  linkTests?: boolean;
}

/** Options of startFakeQaTech. */
export interface FakeQaTechOptions {
  /** Expected bearer token, default "qa-test-key"; a wrong or missing one answers 401. */
  apiKey?: string;
  /** Default "proj_demo": the project of a project-scoped key, and of conversation urls unless a request names one. */
  projectShortId?: string;
  /**
   * What the API key may act on, as QA.tech's keys do: "project" (default) for a key of `projectShortId`,
   * "organization" for a key that must name its project on every POST.
   */
  keyScope?: "organization" | "project";
  /** Decides how the assistant answers each user message; default () => ({}). */
  plan?: (message: string) => ReplyPlan;
  /** Time each answer takes, as a real API's would; default 0. */
  latencyMs?: number;
  /**
   * GETs of the conversation that do not show a user message yet after it was posted: QA.tech stores messages
   * asynchronously after its 202, so a read right after a send may not show the message just sent. Counted
   * in GETs rather than time, so a test sees the same thing on any machine. Default 1: the first read after
   * every send misses it. The reply starts only once the message shows.
   */
  visibleAfterGets?: number;
  /**
   * How reads list the newest `limit` messages. QA.tech's prose and OpenAPI say newest first (the default), but
   * one hand-written example of its Chat API page lists them oldest first: clients must not rely on either.
   */
  order?: "newest-first" | "oldest-first";
  /**
   * Whether the key may read test runs: "none" answers 401 to every runs call (GET /v1/run/{id}, GET
   * /v1/run-test-case/{id}, POST /v1/run/{id}), as for a key QA.tech does not let read them. Default "read".
   */
  runsAccess?: "read" | "none";
  /** How a rerun's tests end, given the original run (its rerun tests only) and failedOnly; default all pass. */
  rerunPlan?: (original: FakeRun, failedOnly: boolean) => RunPlan;
}

/** A message as the Chat API shows it. */
export interface ConversationMessage {
  id: string;
  role: "user" | "assistant";
  createdAt: string;
  text: string;
  status: "INITIATED" | "PARTIAL" | "COMPLETED" | "FAILED" | "CANCELLED";
  isStreaming: boolean;
}

/** One request as the fake received it. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body; the raw text when it is not JSON; undefined when empty. */
  body: unknown;
}

/** A conversation as stored by the fake; messages newest first, whatever `order` its reads use. */
export interface FakeConversation {
  shortId: string;
  url: string;
  messages: ConversationMessage[];
  /** The POST body that created it. */
  body: unknown;
}

/** A running fake QA.tech API: the Chat API and the runs API (simulators/qatech-runs.ts). */
export interface FakeQaTech {
  /** "http://127.0.0.1:PORT"; the client calls `${url}/v1/chat`. */
  url: string;
  /** Every request received, faulted ones included. */
  requests: RecordedRequest[];
  /** Most requests (of one method, when given) that were in flight at the same moment. */
  maxInFlight(method?: string): number;
  /** Snapshot of the conversations created so far. */
  conversations(): FakeConversation[];
  /** Creates a test run (in `plan.project`, default the fake's project); its url is its result page. */
  addRun(plan: RunPlan): AddedRun;
  /** Snapshot of the runs created so far (reading it does not advance them). */
  runs(): FakeRun[];
  /** Queues a fault for the next `times` (default 1) matching requests. */
  failNext(rule: FaultRule): void;
  /** Stops the server, ending hung requests. */
  close(): Promise<void>;
}

interface PendingReply {
  plan: ReplyPlan;
  userText: string;
  userMessage: ConversationMessage;
  polls: number;
  reply?: ConversationMessage;
  done: boolean;
}

interface Conversation {
  shortId: string;
  project: string;
  url: string;
  createdAt: string;
  updatedAt: string;
  body: unknown;
  /** Oldest first. */
  messages: ConversationMessage[];
  pending?: PendingReply;
}

const FAILED_TEXT = "I could not complete this: the application did not load.";
const PROJECT_PATTERN = /^proj(-.+_.+|_.+)$/;

function defaultText(userText: string): string {
  const firstLine = (userText.split("\n")[0] ?? "").trim().slice(0, 80);
  return `## Test created\n\nI created **${firstLine}** and ran it once: it passed.\n\n- 4 steps\n- 2 checks`;
}

function finalText(pending: PendingReply, links: string): string {
  const text = plannedText(pending);
  return links ? `${text}${text ? "\n\n" : ""}${links}` : text;
}

function plannedText(pending: PendingReply): string {
  if (pending.plan.text !== undefined) return pending.plan.text;
  if (pending.plan.status === "FAILED") return FAILED_TEXT;
  if (pending.plan.status === "CANCELLED") return "";
  return defaultText(pending.userText);
}

function error(status: number, message: string): Reply {
  return { status, body: { message } };
}

/** Starts a fake QA.tech API (chat and runs) on 127.0.0.1 that speaks the documented wire format. */
export async function startFakeQaTech(options: FakeQaTechOptions = {}): Promise<FakeQaTech> {
  const apiKey = options.apiKey ?? "qa-test-key";
  const defaultProject = options.projectShortId ?? "proj_demo";
  const visibleAfterGets = options.visibleAfterGets ?? 1;
  // GETs that will still miss a user message, by message id.
  const hiddenFor = new Map<string, number>();
  const isHidden = (message: ConversationMessage) => (hiddenFor.get(message.id) ?? 0) > 0;
  const keyScope = options.keyScope ?? "project";
  const planFor = options.plan ?? (() => ({}));
  const faults = new FaultQueue();
  const runs = new RunStore({ defaultProject, rerunPlan: options.rerunPlan });
  const requests: RecordedRequest[] = [];
  const conversations = new Map<string, Conversation>();
  let lastTime = 0;
  let messageCount = 0;

  // Clients match the reply to their message by createdAt, so timestamps must never tie.
  const now = (): string => {
    lastTime = Math.max(Date.now(), lastTime + 1);
    return new Date(lastTime).toISOString();
  };

  const addMessage = (conversation: Conversation, role: ConversationMessage["role"], text: string) => {
    // A reply starts out streaming; advance() finalises it.
    const streaming = role === "assistant";
    const message: ConversationMessage = {
      id: `msg_${++messageCount}`,
      role,
      createdAt: now(),
      text,
      status: streaming ? "PARTIAL" : "COMPLETED",
      isStreaming: streaming,
    };
    conversation.messages.push(message);
    conversation.updatedAt = message.createdAt;
    return message;
  };

  const sendUserMessage = (conversation: Conversation, text: string): void => {
    const userMessage = addMessage(conversation, "user", text);
    if (visibleAfterGets > 0) hiddenFor.set(userMessage.id, visibleAfterGets);
    // A newer message supersedes the previous reply, which stays frozen wherever it was.
    conversation.pending = { plan: planFor(text), userText: text, userMessage, polls: 0, done: false };
  };

  /** A GET's view: without the messages it does not show yet; each such GET brings them closer to showing. */
  const read = (conversation: Conversation, limit: number) => {
    const shown = view(conversation, limit, (message) => !isHidden(message));
    for (const message of conversation.messages) {
      const left = hiddenFor.get(message.id);
      if (left !== undefined) {
        if (left > 1) hiddenFor.set(message.id, left - 1);
        else hiddenFor.delete(message.id);
      }
    }
    return shown;
  };

  const view = (conversation: Conversation, limit: number, shows = (_: ConversationMessage) => true) => {
    const newest = conversation.messages.filter(shows).reverse().slice(0, limit);
    return {
      shortId: conversation.shortId,
      url: conversation.url,
      title: null,
      createdAt: conversation.createdAt,
      updatedAt: conversation.updatedAt,
      source: "api",
      messages: (options.order === "oldest-first" ? newest.reverse() : newest).map((message) => ({
        ...message,
      })),
    };
  };

  const create = (body: Record<string, unknown>, text: string): Reply => {
    const project = typeof body.projectShortId === "string" ? body.projectShortId : defaultProject;
    const shortId = `chat_${conversations.size + 1}`;
    const conversation: Conversation = {
      shortId,
      project,
      url: `https://app.qa.tech/p/${project}/chat/${shortId}`,
      createdAt: "",
      updatedAt: "",
      body,
      messages: [],
    };
    sendUserMessage(conversation, text);
    conversation.createdAt = conversation.messages[0].createdAt;
    conversations.set(shortId, conversation);
    // The real API never carries the reply in a 202: the messages are empty.
    return { status: 202, body: view(conversation, 0) };
  };

  const advance = (pending: PendingReply, conversation: Conversation): void => {
    if (pending.done) return;
    pending.polls += 1;
    if (isHidden(pending.userMessage)) return;
    const pollsUntilFinal = pending.plan.pollsUntilFinal ?? 2;
    const status = pending.plan.status ?? "COMPLETED";
    const isFinal = status !== "NEVER" && pending.polls > pollsUntilFinal;
    // The first poll after a send always shows nothing yet; PARTIAL comes from the second poll on.
    if (!isFinal && pending.polls < 2) return;
    pending.reply ??= addMessage(conversation, "assistant", "");
    if (isFinal) {
      Object.assign(pending.reply, {
        status,
        isStreaming: false,
        text: finalText(pending, runLinks(pending, conversation)),
      });
      pending.done = true;
    } else {
      const full = pending.plan.text ?? defaultText(pending.userText);
      pending.reply.text = full.slice(0, Math.ceil(full.length / 2));
    }
    conversation.updatedAt = now();
  };

  // The runs a final reply started, created now, and the lines that link them.
  const runLinks = (pending: PendingReply, conversation: Conversation): string => {
    const lines: string[] = [];
    for (const plan of pending.plan.runs ?? []) {
      const added = runs.add({ project: conversation.project, ...plan });
      lines.push(`[Run results](${added.url})`);
      if (pending.plan.linkTests) for (const test of added.tests) lines.push(`- [${test.name}](${test.url})`);
    }
    return lines.join("\n");
  };

  // Checks shared by every POST; returns the 400 message, if any.
  const invalidBody = (body: unknown): string | undefined => {
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return "Request body must be a JSON object";
    }
    const input = body as Record<string, unknown>;
    if (input.projectShortId !== undefined && !PROJECT_PATTERN.test(String(input.projectShortId))) {
      return "projectShortId is invalid";
    }
    if (input.applicationOverrides !== undefined && !Array.isArray(input.applicationOverrides)) {
      return "applicationOverrides must be an array";
    }
    return undefined;
  };

  // QA.tech's reference, field projectShortId of every chat POST (Start Chat Conversation, Start Change Review
  // Chat, Send Chat Message): "Required for organization-scoped API keys; project-scoped keys may only pass
  // their own project's short ID." (https://docs.qa.tech/api-reference/chat/send-chat-message). Whether GET
  // needs it is not documented, so GET does not.
  const projectRefusal = (body: Record<string, unknown>): Reply | undefined => {
    const named = body.projectShortId;
    if (keyScope === "organization" && named === undefined) {
      return error(400, "projectShortId is required for organization-scoped API keys");
    }
    // The reference gives no status for another project. 403, not 400: the body is well-formed and the refusal
    // is about what the key may do, the kind the documented 403 makes (invalid token, suspended organisation).
    // The client treats 400 and 403 alike (permanent), so the choice changes no outcome.
    if (keyScope === "project" && named !== undefined && named !== defaultProject) {
      return error(403, `This API key belongs to project ${defaultProject} and may not use ${String(named)}`);
    }
    return undefined;
  };

  // Validates at once but returns the state change as a closure, so an afterCommit fault can still run it.
  const route = (method: string, path: string, query: URLSearchParams, body: unknown): (() => Reply) => {
    const runsRoute = runs.route(method, path, query, body, {
      readable: (options.runsAccess ?? "read") === "read",
      ownProject: keyScope === "project" ? defaultProject : undefined,
      projectRefusal,
    });
    if (runsRoute) return runsRoute;
    const input = (body ?? {}) as Record<string, unknown>;
    const knownPost = method === "POST" && (path === "/v1/chat" || path.startsWith("/v1/chat/"));
    const invalid = knownPost ? invalidBody(body) : undefined;
    if (invalid) return () => error(400, invalid);
    const refused = knownPost ? projectRefusal(input) : undefined;
    if (refused) return () => refused;

    if (method === "POST" && path === "/v1/chat/change-review") {
      const overrides = input.applicationOverrides;
      if (!Array.isArray(overrides) || overrides.length === 0) {
        return () => error(400, "applicationOverrides must be a non-empty array");
      }
      let summary: string;
      if (input.mode === "pr") {
        if (typeof input.prUrl !== "string" || !["github", "gitlab"].includes(String(input.vcsProviderId))) {
          return () => error(400, "prUrl and vcsProviderId (github|gitlab) are required in pr mode");
        }
        summary = `Review ${input.prUrl}`;
      } else if (input.mode === "rawChanges") {
        const changes = input.changes as { changeDescription?: unknown; diff?: unknown } | undefined;
        if (typeof changes?.changeDescription !== "string" || typeof changes.diff !== "string") {
          return () =>
            error(400, "changes.changeDescription and changes.diff are required in rawChanges mode");
        }
        summary = `Review changes: ${changes.changeDescription}`;
      } else {
        return () => error(400, 'mode must be "pr" or "rawChanges"');
      }
      const context = typeof input.context === "string" && input.context ? `\n\n${input.context}` : "";
      return () => create(input, summary + context);
    }

    if (method === "POST" && path === "/v1/chat") {
      if (typeof input.message !== "string" || input.message.length === 0) {
        return () => error(400, "message must be a non-empty string");
      }
      const message = input.message;
      return () => create(input, message);
    }

    const id = /^\/v1\/chat\/(chat_[^/]+)$/.exec(path)?.[1];
    const conversation = id ? conversations.get(id) : undefined;
    if (id && !conversation) return () => error(404, "Conversation not found");
    if (!conversation) return () => error(404, `Not found: ${method} ${path}`);

    if (method === "POST") {
      if (typeof input.message !== "string" || input.message.length === 0) {
        return () => error(400, "message must be a non-empty string");
      }
      const message = input.message;
      return () => {
        sendUserMessage(conversation, message);
        return { status: 202, body: view(conversation, 0) };
      };
    }
    if (method === "GET") {
      const limit = Number(query.get("limit") ?? 20);
      if (!Number.isInteger(limit) || limit < 1) return () => error(400, "limit must be a positive integer");
      return () => {
        if (conversation.pending) advance(conversation.pending, conversation);
        return { status: 200, body: read(conversation, limit) };
      };
    }
    return () => error(404, `Not found: ${method} ${path}`);
  };

  const inFlight = new Map<string, number>();
  const maxInFlight = new Map<string, number>();
  const count = (key: string, delta: number) => {
    const n = (inFlight.get(key) ?? 0) + delta;
    inFlight.set(key, n);
    maxInFlight.set(key, Math.max(maxInFlight.get(key) ?? 0, n));
  };
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const kinds = ["*", req.method ?? "GET"];
    for (const k of kinds) count(k, 1);
    res.once("close", () => {
      for (const k of kinds) count(k, -1);
    });
    if (options.latencyMs) await new Promise((resolve) => setTimeout(resolve, options.latencyMs));
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const body = parseJson(await readBody(req));
    requests.push({
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { ...req.headers },
      body,
    });
    const fault = faults.take({ method, path: url.pathname });
    const commit =
      req.headers.authorization === `Bearer ${apiKey}`
        ? route(method, url.pathname, url.searchParams, body)
        : () => error(401, "Invalid API key");
    answer(res, fault, commit, (status) => ({ message: `Injected fault: HTTP ${status}` }));
  };

  const server = await startServer(handle);
  return {
    url: server.url,
    requests,
    maxInFlight: (method = "*") => maxInFlight.get(method) ?? 0,
    conversations: () =>
      [...conversations.values()].map((conversation) => ({
        shortId: conversation.shortId,
        url: conversation.url,
        messages: conversation.messages
          .slice()
          .reverse()
          .map((message) => ({ ...message })),
        body: conversation.body,
      })),
    addRun: (plan) => runs.add(plan),
    runs: () => runs.snapshot(),
    failNext: (rule) => faults.add(rule),
    close: server.close,
  };
}
