import { createHash } from "node:crypto";
import { jsonBytes, KEY_MAX_BYTES, URL_MAX_BYTES } from "../domain/limits";
import { PermanentError } from "../platform/errors";
import { requestJson } from "../platform/http";
import { registerSecret } from "../platform/redact";

/** One message of a QA.tech conversation (documented newest first in a read; we go by createdAt). */
export interface ChatMessage {
  id: string;
  role: "user" | "assistant";
  createdAt: string;
  text: string;
  status: "INITIATED" | "PARTIAL" | "COMPLETED" | "FAILED" | "CANCELLED";
  isStreaming: boolean;
}

/** A QA.tech conversation as the Chat API returns it. */
export interface Conversation {
  shortId: string;
  url: string;
  messages: ChatMessage[];
}

/** An application override as QA.tech takes it (`applicationShortId` plus one kind of environment). */
export interface ApplicationOverride {
  applicationShortId: string;
  devicePresetShortId?: string;
  environment: { url: string; name?: string } | { shortId: string } | { applicationBuildShortId: string };
}

export interface QaTechClientOptions {
  apiUrl: string;
  apiKey: string;
  projectShortId?: string;
  applicationOverrides?: ApplicationOverride[];
  timeoutMs?: number;
  /** A Retry-After up to this many seconds is waited out inside the call; default 10 (see requestJson). */
  maxInlineRetryAfterSeconds?: number;
}

/** A pull request a ticket links to, as QA.tech's change review takes it. */
export interface PullRequest {
  url: string;
  provider: "github" | "gitlab";
}

const LINK = /https:\/\/[^\s<>"'`()[\]{}|\\^]+/gi;
const GITHUB_PULL = /^\/[\w.-]+\/[\w.-]+\/pull\/\d+(?=\/|$)/;
const GITLAB_MERGE_REQUEST = /^(?:\/[\w.-]+){2,}\/-\/merge_requests\/\d+(?=\/|$)/;

/**
 * The first GitHub pull request or GitLab merge request URL in a text, if any: on github.com, gitlab.com or
 * one of `gitlabHosts` (self-managed GitLab). QA.tech fetches what it is given, and the ticket's text is
 * anyone's, so the host must be one of those exactly, with no userinfo or port to disguise another.
 */
export function findPullRequest(text: string, gitlabHosts: readonly string[] = []): PullRequest | null {
  for (const [candidate] of text.matchAll(LINK)) {
    const link = candidate.replace(/[.,;:!?*_~]+$/, "");
    const authority = link.slice("https://".length).split(/[/?#]/)[0];
    if (authority.includes("@") || authority.includes(":") || !URL.canParse(link)) continue;
    const { hostname: host, pathname } = new URL(link);
    const provider =
      host === "github.com"
        ? "github"
        : host === "gitlab.com" || gitlabHosts.some((h) => h.toLowerCase() === host)
          ? "gitlab"
          : undefined;
    const path = provider && (provider === "github" ? GITHUB_PULL : GITLAB_MERGE_REQUEST).exec(pathname)?.[0];
    if (provider && path) return { url: `https://${host}${path}`, provider };
  }
  return null;
}

const CONVERSATION_LINK = /https?:\/\/[^\s)\]>"]+\/chat\/(chat(?:-[^\s)\]>"/_]+_[^\s)\]>"/]+|_[^\s)\]>"/]+))/;

/** The QA.tech conversation a text links to (our acknowledgement does): how a thread finds its conversation. */
export function findConversationLink(text: string): { id: string; url: string } | null {
  const match = CONVERSATION_LINK.exec(text);
  return match ? { url: match[0], id: match[1] } : null;
}

/**
 * What we remember of a conversation we opened or wrote to: enough to tell the reply to our message from
 * older exchanges, and to link to it. It travels in the workflow's state, so it stays small and plain.
 */
export interface ConversationRef {
  id: string;
  url: string;
  /** Short digest of the message we sent, to find it among the conversation's messages. */
  sentDigest: string;
  /**
   * We opened the conversation (a start or a change review): nothing came before our message, so every
   * assistant message in it answers ours, whatever text QA.tech stored for it (a change review's first
   * message is QA.tech's own).
   */
  opened?: boolean;
  /** When we sent our message (our clock, ISO 8601): an older message with the same text is not ours. */
  sentAt?: string;
  /** When QA.tech created our message (its clock, ISO 8601), once a read showed it: later reads may not reach it. */
  seenAt?: string;
}

/** Digest of a message text, the way ConversationRef.sentDigest stores it. */
export function messageDigest(text: string): string {
  return createHash("sha256").update(text.trim()).digest("hex").slice(0, 16);
}

const CONVERSATION_ID = /^chat(-.+_.+|_.+)$/;

/** The link every comment carries: an http(s) URL of bounded size, never another scheme. */
function isConversationUrl(url: unknown): url is string {
  if (typeof url !== "string" || jsonBytes(url) > URL_MAX_BYTES) return false;
  try {
    return ["https:", "http:"].includes(new URL(url).protocol);
  } catch {
    return false;
  }
}

function checkConversation(body: unknown, what: string): Conversation {
  const c = body as Partial<Conversation> | undefined;
  if (
    !c ||
    typeof c.shortId !== "string" ||
    !CONVERSATION_ID.test(c.shortId) ||
    jsonBytes(c.shortId) > KEY_MAX_BYTES ||
    !isConversationUrl(c.url)
  ) {
    // A 2xx without a conversation is not something a retry fixes reliably; say what arrived.
    throw new PermanentError(`QA.tech answered ${what} without a conversation id and url`);
  }
  return { shortId: c.shortId, url: c.url, messages: Array.isArray(c.messages) ? c.messages : [] };
}

/** A small client for the QA.tech Chat API (asynchronous: sends answer 202, replies are polled). */
export class QaTechClient {
  private readonly base: string;

  constructor(private readonly options: QaTechClientOptions) {
    this.base = options.apiUrl.replace(/\/+$/, "");
    registerSecret(options.apiKey);
  }

  /** `maxInlineRetryAfterSeconds` lowers the client's own limit for this request. */
  private request<T>(path: string, json?: unknown, maxInlineRetryAfterSeconds?: number) {
    const limits = [this.options.maxInlineRetryAfterSeconds, maxInlineRetryAfterSeconds].filter(
      (n): n is number => n !== undefined,
    );
    return requestJson<T>(`${this.base}${path}`, {
      peer: "QA.tech",
      json,
      timeoutMs: this.options.timeoutMs,
      maxInlineRetryAfterSeconds: limits.length ? Math.min(...limits) : undefined,
      headers: { authorization: `Bearer ${this.options.apiKey}` },
    });
  }

  /**
   * The project every POST names: QA.tech requires it of organisation-scoped keys on each call that takes it.
   * GET is not documented to take it, so it is not sent there.
   */
  private withProject(body: Record<string, unknown>): Record<string, unknown> {
    return this.options.projectShortId ? { ...body, projectShortId: this.options.projectShortId } : body;
  }

  /** Opens a conversation with a first message (POST /v1/chat). */
  async startConversation(message: string): Promise<ConversationRef> {
    const body = this.withProject({ message });
    if (this.options.applicationOverrides?.length)
      body.applicationOverrides = this.options.applicationOverrides;
    const res = await this.request<unknown>("/v1/chat", body);
    const conversation = checkConversation(res.body, "POST /v1/chat");
    return {
      id: conversation.shortId,
      url: conversation.url,
      sentDigest: messageDigest(message),
      opened: true,
    };
  }

  /** Sends a follow-up message to a conversation (POST /v1/chat/{id}). */
  async sendMessage(id: string, message: string): Promise<ConversationRef> {
    const sentAt = new Date().toISOString();
    const res = await this.request<unknown>(
      `/v1/chat/${encodeURIComponent(id)}`,
      this.withProject({ message }),
    );
    const conversation = checkConversation(res.body, `POST /v1/chat/${id}`);
    return { id: conversation.shortId, url: conversation.url, sentDigest: messageDigest(message), sentAt };
  }

  /**
   * Starts a change review of a pull request (POST /v1/chat/change-review, PR mode) with the ticket as
   * context. QA.tech writes the first message itself: the conversation is new, so whatever it wrote is ours.
   */
  async startChangeReview(pr: PullRequest, context: string): Promise<ConversationRef> {
    const body = this.withProject({
      mode: "pr",
      prUrl: pr.url,
      vcsProviderId: pr.provider,
      applicationOverrides: this.options.applicationOverrides ?? [],
      context,
    });
    const res = await this.request<unknown>("/v1/chat/change-review", body);
    const conversation = checkConversation(res.body, "POST /v1/chat/change-review");
    return {
      id: conversation.shortId,
      url: conversation.url,
      sentDigest: messageDigest(context),
      opened: true,
    };
  }

  /**
   * Reads a conversation with its newest `limit` messages (GET /v1/chat/{id}); `maxInlineRetryAfterSeconds`
   * lowers the client's limit for this read (see RequestOptions).
   */
  async getConversation(
    id: string,
    options: { limit?: number; maxInlineRetryAfterSeconds?: number } = {},
  ): Promise<Conversation> {
    const { limit = 20, maxInlineRetryAfterSeconds } = options;
    const res = await this.request<unknown>(
      `/v1/chat/${encodeURIComponent(id)}?limit=${limit}`,
      undefined,
      maxInlineRetryAfterSeconds,
    );
    return checkConversation(res.body, `GET /v1/chat/${id}`);
  }
}

const FINAL_STATUSES = new Set(["COMPLETED", "FAILED", "CANCELLED"]);

/** The assistant's answer to our message, once it is final. */
export interface Reply {
  status: "COMPLETED" | "FAILED" | "CANCELLED";
  /** Markdown; every assistant message after ours, oldest first. */
  text: string;
}

/**
 * How far behind ours QA.tech's clock may be. Both are servers kept in time, where even seconds of skew would
 * be a fault; a minute leaves room for that while still telling a question asked again from the one just sent.
 */
const CLOCK_SKEW_MS = 60_000;

function timeOf(iso: string | undefined): number {
  return Date.parse(iso ?? "");
}

/**
 * The messages oldest first by createdAt. QA.tech documents newest first, but one of its own examples lists
 * them oldest first, so the array's order is not relied on. At equal times a question comes before its answer.
 * A message whose time cannot be read cannot be placed before or after ours, so it is left out.
 */
function chronological(messages: ChatMessage[]): ChatMessage[] {
  return messages
    .map((message) => ({ message, at: timeOf(message.createdAt) }))
    .filter(({ at }) => !Number.isNaN(at))
    .sort(
      (a, b) => a.at - b.at || (a.message.role === "user" ? -1 : 0) - (b.message.role === "user" ? -1 : 0),
    )
    .map(({ message }) => message);
}

/**
 * Where our follow-up is among `messages` (oldest first), or -1 while QA.tech does not show it: it stores
 * messages asynchronously after its 202. Found by digest only, as the newest match, and never one created
 * well before we sent ours (the same question asked earlier).
 */
function ourFollowUp(messages: ChatMessage[], ref: ConversationRef): number {
  const notBefore = ref.sentAt ? timeOf(ref.sentAt) - CLOCK_SKEW_MS : Number.NEGATIVE_INFINITY;
  return messages.findLastIndex(
    (m) =>
      m.role === "user" && messageDigest(m.text ?? "") === ref.sentDigest && timeOf(m.createdAt) >= notBefore,
  );
}

/** The reference with the time of our follow-up, once `messages` show it (see ConversationRef.seenAt). */
export function noteOurMessage(messages: ChatMessage[], ref: ConversationRef): ConversationRef {
  if (ref.opened || ref.seenAt) return ref;
  const sorted = chronological(messages);
  const ours = sorted[ourFollowUp(sorted, ref)];
  // QA.tech's own text, so only a time rebuilt from it goes into the state.
  return ours ? { ...ref, seenAt: new Date(timeOf(ours.createdAt)).toISOString() } : ref;
}

/** The assistant messages that answer ours (oldest first), or null while our message is not visible. */
function answersToOurs(messages: ChatMessage[], ref: ConversationRef): ChatMessage[] | null {
  const sorted = chronological(messages);
  const assistant = (m: ChatMessage) => m.role === "assistant";
  if (ref.opened) return sorted.filter(assistant);
  const ours = ourFollowUp(sorted, ref);
  if (ours !== -1) return sorted.slice(ours + 1).filter(assistant);
  // Seen before but not in this read: newer messages have pushed ours out of the read's window.
  if (ref.seenAt) return sorted.filter((m) => assistant(m) && timeOf(m.createdAt) > timeOf(ref.seenAt));
  return null;
}

/**
 * Finds the reply to our message: the assistant messages created after it, never an older exchange's. Pending
 * (null) while our follow-up does not show (in a conversation we opened there is no older exchange), and until
 * the newest answer is final and no longer streaming. Goes by createdAt, whatever order `messages` come in.
 */
export function findReply(messages: ChatMessage[], ref: ConversationRef): Reply | null {
  const answers = answersToOurs(messages, ref);
  const newest = answers?.at(-1);
  if (!answers || !newest || !FINAL_STATUSES.has(newest.status) || newest.isStreaming) return null;
  const text = answers
    .map((m) => (m.text ?? "").trim())
    .filter(Boolean)
    .join("\n\n");
  return { status: newest.status as Reply["status"], text };
}

/** The conversation's latest assistant message by createdAt, whatever order `messages` come in. */
export function newestAssistantMessage(messages: ChatMessage[]): ChatMessage | undefined {
  return chronological(messages)
    .filter((m) => m.role === "assistant")
    .at(-1);
}
