import { createHash } from "node:crypto";
import { jsonBytes, KEY_MAX_BYTES, URL_MAX_BYTES } from "../domain/limits";
import { PermanentError } from "../platform/errors";
import { requestJson } from "../platform/http";
import { emitMetric, METRIC } from "../platform/metrics";
import { registerSecret } from "../platform/redact";
import type { PullRequest } from "./pull-request";

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
  /** How a Retry-After is waited out (see requestJson); tests pass one that records the delay. */
  sleep?: (ms: number) => Promise<void>;
}

/** Where a conversation is opened when a route chose it: each given field replaces the client's own. */
export interface ConversationTarget {
  projectShortId?: string;
  applicationOverrides?: ApplicationOverride[];
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
  /**
   * The project the conversation was opened in when a route chose one other than the top-level project:
   * follow-ups, reruns and the marker carry it. Absent: the top-level `qatech.projectShortId`.
   */
  projectShortId?: string;
  /** When QA.tech created our message (its clock, ISO 8601), once a read showed it: later reads may not reach it. */
  seenAt?: string;
}

/** Digest of a message text, the way ConversationRef.sentDigest stores it. */
export function messageDigest(text: string): string {
  return createHash("sha256").update(text.trim()).digest("hex").slice(0, 16);
}

/** QA.tech's answers that mean it will not work for us at all until someone acts: key, credits, organisation. */
const REFUSALS = new Set([401, 402, 403]);

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
  private async request<T>(path: string, json?: unknown, maxInlineRetryAfterSeconds?: number) {
    const limits = [this.options.maxInlineRetryAfterSeconds, maxInlineRetryAfterSeconds].filter(
      (n): n is number => n !== undefined,
    );
    try {
      return await requestJson<T>(`${this.base}${path}`, {
        peer: "QA.tech",
        json,
        timeoutMs: this.options.timeoutMs,
        maxInlineRetryAfterSeconds: limits.length ? Math.min(...limits) : undefined,
        sleep: this.options.sleep,
        headers: { authorization: `Bearer ${this.options.apiKey}` },
      });
    } catch (error) {
      // A refused key, exhausted credits or a suspended organisation stops every ticket: counted for the alarm.
      if (error instanceof PermanentError && REFUSALS.has(error.status ?? 0))
        emitMetric(METRIC.qatechRefused, 1, { metadata: { status: String(error.status) } });
      throw error;
    }
  }

  /**
   * The project every POST names: QA.tech requires it of organisation-scoped keys on each call that takes it.
   * GET is not documented to take it, so it is not sent there.
   */
  private withProject(
    body: Record<string, unknown>,
    projectShortId = this.options.projectShortId,
  ): Record<string, unknown> {
    return projectShortId ? { ...body, projectShortId } : body;
  }

  /**
   * Opens a conversation with a first message (POST /v1/chat); `target` (a route's project and applications)
   * takes the place of the client's own for this call.
   */
  async startConversation(message: string, target: ConversationTarget = {}): Promise<ConversationRef> {
    const body = this.withProject({ message }, target.projectShortId);
    const applicationOverrides = target.applicationOverrides ?? this.options.applicationOverrides;
    if (applicationOverrides?.length) body.applicationOverrides = applicationOverrides;
    const res = await this.request<unknown>("/v1/chat", body);
    const conversation = checkConversation(res.body, "POST /v1/chat");
    return {
      id: conversation.shortId,
      url: conversation.url,
      sentDigest: messageDigest(message),
      opened: true,
    };
  }

  /**
   * Sends a follow-up message to a conversation (POST /v1/chat/{id}), naming `projectShortId` (the project
   * the conversation was opened in) where given, else the client's.
   */
  async sendMessage(id: string, message: string, projectShortId?: string): Promise<ConversationRef> {
    const sentAt = new Date().toISOString();
    const res = await this.request<unknown>(
      `/v1/chat/${encodeURIComponent(id)}`,
      this.withProject({ message }, projectShortId),
    );
    const conversation = checkConversation(res.body, `POST /v1/chat/${id}`);
    return { id: conversation.shortId, url: conversation.url, sentDigest: messageDigest(message), sentAt };
  }

  /**
   * Starts a change review of a pull request (POST /v1/chat/change-review, PR mode) with the ticket as
   * context. QA.tech writes the first message itself: the conversation is new, so whatever it wrote is ours.
   */
  async startChangeReview(
    pr: PullRequest,
    context: string,
    target: ConversationTarget = {},
  ): Promise<ConversationRef> {
    const body = this.withProject(
      {
        mode: "pr",
        prUrl: pr.url,
        vcsProviderId: pr.provider,
        applicationOverrides: target.applicationOverrides ?? this.options.applicationOverrides ?? [],
        context,
      },
      target.projectShortId,
    );
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
