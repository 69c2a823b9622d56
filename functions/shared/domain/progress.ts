import { createHash } from "node:crypto";
import { capText } from "./limits";

/**
 * Progress while QA.tech works, for runs that report to a Linear agent session: QA.tech's partial text as an
 * ephemeral thought. Linear counts every activity against the token's hourly budget, and agents that streamed
 * every change ran out of it and silently broke their sessions (https://linear.app/developers/rate-limiting;
 * github.com/cyrusagents/cyrus issue 1324): so at most
 * one update per PROGRESS_MIN_INTERVAL_SECONDS of the run's clock, at most PROGRESS_MAX_PER_RUN per run, and
 * only when the text changed.
 */
export const PROGRESS_MIN_INTERVAL_SECONDS = 20;
export const PROGRESS_MAX_PER_RUN = 10;
/**
 * Linear marks a session `stale` after 30 minutes without an activity
 * (https://linear.app/developers/agent-best-practices): a long run posts a thought at least this often (by the
 * poll clock), whether or not QA.tech's text changed and whatever is left of PROGRESS_MAX_PER_RUN.
 */
export const HEARTBEAT_SECONDS = 25 * 60;
/** The thought of a heartbeat while QA.tech has written nothing yet. */
export const HEARTBEAT_TEXT = "Still testing: QA.tech has not finished yet.";

/** A progress thought shows the end of the partial text, within this many bytes of JSON. */
export const PROGRESS_MAX_BYTES = 4 * 1024;

/** The progress a run has shown, carried in the workflow's state. */
export interface ProgressState {
  /** Updates sent so far in this run. */
  sent: number;
  /** The poll clock (seconds waited, PollState.elapsedSeconds) when the last update was sent. */
  atSeconds: number;
  /** Digest of the partial text last sent, so an unchanged text is not sent again. */
  digest: string;
  /** The text to post now (the end of the partial text, bounded). */
  text: string;
}

function digestOf(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/** The end of a long text, marked as cut: what QA.tech is doing now is at the end of what it wrote. */
function tail(text: string): string {
  const clean = capText(text, PROGRESS_MAX_BYTES);
  if (clean.length === text.length) return clean;
  const reversed = capText([...text].reverse().join(""), PROGRESS_MAX_BYTES - 8);
  return `…${[...reversed].reverse().join("")}`;
}

/**
 * The next progress update, or null when none is due: no text, the same text as last time, too soon after the
 * last one (by the poll clock, so the rule holds at any WAIT_SCALE), or the run's budget spent. A heartbeat is
 * due, whatever the text, when waiting `nextWaitSeconds` for the next poll would leave HEARTBEAT_SECONDS or
 * more without an activity since the last update (or the run's start, when the first thought went out).
 */
export function nextProgress(
  previous: ProgressState | undefined,
  partial: string,
  elapsedSeconds: number,
  nextWaitSeconds = 0,
): ProgressState | null {
  const text = partial.trim();
  if (elapsedSeconds + nextWaitSeconds - (previous?.atSeconds ?? 0) >= HEARTBEAT_SECONDS)
    return {
      sent: (previous?.sent ?? 0) + 1,
      atSeconds: elapsedSeconds,
      digest: text ? digestOf(text) : (previous?.digest ?? ""),
      text: text ? tail(text) : HEARTBEAT_TEXT,
    };
  if (!text) return null;
  const digest = digestOf(text);
  if (previous) {
    if (previous.digest === digest || previous.sent >= PROGRESS_MAX_PER_RUN) return null;
    if (elapsedSeconds - previous.atSeconds < PROGRESS_MIN_INTERVAL_SECONDS) return null;
  }
  return { sent: (previous?.sent ?? 0) + 1, atSeconds: elapsedSeconds, digest, text: tail(text) };
}
