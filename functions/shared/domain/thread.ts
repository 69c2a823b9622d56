import { parseFollowUp } from "./follow-up";
import type { TrackerName } from "./ticket";
import type { ThreadAction } from "./workflow-state";

/** What a comment's thread turned out to be, once read back from the tracker. */
export interface ThreadFacts {
  /** The comment was written by the integration itself. */
  own: boolean;
  /** The thread holds one of our conversations (its root is ours and names one). */
  ours: boolean;
  /** The ticket carries the trigger label (Jira reads it back where no conversation of ours exists). */
  labelled?: boolean;
}

/**
 * What a comment asks for: nothing when it is ours or not in our thread; a command (`retry`, `status`,
 * `help`); else a question for the thread's conversation. `help` is answered even where no conversation
 * exists yet; so is `retry` in Jira (which has no threads) when the trigger label is on the ticket, never on
 * a ticket nobody labelled: anyone who may comment (a service-desk customer) could otherwise start runs.
 */
export function threadAction(facts: ThreadFacts, text: string, tracker: TrackerName): ThreadAction {
  if (facts.own) return "ignore";
  const asked = parseFollowUp(text);
  const command = "command" in asked ? asked.command : undefined;
  if (command === "help" || (command === "retry" && tracker === "jira" && facts.labelled)) return command;
  if (!facts.ours) return "ignore";
  return command ?? "ask";
}
