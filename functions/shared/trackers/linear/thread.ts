import { readMarker } from "../../domain/marker";
import { boundedTicket, type FollowUp, type Ticket } from "../../domain/ticket";
import { getSecret } from "../../platform/secrets";
import type { FoundThread } from "../tracker";
import { getLinearComment, getLinearIssue, type LinearAuth, linearAuth, linearViewerId } from "./api";

/**
 * A reply's thread: its root comment must be ours (written by the API key's user) and end with a marker
 * signed for this ticket that names a conversation. Nothing is remembered: it is read back each time.
 */
export async function findLinearThread(ticket: Ticket, followUp: FollowUp): Promise<FoundThread> {
  const auth = await linearAuth();
  const viewer = await linearViewerId(auth);
  if (followUp.authorId === viewer) return { own: true, root: null };
  if (!followUp.parentId) return { own: false, root: null };
  const root = await getLinearComment({ ...auth, id: followUp.parentId });
  if (!root || root.userId !== viewer) return { own: false, root: null };
  const id = readMarker(await getSecret("MARKER_KEY"), ticket, root.body)?.conversationId;
  return { own: false, root: id ? { rootId: root.id, conversation: { id } } : null };
}

/**
 * The issue's text and team read back: a Comment webhook carries neither the description nor the team. Read
 * with the API key, or with the given credentials (the agent's OAuth token).
 */
export async function refreshLinearTicket(ticket: Ticket, auth?: LinearAuth): Promise<Ticket> {
  const issue = await getLinearIssue({ ...(auth ?? (await linearAuth())), id: ticket.id });
  return boundedTicket({
    ...ticket,
    key: issue.identifier,
    title: issue.title,
    url: issue.url,
    description: issue.description,
    teamId: issue.teamId,
  });
}
