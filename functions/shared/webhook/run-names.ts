import { createHash } from "node:crypto";
import type { Trigger } from "../domain/ticket";
import { settings } from "../platform/settings";

/**
 * The execution names of an issue's label runs that report in a Linear agent session start with this: under
 * the agent's prefix (`linear-agent-`), so that a stop request in that session finds them, and StopExecution
 * may be limited to that prefix. Apart from the agent's code, which the label webhooks do not bundle.
 */
export function issueRunPrefix(issueId: string): string {
  return `linear-agent-issue-${createHash("sha256").update(issueId).digest("hex").slice(0, 16)}`;
}

/** A label run's name when it reports in an agent session: one per label change, as its `runId` was. */
export function labelRunId(issueId: string, runId: string): string {
  return `${issueRunPrefix(issueId)}-${createHash("sha256").update(runId).digest("hex").slice(0, 16)}`;
}

/**
 * The one place that decides where a label run reports. With QA.tech as a Linear agent and `sessionOnLabel`,
 * a labelled Linear issue's run reports in an agent session of its own (opened by its acknowledgement), so
 * every run shows in the same place. It is then named under the agent's prefix, by issue, so that a stop
 * request in that session finds it (trackers/linear-agent/webhook.ts). Other runs are returned as they are.
 */
export function labelRunReporting(trigger: Trigger | null, env: NodeJS.ProcessEnv): Trigger | null {
  if (trigger?.ticket.tracker !== "linear") return trigger;
  const agent = settings(env).linear.agent;
  if (!agent?.enabled || !agent.sessionOnLabel) return trigger;
  return {
    ...trigger,
    runId: labelRunId(trigger.ticket.id, trigger.runId),
    ticket: { ...trigger.ticket, tracker: "linear-agent" },
  };
}
