import { conversationWithProject, readMarker } from "../../domain/marker";
import type { FollowUp, Ticket } from "../../domain/ticket";
import { getSecret } from "../../platform/secrets";
import type { FoundThread } from "../tracker";
import { apiKeyIssues as issues } from "./issues";

/**
 * A reply's thread: its root comment must be ours (written by the API key's user) and end with a marker
 * signed for this ticket that names a conversation. Nothing is remembered: it is read back each time.
 */
export async function findLinearThread(ticket: Ticket, followUp: FollowUp): Promise<FoundThread> {
  const viewer = await issues.viewerId();
  if (followUp.authorId === viewer) return { own: true, root: null };
  if (!followUp.parentId) return { own: false, root: null };
  const root = await issues.comment(followUp.parentId);
  if (!root || root.userId !== viewer) return { own: false, root: null };
  const marker = readMarker(await getSecret("MARKER_KEY"), ticket, root.body);
  const id = marker?.conversationId;
  return {
    own: false,
    root: id ? { rootId: root.id, conversation: conversationWithProject(id, marker.projectShortId) } : null,
  };
}
