import type { TrackerName } from "../domain/ticket";
import type { Tracker } from "./tracker";

export type { Tracker } from "./tracker";

/**
 * Every tracker qa-ticket connects to QA.tech, each in its own folder, loaded on first use so a run on
 * one tracker never loads another's SDK. Adding a tracker: its folder, one line here, its catalog entry
 * (catalog.ts) and its webhook entry (docs/architecture.md, "Adding a tracker").
 */
export const TRACKERS: Record<TrackerName, () => Promise<Tracker>> = {
  linear: async () => (await import("./linear")).linear,
  jira: async () => (await import("./jira")).jira,
  "linear-agent": async () => (await import("./linear-agent")).linearAgent,
};

/** The tracker a ticket lives in. */
export function trackerOf(name: TrackerName): Promise<Tracker> {
  return TRACKERS[name]();
}
