import type { TicketComment } from "../domain/comment";
import type { MoveResult } from "../domain/moves";
import type { Placement } from "../domain/placement";
import type { FollowUp, Ticket } from "../domain/ticket";

export type { MoveResult } from "../domain/moves";

/** How a comment is posted: once per run and kind, ending with its marker, where `placement` says. */
export interface PostOptions {
  runId: string;
  /** The comment's marker line (domain/marker.ts): written last, the only part of it that is read back. */
  trailer: string;
  placement?: Placement;
  /** The comment that started the run (a follow-up; in an agent session, its prompt activity). */
  followUpId?: string;
  /** Which of the run's progress updates this is (1, 2, ...): each is a new activity. */
  sequence?: number;
}

/** A follow-up's thread, as read back from the tracker. */
export interface FoundThread {
  /** The comment was written by the integration itself: never act on it. */
  own: boolean;
  /** Our comment whose marker names the conversation, or null when this is not (or not yet) our thread. */
  root: { rootId: string; conversation: { id: string; projectShortId?: string } } | null;
  /**
   * The ticket carries the trigger label now (read back). Only Jira reads it, and only where `root` is null:
   * there `retry` is what starts a conversation, so it needs a reason besides the comment's own text.
   */
  labelled?: boolean;
}

/**
 * What the workflow needs of an issue tracker. Each tracker implements it in its own folder
 * (trackers/<name>/index.ts) and is listed once in trackers/index.ts; the handlers post, label and read
 * back only through it. Some still branch on the tracker's name for what differs beside it: the wording
 * (domain/comment.ts, domain/follow-up.ts), the agent's progress (poll-conversation) and which settings
 * block a comment uses (post-comment).
 */
export interface Tracker {
  /** Posts a run's comment on its ticket, at most once per run and kind. */
  postComment(
    ticket: Ticket,
    comment: TicketComment,
    options: PostOptions,
  ): Promise<{ id: string; duplicate: boolean }>;
  /** Adds and removes labels by name; returns the names that do not exist there. */
  setLabels(ticket: Ticket, add: string[], remove: string[]): Promise<{ skipped: string[] }>;
  /** Reads a follow-up's thread back: is the comment ours, and which conversation does the thread hold? */
  findThread(ticket: Ticket, followUp: FollowUp): Promise<FoundThread>;
  /** The ticket's text read back, for a conversation started from a comment (`retry`). */
  refreshTicket(ticket: Ticket): Promise<Ticket>;
  /** Links the ticket carries outside its text (Linear's attachments), as untrusted as the text. */
  linkedUrls(ticket: Ticket): Promise<string[]>;
  /**
   * Moves the ticket to `to`, a name (Linear: a workflow state of the team; Jira: a transition, or the
   * status it leads to), looked up on the ticket, never guessed. A transient failure is thrown
   * (TransientError, retried by the workflow); anything else is `moved: false` with the reason.
   */
  moveTicket(ticket: Ticket, to: string): Promise<MoveResult>;
}
