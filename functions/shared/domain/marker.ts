import { createHmac, timingSafeEqual } from "node:crypto";
import { v4 as uuidv4 } from "uuid";
import type { Ticket } from "./ticket";

/** What a comment of the integration is: part of its idempotency key and of its marker. */
export type CommentKind = "ack" | "reply" | "failure" | "answer" | "progress";

/**
 * What the integration writes as the last line of each of its comments: which run and step wrote it and
 * which QA.tech conversation it belongs to. A thread's conversation is read back from this marker and from
 * nothing else, because the rest of our comments echoes untrusted text (the ticket's PR link, QA.tech's
 * reply, which a ticket can steer).
 */
export interface Marker {
  runId: string;
  kind: CommentKind;
  /** The conversation, when the run has one. */
  conversationId?: string;
}

const KINDS = new Set<CommentKind>(["ack", "reply", "failure", "answer", "progress"]);
const DIGEST_HEX = 32;
// runId/kind, conversation (or "-"), digest: at the very end of the comment's last line.
const TRAILER = /qa-ticket ([A-Za-z0-9_-]{1,80})\/([a-z]+) (chat[^\s`]{1,200}|-) ([0-9a-f]{32})`?$/;

/**
 * The marker's digest: an HMAC, keyed with the deployment's own secret, of the ticket it is on and of
 * what it says. Text that merely copies a marker cannot move it to another ticket, and text that invents
 * one cannot name a conversation, without the key.
 */
function digest(key: string, ticket: Pick<Ticket, "tracker" | "id">, marker: Marker): string {
  return createHmac("sha256", key)
    .update(["qa-ticket marker v1", ticket.tracker, ticket.id, marker.runId, marker.kind].join("\n"))
    .update(`\n${marker.conversationId ?? "-"}`)
    .digest("hex")
    .slice(0, DIGEST_HEX);
}

/** The marker as text: `qa-ticket <runId>/<kind> <conversation or -> <digest>`. */
export function markerText(key: string, ticket: Pick<Ticket, "tracker" | "id">, marker: Marker): string {
  return `qa-ticket ${marker.runId}/${marker.kind} ${marker.conversationId ?? "-"} ${digest(key, ticket, marker)}`;
}

/** Whether a comment's last line ends with exactly this trailer (the marker of one run's comment of one kind). */
export function endsWithTrailer(text: string, trailer: string): boolean {
  return lastLine(text).replace(/`$/, "").endsWith(trailer);
}

/** Whether a text ends the way our comments end (a cheap filter where the key is not at hand). */
export function endsWithMarker(text: string): boolean {
  return TRAILER.test(lastLine(text));
}

/**
 * Reads the marker a comment of ours ends with, when its digest proves we wrote it for this ticket; null
 * for anything else (no marker, a marker copied from another ticket, one made up).
 */
export function readMarker(key: string, ticket: Pick<Ticket, "tracker" | "id">, text: string): Marker | null {
  const match = TRAILER.exec(lastLine(text));
  if (!match || !KINDS.has(match[2] as CommentKind)) return null;
  const marker: Marker = { runId: match[1], kind: match[2] as CommentKind };
  if (match[3] !== "-") marker.conversationId = match[3];
  const expected = Buffer.from(digest(key, ticket, marker));
  const found = Buffer.from(match[4]);
  return expected.length === found.length && timingSafeEqual(expected, found) ? marker : null;
}

/**
 * The id of one of our comments or agent activities, chosen by us so a retried post is known by it: an HMAC
 * of `seed` (the run and what is posted) under a key derived from the deployment's marker key, as a v4 UUID,
 * the format Linear takes for client-chosen ids. The seed is public (webhook fields, a commenter's comment
 * id); without the key nobody can compute the id and claim it first.
 */
export function keyedUuid(key: string, seed: string): string {
  if (!key) throw new Error("keyedUuid needs the marker key: an id without it can be computed by anyone");
  const idKey = createHmac("sha256", key).update("qa-ticket id v1").digest();
  return uuidv4({ random: createHmac("sha256", idKey).update(seed).digest().subarray(0, 16) });
}

/** The last non-empty line, without the escapes a markdown round trip may add. */
function lastLine(text: string): string {
  const lines = text
    .replace(/\\([_*`-])/g, "$1")
    .trimEnd()
    .split("\n");
  return (lines.at(-1) ?? "").trim();
}
