import type { Settings } from "../platform/settings";

/** Where a labelled run stands, as its labels show it. */
export type RunStage = "started" | "passed" | "failed";

/**
 * The label changes for a stage: on start, swap the trigger label for the "testing" one (each optional);
 * at the end, drop "testing" and set "tested" or "test failed". Changes of other labels never trigger a
 * run, and taking the trigger label off lets re-adding it start a fresh one.
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
    const done = stage === "passed" ? s.tested : s.testFailed;
    if (done) add.push(done);
    const other = stage === "passed" ? s.testFailed : s.tested;
    if (other) remove.push(other);
  }
  return { add, remove };
}
