import type { CaughtError, WorkflowState } from "./workflow-state";

/** What a run says on the ticket, before a tracker renders it (markdown for Linear, ADF for Jira). */
export interface TicketComment {
  /**
   * "ack" for the acknowledgement, "reply" for the assistant's answer (or a command's), "failure" when the
   * run could not get one. Part of the idempotency key.
   */
  kind: "ack" | "reply" | "failure";
  markdown: string;
  /** The conversation in QA.tech, when one was opened. */
  link?: { url: string; label: string };
}

const LINK_LABEL = "Open the conversation in QA.tech";

/** Reads the message out of a caught error: Lambda wraps it in a JSON `Cause`, the local runner does not. */
export function causeMessage(error: CaughtError): string {
  const cause = error.Cause ?? "";
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
}

/**
 * Composes a run's comment: the acknowledgement, a command's answer, the reply when there is one,
 * otherwise what went wrong.
 */
export function composeComment(state: WorkflowState, context?: CommentContext): TicketComment {
  const conversationUrl = state.conversation?.url ?? state.thread?.conversation?.url;
  const link = conversationUrl ? { url: conversationUrl, label: LINK_LABEL } : undefined;
  if (state.step === "ack") {
    const what = state.review ? `is reviewing ${state.review.prUrl} for this ticket` : "is on it";
    const where =
      context?.replyMode === "replace"
        ? "will update this comment"
        : state.ticket.tracker === "jira"
          ? "will reply in a comment below"
          : "will reply in this thread";
    return { kind: "ack", link, markdown: `QA.tech ${what} and ${where}.` };
  }
  const action = state.thread?.action;
  if (action === "help") return { kind: "reply", link, markdown: context?.help ?? "" };
  if (action === "status") {
    const latest = state.thread?.latest ?? "none";
    const said =
      latest === "none"
        ? "QA.tech has not replied in this conversation yet."
        : latest === "PARTIAL" || latest === "INITIATED"
          ? "QA.tech is still working on its latest reply."
          : `QA.tech's latest reply is ${latest.toLowerCase()}.`;
    return { kind: "reply", link, markdown: said };
  }
  const reply = state.reply;
  if (!state.error && reply) {
    if (reply.status === "COMPLETED") {
      return { kind: "reply", link, markdown: reply.text || "QA.tech finished without a written reply." };
    }
    const verb = reply.status === "FAILED" ? "failed" : "was cancelled";
    const said = reply.text ? `\n\nIts last words:\n\n${reply.text}` : "";
    return { kind: "reply", link, markdown: `QA.tech's reply ${verb} before it was complete.${said}` };
  }
  const next = link ? "" : "\n\nNo conversation was opened. Remove and re-add the label to try again.";
  return { kind: "failure", link, markdown: `${describeFailure(state)}${next}` };
}
