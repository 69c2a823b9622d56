import type { VerdictOutcome } from "./verdict";

/**
 * Optional ticket moves: where a ticket goes once its verdict is known (settings `linear.moves` and
 * `jira.moves`, off by default). Each name is a Linear workflow state of the team, or a Jira
 * transition (or the status it leads to); the tracker looks it up, never guesses an id (Tracker.moveTicket).
 */
export interface TicketMoves {
  passed?: string;
  failed?: string;
  unverified?: string;
}

/** Where a ticket with this outcome is to be moved: the configured name, or undefined (no move). */
export function moveFor(outcome: VerdictOutcome, moves?: TicketMoves): string | undefined {
  const to = moves?.[outcome]?.trim();
  return to ? to : undefined;
}
