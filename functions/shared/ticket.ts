/** The issue trackers qa-ticket connects to QA.tech. */
export type TrackerName = "linear" | "jira";

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

/** A change a webhook asked us to act on. */
export interface Trigger {
  /** Deterministic execution name, derived from the change itself. */
  runId: string;
  ticket: Ticket;
  followUp?: FollowUp;
}

/** Longest description sent on to QA.tech; keeps the execution input far below Step Functions' 256 KB. */
export const MAX_DESCRIPTION_CHARS = 20_000;

/** Cuts a description to MAX_DESCRIPTION_CHARS, saying so. */
export function capDescription(text: string): string {
  if (text.length <= MAX_DESCRIPTION_CHARS) return text;
  return `${text.slice(0, MAX_DESCRIPTION_CHARS)}\n\n[description cut at ${MAX_DESCRIPTION_CHARS} characters]`;
}

const NAME_FORBIDDEN = /[\s<>{}[\]?*"#%\\^|~`$&,;:/]+/g;

/** Builds a Step Functions execution name (1-80 chars, no whitespace or reserved characters). */
export function executionName(tracker: TrackerName, key: string, digest: string): string {
  const safeKey = key.replace(NAME_FORBIDDEN, "_").slice(0, 40);
  return `${tracker}-${safeKey}-${digest}`.slice(0, 80);
}
