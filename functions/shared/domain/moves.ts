import { capText } from "./limits";
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

/**
 * What a move did: the ticket is in `to` now (it may have been there already), or it was not moved and
 * `reason` says why in a sentence for the ticket and the log. A tracker's transient failure is never a
 * result: it is thrown (TransientError) for the workflow to retry.
 */
export type MoveResult = { moved: true; to: string } | { moved: false; reason: string };

/** Most bytes of a reason (JSON-encoded): it quotes names the tracker gave, and travels in the workflow's state. */
export const MOVE_REASON_MAX_BYTES = 2 * 1024;

/** A move that did not happen, its reason sanitized and cut to MOVE_REASON_MAX_BYTES. */
export function notMoved(reason: string): MoveResult {
  return { moved: false, reason: capText(reason, MOVE_REASON_MAX_BYTES, " [cut]") };
}

/**
 * The candidate whose name is `wanted`: the exact name first, then the same name in any case (the first such,
 * in the tracker's order).
 */
export function byName<T>(
  candidates: T[],
  wanted: string,
  nameOf: (candidate: T) => string | undefined,
): T | undefined {
  const exact = candidates.find((candidate) => nameOf(candidate) === wanted);
  if (exact) return exact;
  const lower = wanted.toLowerCase();
  return candidates.find((candidate) => nameOf(candidate)?.toLowerCase() === lower);
}

/** Names for a reason, in the tracker's order: at most `max` of them, then how many more. */
export function nameList(names: string[], max = 20): string {
  if (names.length === 0) return "none";
  const shown = names.slice(0, max);
  return names.length > max ? `${shown.join(", ")} and ${names.length - max} more` : shown.join(", ");
}
