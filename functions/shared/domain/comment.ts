import { redactSecrets } from "../platform/redact";
import type { CommentKind } from "./marker";
import { escapeMarkdownText, unreadableVerdict, type Verdict, verdictMarkdown } from "./verdict";
import type { CaughtError, WorkflowState } from "./workflow-state";

/** What a run says on the ticket, before a tracker renders it (markdown for Linear, ADF for Jira). */
export interface TicketComment {
  /** Which of the run's comments this is: part of its idempotency key and of its marker. */
  kind: CommentKind;
  markdown: string;
  /** The conversation in QA.tech, when one was opened. */
  link?: { url: string; label: string };
  /** It says that something failed (a failure, or a reply that failed or was cancelled): an agent's `error`. */
  failed?: boolean;
  /** Progress while QA.tech's test runs are waited for (not while it writes): the agent's plan shows it. */
  step?: "runs";
}

const LINK_LABEL = "Open the conversation in QA.tech";

/** Reads the message out of a caught error: Lambda wraps it in a JSON `Cause`, the local runner does not. */
export function causeMessage(error: CaughtError): string {
  const cause = redactSecrets(error.Cause ?? "");
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === "string") return parsed.errorMessage;
  } catch {
    // plain text cause
  }
  return cause || error.Error;
}

function describeFailure(state: WorkflowState): string {
  const error = state.error ?? { Error: "Unknown" };
  if (error.Error === "ReplyDeadline") {
    const minutes = Math.round((state.poll?.elapsedSeconds ?? 0) / 60);
    return (
      `QA.tech has not finished its reply after ${minutes} minute${minutes === 1 ? "" : "s"}, so qa-ticket stopped ` +
      "waiting. The conversation may still finish in QA.tech."
    );
  }
  const detail = causeMessage(error);
  // The detail names the peer that failed ("QA.tech answered 401 ...", "Linear refused the comment ...").
  const fromQaTech = detail.startsWith("QA.tech");
  if (error.Error === "PermanentError") {
    return fromQaTech
      ? `QA.tech could not take this ticket: ${detail}`
      : `qa-ticket could not finish: ${detail}`;
  }
  if (error.Error === "ConfigError") return `qa-ticket is not configured correctly: ${detail}`;
  if (error.Error === "TransientError") {
    return `${fromQaTech ? "QA.tech" : "A service"} kept failing, even after retries: ${detail}`;
  }
  return `qa-ticket hit an unexpected error (${error.Error}): ${detail}`;
}

/** What the `help` command and the acknowledgement say about the configuration in force. */
export interface CommentContext {
  help: string;
  replyMode: "thread" | "replace";
  /** Said at the end of the reply: what the run could not do beside it (a ticket move that was refused). */
  notes?: string[];
}

/** The acknowledgement: the root of the ticket's thread, saying who is on it and where the answer will be. */
function acknowledgement(state: WorkflowState, context?: CommentContext): string {
  const on = state.previews?.length ? ` (testing on ${state.previews.map((p) => p.url).join(" and ")})` : "";
  const what = `${state.review ? `is reviewing ${state.review.prUrl} for this ticket` : "is on it"}${on}`;
  // Where a route sent the ticket (names and ids from the config, never from the ticket).
  const route = state.route;
  const routed = route
    ? `\n\nSent to ${route.projectShortId ? `QA.tech project ${escapeMarkdownText(route.projectShortId)}` : "the default QA.tech project"} ` +
      `(route ${escapeMarkdownText(route.name)})` +
      (route.applications.length
        ? `, application${route.applications.length === 1 ? "" : "s"} ${route.applications.map(escapeMarkdownText).join(", ")}`
        : "") +
      "."
    : "";
  if (state.ticket.tracker === "linear-agent")
    return `QA.tech ${what}: follow it with the Open button; its answer will be this session's response.${routed}`;
  const where =
    context?.replyMode === "replace"
      ? "will update this comment"
      : state.ticket.tracker === "jira"
        ? "will reply in a comment below"
        : "will reply in this thread";
  return `QA.tech ${what} and ${where}.${routed}`;
}

/** A command's answer: `help`, where the conversation and its runs stand for `status`, what `rerun` started. */
function answer(state: WorkflowState, context?: CommentContext): string {
  if (state.thread?.action === "help") return context?.help ?? "";
  if (state.thread?.action === "refused")
    return `Not retried: ${state.thread.refusal ?? "the request was refused"}.`;
  if (state.thread?.action === "rerun") return rerunAnswer(state);
  const latest = state.thread?.latest ?? "none";
  const runs = state.thread?.runs?.length
    ? `\n\nTest runs its latest replies link:\n${state.thread.runs.map((line) => `- ${line}`).join("\n")}`
    : "";
  if (latest === "none") return "QA.tech has not replied in this conversation yet.";
  if (latest === "PARTIAL" || latest === "INITIATED")
    return `QA.tech is still working on its latest reply.${runs}`;
  return `QA.tech's latest reply is ${latest.toLowerCase()}.${runs}`;
}

/** What `@qa rerun` started (the verdict follows in the thread), or why nothing was rerun. */
function rerunAnswer(state: WorkflowState): string {
  const reruns = state.runs?.reruns ?? [];
  if (state.runs?.status !== "waiting" || reruns.length === 0)
    return state.runs?.note ?? "Nothing was rerun.";
  const lines = reruns.map(
    (r) =>
      `- ${r.failedOnly ? "the failed tests" : "all tests"} of run ${r.from}: new run ${r.to}` +
      ` (${r.testCount} test${r.testCount === 1 ? "" : "s"})`,
  );
  return `QA.tech is rerunning:\n${lines.join("\n")}\n\nThe verdict follows in this thread when the runs finish.`;
}

/**
 * The verdict the reply opens with: the one ReadRuns found, or "could not verify" when the runs could not be
 * read at all. None for a follow-up question whose answer ran no tests.
 */
function verdictOf(state: WorkflowState): Verdict | undefined {
  if (state.verdict) return state.verdict;
  if (state.runsError) return unreadableVerdict(causeMessage(state.runsError));
  return undefined;
}

/** The reply comment: the verdict first, then QA.tech's reply (or what a rerun reran). */
function replyComment(state: WorkflowState): string {
  const verdict = verdictOf(state);
  const body = state.thread?.action === "rerun" && !state.reply ? rerunSummary(state) : reply(state);
  return [verdict ? verdictMarkdown(verdict) : "", body].filter(Boolean).join("\n\n");
}

function rerunSummary(state: WorkflowState): string {
  const reruns = state.runs?.reruns ?? [];
  return reruns.length
    ? `After \`rerun\`: ${reruns.map((r) => `run ${r.to} reran ${r.failedOnly ? "the failed tests" : "all tests"} of run ${r.from}`).join("; ")}.`
    : "After `rerun`.";
}

/** The assistant's final reply; a failed or cancelled one says so above what it managed to write. */
function reply(state: WorkflowState): string {
  const found = state.reply;
  if (!found) return "QA.tech finished without a written reply.";
  if (found.status === "COMPLETED") return found.text || "QA.tech finished without a written reply.";
  const verb = found.status === "FAILED" ? "failed" : "was cancelled";
  const said = found.text ? `\n\nIts last words:\n\n${found.text}` : "";
  return `QA.tech's reply ${verb} before it was complete.${said}`;
}

/**
 * What went wrong, and how to try again when no conversation was opened. A labelled run (or a retry) that
 * ends here could not verify the ticket: said first, so no integration failure reads as a failed test.
 */
function failure(state: WorkflowState, link?: TicketComment["link"]): string {
  const next = link ? "" : "\n\nNo conversation was opened. Remove and re-add the label to try again.";
  const labelled = !state.followUp || state.thread?.action === "retry";
  return `${labelled ? "**Could not verify**: " : ""}${describeFailure(state)}${next}`;
}

const COMPOSE: Record<
  CommentKind,
  (state: WorkflowState, context?: CommentContext, link?: TicketComment["link"]) => string
> = {
  ack: acknowledgement,
  answer,
  reply: replyComment,
  failure: (state, _context, link) => failure(state, link),
  progress: (state) => state.progress?.text ?? "",
};

/**
 * Composes the comment of the given kind. The kind comes from the state machine (each comment task names
 * it), never from guessing at the state: a failure after a failed acknowledgement is a failure comment.
 */
export function composeComment(
  kind: CommentKind,
  state: WorkflowState,
  context?: CommentContext,
): TicketComment {
  const conversationUrl = state.conversation?.url ?? state.thread?.conversation?.url;
  const link = conversationUrl ? { url: conversationUrl, label: LINK_LABEL } : undefined;
  const failed =
    kind === "failure" ||
    (kind === "reply" && state.reply !== undefined && state.reply.status !== "COMPLETED");
  const notes = (context?.notes ?? []).map((note) => `_${escapeMarkdownText(note)}_`);
  const markdown = [COMPOSE[kind](state, context, link), ...notes].join("\n\n");
  const step = kind === "progress" && state.runs?.status === "waiting" ? { step: "runs" as const } : {};
  return { kind, link, markdown, ...(failed ? { failed } : {}), ...step };
}
