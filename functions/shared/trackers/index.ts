import type { TicketComment } from "../comment";
import type { Ticket, TrackerName } from "../ticket";
import type { Placement } from "./placement";

/** Posts a run's comment on its ticket, where `placement` says, at most once per run and kind. */
export type PostComment = (
  ticket: Ticket,
  comment: TicketComment,
  runId: string,
  placement?: Placement,
) => Promise<{ id: string; duplicate: boolean }>;

/**
 * The comment side of each tracker, loaded on first use so a run on one tracker never loads the
 * other's SDK. The workflow picks the adapter here and nowhere else.
 */
export const commenters: Record<TrackerName, () => Promise<PostComment>> = {
  linear: async () => (await import("./linear-post")).postToLinear,
  jira: async () => (await import("./jira-post")).postToJira,
};
