import type { Settings } from "../platform/settings";
import type { VerdictOutcome } from "./verdict";

/** Where a labelled run stands, as its labels show it: started, or ended with its verdict. */
export type RunStage = "started" | VerdictOutcome;

/** The label each verdict sets (each optional). */
const VERDICT_LABELS: Record<VerdictOutcome, keyof Settings["labels"] & string> = {
  passed: "tested",
  failed: "testFailed",
  unverified: "unverified",
};

/**
 * The label changes for a stage: on start, swap the trigger label for the "testing" one (each optional);
 * at the end, drop "testing", set the verdict's label ("tested", "test failed" or "unverified") and drop
 * the other two. Changes of other labels never trigger a run, and taking the trigger label off lets
 * re-adding it start a fresh one.
 */
export function labelChanges(
  stage: RunStage,
  s: Settings["labels"],
  triggerLabel: string,
): { add: string[]; remove: string[] } {
  const add: string[] = [];
  const remove: string[] = [];
  if (stage === "started") {
    if (s.testing) add.push(s.testing);
    if (s.removeTrigger) remove.push(triggerLabel);
  } else {
    if (s.testing) remove.push(s.testing);
    for (const [outcome, key] of Object.entries(VERDICT_LABELS)) {
      const label = s[key];
      if (typeof label !== "string" || !label) continue;
      if (outcome === stage) add.push(label);
      else remove.push(label);
    }
  }
  return { add, remove };
}
