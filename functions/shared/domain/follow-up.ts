import { endsWithMarker } from "./marker";

/**
 * Comments addressed to the integration: follow-up questions and the commands `@qa retry`, `@qa rerun`,
 * `@qa status` and `@qa help`. Pure: the trackers' webhooks detect them, the workflow acts on them.
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

export type Command = "retry" | "rerun" | "status" | "help";

const COMMANDS = new Set<string>(["retry", "rerun", "status", "help"] satisfies Command[]);

/**
 * `retry on <url>` (and an agent's `test on <url>`): a new conversation on that preview deployment, when
 * the allowlist accepts it. One URL (any scheme, so a refused one is answered), nothing after it; "test on
 * Safari" stays a question. What the URL may be is checked later (domain/preview-url.ts).
 */
const RETRY_ON = /^(?:retry|test) on <?([a-z][a-z0-9+.-]*:\/\/[^\s>]{1,2040})>?$/i;

/** What a follow-up asks for: a command (`retry` perhaps on a URL), or a question for the conversation. */
export function parseFollowUp(text: string): { command: Command; url?: string } | { question: string } {
  const trimmed = text.trim();
  const word = trimmed.toLowerCase();
  if (COMMANDS.has(word)) return { command: word as Command };
  const on = RETRY_ON.exec(trimmed);
  if (on) return { command: "retry", url: on[1] };
  return { question: trimmed };
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
    "**qa-ticket** sends tickets to QA.tech's assistant and posts its reply here, opening with a verdict: passed, failed or could not verify, from the test runs QA.tech ran.",
    "",
    `- Add the label \`${s.triggerLabel}\` to start (removing and re-adding it starts afresh).`,
    `- ${ask}`,
    `- \`${s.prefix} retry\` starts a new conversation (\`${s.prefix} retry on <url>\` on that preview deployment, when the configured previewUrls allow it), \`${s.prefix} rerun\` reruns the failed tests (else all) of the runs QA.tech's latest reply with test runs links and posts a new verdict, \`${s.prefix} status\` tells where the conversation and its runs stand, \`${s.prefix} help\` shows this.`,
    "",
    `In force: replies ${where}; change reviews of linked pull requests: ${s.changeReview}; QA.tech's reply is awaited for ${s.replyTimeoutMinutes} minutes.`,
  ].join("\n");
}
