import { type ResultLinks, resultLinks, type VerdictOutcome } from "../domain/verdict";
import type { ChatMessage, Conversation, ConversationRef } from "./client";
import { messageDigest } from "./client";

const FINAL_STATUSES = new Set(["COMPLETED", "FAILED", "CANCELLED"]);

/** The assistant's answer to our message, once it is final. */
export interface Reply {
  status: "COMPLETED" | "FAILED" | "CANCELLED";
  /** Markdown; every assistant message after ours, oldest first. */
  text: string;
  /** The result pages the whole reply links in the conversation's own project (read before any cut). */
  links?: ResultLinks;
  /** The reply's own verdict line, when it ends with one (read before any cut). */
  verdictLine?: VerdictOutcome;
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
  return { status: newest.status as Reply["status"], text: joined(answers) };
}

/** The text QA.tech has written so far in answer to our message, while it is not final (agent progress). */
export function partialReply(messages: ChatMessage[], ref: ConversationRef): string {
  return joined(answersToOurs(messages, ref) ?? []);
}

/** The messages' texts, trimmed, empty ones left out, as paragraphs. */
function joined(messages: ChatMessage[]): string {
  return messages
    .map((m) => (m.text ?? "").trim())
    .filter(Boolean)
    .join("\n\n");
}

/** The conversation's latest assistant message by createdAt, whatever order `messages` come in. */
export function newestAssistantMessage(messages: ChatMessage[]): ChatMessage | undefined {
  return chronological(messages)
    .filter((m) => m.role === "assistant")
    .at(-1);
}

/**
 * The result pages linked by the conversation's newest assistant message that links any (`rerun` and
 * `status` work on the ticket's latest runs, even after a question whose answer ran none). Only links on the
 * conversation's own host and project count (domain/verdict.ts), so the url must be the one QA.tech's API gave.
 */
export function latestResultLinks(conversation: Conversation): ResultLinks | undefined {
  const assistant = chronological(conversation.messages).filter((m) => m.role === "assistant");
  for (const message of assistant.reverse()) {
    const links = resultLinks(message.text ?? "", conversation.url);
    if (links.runs.length + links.tests.length > 0) return links;
  }
  return undefined;
}
