import { createHash } from "node:crypto";

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
