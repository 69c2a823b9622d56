import { parseFollowUp } from "./follow-up";
import type { TrackerName } from "./ticket";
import type { ThreadAction } from "./workflow-state";

/** What a comment's thread turned out to be, once read back from the tracker. */
export interface ThreadFacts {
  /** The comment was written by the integration itself. */
  own: boolean;
  /** The thread holds one of our conversations (its root is ours and names one). */
  ours: boolean;
}

/**
 * What a comment asks for: nothing when it is ours or not in our thread; a command (`retry`, `status`,
 * `help`); else a question for the thread's conversation. `help` (and, in Jira, where every comment is
 * addressed by its prefix, `retry`) is answered even where no conversation exists yet.
 */
export function threadAction(facts: ThreadFacts, text: string, tracker: TrackerName): ThreadAction {
  if (facts.own) return "ignore";
  const asked = parseFollowUp(text);
  const command = "command" in asked ? asked.command : undefined;
  if (command === "help" || (command === "retry" && tracker === "jira")) return command;
  if (!facts.ours) return "ignore";
  return command ?? "ask";
}
