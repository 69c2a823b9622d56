import type { TrackerName } from "../domain/ticket";
import type { Tracker, TrackerEntry } from "./tracker";

export type { Tracker } from "./tracker";

/**
 * Every tracker qa-ticket connects to QA.tech, each in its own folder. Both halves are loaded on first
 * use, so a run on one tracker never loads another's SDK. Adding a tracker: its folder, one line here, its
 * name in TrackerName and its block in the settings.
 */
export const TRACKERS: Record<TrackerName, TrackerEntry> = {
  linear: {
    webhook: async () => (await import("./linear/webhook")).linearWebhook,
    tracker: async () => (await import("./linear")).linear,
  },
  jira: {
    webhook: async () => (await import("./jira/webhook")).jiraWebhook,
    tracker: async () => (await import("./jira")).jira,
  },
};

/** The tracker a ticket lives in. */
export function trackerOf(name: TrackerName): Promise<Tracker> {
  return TRACKERS[name].tracker();
}
