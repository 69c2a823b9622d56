import { createHash } from "node:crypto";
import { PayloadError } from "../platform/errors";
import {
  capText,
  DESCRIPTION_MAX_BYTES,
  FOLLOW_UP_MAX_BYTES,
  jsonBytes,
  KEY_MAX_BYTES,
  sanitizeText,
  TITLE_MAX_BYTES,
  URL_MAX_BYTES,
} from "./limits";

/** The issue trackers qa-ticket connects to QA.tech. */
export type TrackerName = "linear" | "jira" | "linear-agent";

/** The one domain type that travels through the workflow: a ticket, whatever tracker it came from. */
export interface Ticket {
  tracker: TrackerName;
  /** The tracker's own id (Linear issue UUID, Jira issue id): what comments are posted against. */
  id: string;
  /** The human key (`ENG-42`, `PROJ-123`). */
  key: string;
  title: string;
  /** Link to the ticket for people (never used as an API host). */
  url: string;
  /** Markdown or plain text; empty when the ticket has none. */
  description: string;
  /**
   * Linear: the team, whose labels (with the workspace's) are the only ones it can carry. Absent
   * for Jira, and in executions started before it was carried: the labels step then reads it back.
   */
  teamId?: string;
  /**
   * The names of the labels the ticket carries, as its tracker's payload states them (at most LABELS_MAX,
   * odd ones dropped): what routing matches on (domain/route.ts), never the ticket's text. Absent where the
   * payload states none (an agent session, a comment): the start reads them back when a route needs them.
   */
  labels?: string[];
  /**
   * Linear agent (tracker "linear-agent"): the agent session the run reports to. Absent in a label run,
   * whose acknowledgement opens the session (and whose later steps find it as the thread's root).
   */
  sessionId?: string;
}

/** The most labels a ticket carries into the workflow, and the longest label name kept (JSON bytes). */
export const LABELS_MAX = 50;
export const LABEL_MAX_BYTES = 256;

/** A ticket's label names, bounded: strings only, sanitized and not too long (else dropped), at most LABELS_MAX. */
export function boundedLabels(labels: readonly unknown[]): string[] {
  return labels
    .filter(
      (label): label is string =>
        typeof label === "string" &&
        label.trim() !== "" &&
        jsonBytes(label) <= LABEL_MAX_BYTES &&
        sanitizeText(label) === label,
    )
    .slice(0, LABELS_MAX);
}

/** A comment someone wrote on a ticket that may be addressed to the integration (a follow-up or a command). */
export interface FollowUp {
  /** The tracker's id of that comment. */
  commentId: string;
  /** Who wrote it (Linear user id, Jira account id), to ignore the integration's own comments. */
  authorId?: string;
  /** Linear: the thread's root comment. Jira has no threads. */
  parentId?: string;
  /** The text, without the `@qa` prefix. */
  text: string;
}

/** The input of one workflow execution. Deterministic for a given change, so a redelivery maps to it exactly. */
export interface WorkflowInput {
  /** The execution name; also the idempotency key of the comments the run posts. */
  runId: string;
  ticket: Ticket;
  /** Set when the run answers a comment in the thread instead of a label. */
  followUp?: FollowUp;
}

/** A change a webhook asked us to act on: the input of the run it starts (its runId derived from the change). */
export interface Trigger extends WorkflowInput {
  /** Linear agent: a stop request for the session's runs; nothing is started. */
  stop?: boolean;
}

const DESCRIPTION_CUT = `\n\n[description cut at ${DESCRIPTION_MAX_BYTES / 1024} KiB]`;

/**
 * A ticket built from untrusted fields, each sanitized and cut to its budget in JSON bytes (see limits.ts),
 * so no ticket can make an execution input or a state too large for Step Functions.
 */
export function boundedTicket(ticket: Ticket): Ticket {
  // An id or key is what we write to: cut, it would name another ticket (or none), so it is refused.
  for (const field of ["id", "key"] as const) {
    if (!isPlausibleId(ticket[field]))
      throw new PayloadError(`The ticket's ${field} is not a plausible ${ticket.tracker} ${field}`);
  }
  const bounded: Ticket = {
    tracker: ticket.tracker,
    id: ticket.id,
    key: ticket.key,
    title: capText(ticket.title, TITLE_MAX_BYTES, " [cut]"),
    url: capText(ticket.url, URL_MAX_BYTES),
    description: capText(ticket.description, DESCRIPTION_MAX_BYTES, DESCRIPTION_CUT),
  };
  // Only a hint for the labels: an odd one is dropped (the team is then read back), never cut.
  if (ticket.teamId !== undefined && isPlausibleId(ticket.teamId)) bounded.teamId = ticket.teamId;
  // What routing reads: each label kept whole or dropped, never cut (a cut name would match another route).
  if (ticket.labels !== undefined) bounded.labels = boundedLabels(ticket.labels);
  // Where the agent's run writes: refused like an id, never cut.
  if (ticket.sessionId !== undefined) {
    if (!isPlausibleId(ticket.sessionId)) throw new PayloadError("The agent session id is not plausible");
    bounded.sessionId = ticket.sessionId;
  }
  return bounded;
}

function isPlausibleId(value: string): boolean {
  return jsonBytes(value) <= KEY_MAX_BYTES && sanitizeText(value) === value;
}

/** A follow-up's text, sanitized and cut to its budget. */
export function boundedFollowUpText(text: string): string {
  return capText(text, FOLLOW_UP_MAX_BYTES, "\n\n[comment cut]");
}

// Step Functions allows more, but only these keep CloudWatch logging of the execution possible, and they
// read back unambiguously from the comment markers that carry the run id.
const NAME_FORBIDDEN = /[^A-Za-z0-9_-]+/g;

/**
 * Builds a Step Functions execution name (1-80 letters, digits, `-` and `_`) for one change: the tracker,
 * the ticket's key, and a digest of `change`, which names the change the same way on every delivery of it.
 */
export function executionName(tracker: TrackerName, key: string, change: string): string {
  const safeKey = key.replace(NAME_FORBIDDEN, "_").slice(0, 40);
  const digest = createHash("sha256").update(change).digest("hex").slice(0, 16);
  return `${tracker}-${safeKey}-${digest}`.slice(0, 80);
}
