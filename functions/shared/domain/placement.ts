import type { Settings } from "../platform/settings";
import type { CommentKind } from "./marker";
import type { WorkflowState } from "./workflow-state";

/** Where a comment goes: a new comment, a reply in the thread under `parentId`, or the text of `replaceId`. */
export interface Placement {
  parentId?: string;
  replaceId?: string;
}

/**
 * The acknowledgement starts the thread; everything after it goes under it (or, in "replace" mode, the
 * final comment of a label run replaces its text). Follow-ups answer in their own thread.
 */
export function placementOf(
  state: WorkflowState,
  kind: CommentKind,
  mode: Settings["comments"]["replyMode"],
): Placement {
  if (kind === "ack") return {};
  const root = state.thread?.rootId ?? state.ack?.id;
  if (!root) return {};
  if (mode === "replace" && !state.thread) return { replaceId: root };
  return { parentId: root };
}
