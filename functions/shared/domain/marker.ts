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
  /**
   * The QA.tech project the conversation was opened in, when a route chose it (with a conversation only).
   * Written `chat_x@proj_y`; a marker without it (every marker before routes) means the top-level project.
   */
  projectShortId?: string;
}

const KINDS = new Set<CommentKind>(["ack", "reply", "failure", "answer", "progress"]);
const DIGEST_HEX = 32;
// runId/kind, conversation (or "-") with its project if any, digest: at the very end of the comment's last
// line. The conversation is the shortest that leaves a well-formed `@proj...` (or nothing) before the digest.
const TRAILER =
  /qa-ticket ([A-Za-z0-9_-]{1,80})\/([a-z]+) (?:(chat[^\s`]{1,200}?)(?:@(proj[A-Za-z0-9_-]{1,100}))?|-) ([0-9a-f]{32})`?$/;
/** A project the marker can carry: what the TRAILER reads back, and within its bounds. */
export const MARKER_PROJECT = /^proj[A-Za-z0-9_-]{1,100}$/;

/**
 * The marker's digest: an HMAC, keyed with the deployment's own secret, of the ticket it is on and of
 * what it says. Text that merely copies a marker cannot move it to another ticket, and text that invents
 * one cannot name a conversation, without the key.
 */
function digest(key: string, ticket: Pick<Ticket, "tracker" | "id">, marker: Marker): string {
  return (
    createHmac("sha256", key)
      .update(["qa-ticket marker v1", ticket.tracker, ticket.id, marker.runId, marker.kind].join("\n"))
      .update(`\n${marker.conversationId ?? "-"}`)
      // Only markers with a project sign one, on its own line: old markers keep their digests, and no
      // conversation id (which never holds a newline) can pass for a conversation with a project.
      .update(marker.projectShortId ? `\n@${marker.projectShortId}` : "")
      .digest("hex")
      .slice(0, DIGEST_HEX)
  );
}

/**
 * The marker as text: `qa-ticket <runId>/<kind> <conversation[@project] or -> <digest>`. A project goes
 * with a conversation only, and must be one the marker reads back (else it could not travel: an error).
 */
export function markerText(key: string, ticket: Pick<Ticket, "tracker" | "id">, marker: Marker): string {
  const { conversationId, projectShortId } = marker;
  if (projectShortId !== undefined && (!conversationId || !MARKER_PROJECT.test(projectShortId)))
    throw new Error(`The marker cannot carry the project ${JSON.stringify(projectShortId)}`);
  const signed: Marker = projectShortId ? marker : { runId: marker.runId, kind: marker.kind, conversationId };
  const slot = conversationId ? `${conversationId}${projectShortId ? `@${projectShortId}` : ""}` : "-";
  return `qa-ticket ${marker.runId}/${marker.kind} ${slot} ${digest(key, ticket, signed)}`;
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
  const [, runId, kind, conversationId, projectShortId, found] = match;
  const marker: Marker = { runId, kind: kind as CommentKind };
  if (conversationId !== undefined) marker.conversationId = conversationId;
  if (projectShortId !== undefined) marker.projectShortId = projectShortId;
  if (signedBy(key, ticket, marker, found)) return marker;
  // A conversation id holding `@proj...` (QA.tech's ids never seen so, but allowed) in a marker without a project.
  if (projectShortId === undefined) return null;
  const whole: Marker = { runId, kind: marker.kind, conversationId: `${conversationId}@${projectShortId}` };
  return whole.conversationId && whole.conversationId.length <= 200 && signedBy(key, ticket, whole, found)
    ? whole
    : null;
}

function signedBy(key: string, ticket: Pick<Ticket, "tracker" | "id">, marker: Marker, found: string) {
  const expected = Buffer.from(digest(key, ticket, marker));
  const given = Buffer.from(found);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** A thread's conversation as a marker names it: its id, and its project only when the marker carries one. */
export function conversationWithProject(
  id: string,
  projectShortId: string | undefined,
): { id: string; projectShortId?: string } {
  return projectShortId ? { id, projectShortId } : { id };
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
