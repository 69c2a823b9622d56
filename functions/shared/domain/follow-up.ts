import { endsWithMarker } from "./marker";

/**
 * Comments addressed to the integration: follow-up questions and the commands `@qa retry`, `@qa status`
 * and `@qa help`. Pure: the trackers' webhooks detect them, the workflow acts on them.
 */

/**
 * Whether a comment looks like one of the integration's own (it ends with a marker), so its own comments
 * never trigger anything. A cheap first filter: the workflow also checks the author before acting.
 */
export function isOwnComment(text: string): boolean {
  return endsWithMarker(text);
}

/** The text after `prefix` (`@qa` by default, any case, then a space or the end), or null without it. */
export function stripPrefix(text: string, prefix: string): string | null {
  const trimmed = text.trim();
  if (trimmed.slice(0, prefix.length).toLowerCase() !== prefix.toLowerCase()) return null;
  const rest = trimmed.slice(prefix.length);
  if (rest !== "" && !/^[\s:,]/.test(rest)) return null;
  return rest.replace(/^[\s:,]+/, "");
}

export type Command = "retry" | "status" | "help";

/** What a follow-up asks for: a command, or a question for the conversation. */
export function parseFollowUp(text: string): { command: Command } | { question: string } {
  const word = text.trim().toLowerCase();
  if (word === "retry" || word === "status" || word === "help") return { command: word };
  return { question: text.trim() };
}

/** The `help` command's answer: what the integration does and the configuration in force. */
export function helpText(s: {
  tracker: "linear" | "jira";
  triggerLabel: string;
  prefix: string;
  replyMode: "thread" | "replace";
  changeReview: "auto" | "always" | "never";
  replyTimeoutMinutes: number;
}): string {
  const ask =
    s.tracker === "linear"
      ? "Reply in this thread to ask QA.tech a follow-up question in the same conversation."
      : `Start a comment with ${s.prefix} to ask QA.tech a follow-up question in the same conversation.`;
  const where =
    s.replyMode === "replace"
      ? "replace the acknowledgement"
      : s.tracker === "linear"
        ? "in this thread"
        : "in comments below the acknowledgement";
  return [
    "**qa-ticket** sends tickets to QA.tech's assistant and posts its reply here.",
    "",
    `- Add the label \`${s.triggerLabel}\` to start (removing and re-adding it starts afresh).`,
    `- ${ask}`,
    `- \`${s.prefix} retry\` starts a new conversation, \`${s.prefix} status\` tells where the conversation stands, \`${s.prefix} help\` shows this.`,
    "",
    `In force: replies ${where}; change reviews of linked pull requests: ${s.changeReview}; QA.tech's reply is awaited for ${s.replyTimeoutMinutes} minutes.`,
  ].join("\n");
}
