import { markerKey, readMarker } from "../domain/marker";
import { boundedTicket, type FollowUp, type Ticket, type TrackerName } from "../domain/ticket";
import { getSecret } from "../platform/secrets";
import { linearApiUrl } from "../platform/settings";
import { adfToText } from "./jira/adf-text";

/** A follow-up's thread, as read back from the tracker. */
export interface FoundThread {
  /** The comment was written by the integration itself: never act on it. */
  own: boolean;
  /** Our comment whose marker names the conversation, or null when this is not (or not yet) our thread. */
  root: { rootId: string; conversation: { id: string } } | null;
}

export type FindThread = (ticket: Ticket, followUp: FollowUp) => Promise<FoundThread>;

/**
 * Linear: the reply's root comment must be ours (written by the API key's user) and end with a marker
 * signed for this ticket that names a conversation. Nothing is remembered: it is read back each time.
 */
async function findLinearThread(ticket: Ticket, followUp: FollowUp): Promise<FoundThread> {
  const { getLinearComment, linearViewerId } = await import("./linear/api");
  const auth = { apiKey: await getSecret("LINEAR_API_KEY"), apiUrl: linearApiUrl() };
  const viewer = await linearViewerId(auth);
  if (followUp.authorId === viewer) return { own: true, root: null };
  if (!followUp.parentId) return { own: false, root: null };
  const root = await getLinearComment({ ...auth, id: followUp.parentId });
  if (!root || root.userId !== viewer) return { own: false, root: null };
  const marker = readMarker(await markerKey(), ticket, root.body);
  const id = marker?.conversationId;
  return { own: false, root: id ? { rootId: root.id, conversation: { id } } : null };
}

/**
 * Jira has no threads: the conversation is the one named by the newest of our comments whose marker is
 * signed for this ticket, and the thread's root is the acknowledgement of that conversation (else the
 * oldest of our comments naming it).
 */
async function findJiraThread(ticket: Ticket, followUp: FollowUp): Promise<FoundThread> {
  const [{ listJiraComments }, { getJiraMyself }, { jiraAuthFromEnv }] = await Promise.all([
    import("./jira/api"),
    import("./jira/client"),
    import("./jira/comment"),
  ]);
  const auth = await jiraAuthFromEnv();
  const me = await getJiraMyself(auth);
  if (followUp.authorId === me) return { own: true, root: null };
  const key = await markerKey();
  // Newest first.
  const ours = (await listJiraComments({ ...auth, issueKey: ticket.key }))
    .filter((comment) => comment.authorAccountId === me)
    .map((comment) => ({ id: comment.id, marker: readMarker(key, ticket, adfToText(comment.body)) }))
    .filter((comment) => comment.marker?.conversationId);
  const id = ours[0]?.marker?.conversationId;
  if (!id) return { own: false, root: null };
  const naming = ours.filter((c) => c.marker?.conversationId === id);
  const root = naming.find((c) => c.marker?.kind === "ack") ?? naming.at(-1);
  return { own: false, root: root ? { rootId: root.id, conversation: { id } } : null };
}

/**
 * The ticket's text for a new conversation started from a comment (`retry`): neither Linear's Comment
 * webhook nor Jira's comment_created carries the issue's description, so it is read back.
 */
export const ticketRefreshers: Record<TrackerName, (ticket: Ticket) => Promise<Ticket>> = {
  linear: async (ticket) => {
    const { getLinearIssue } = await import("./linear/api");
    const issue = await getLinearIssue({
      apiKey: await getSecret("LINEAR_API_KEY"),
      apiUrl: linearApiUrl(),
      id: ticket.id,
    });
    return boundedTicket({
      ...ticket,
      key: issue.identifier,
      title: issue.title,
      url: issue.url,
      description: issue.description,
      teamId: issue.teamId,
    });
  },
  jira: async (ticket) => {
    const [{ getJiraIssue }, { jiraAuthFromEnv }] = await Promise.all([
      import("./jira/api"),
      import("./jira/comment"),
    ]);
    const issue = await getJiraIssue({ ...(await jiraAuthFromEnv()), issueKey: ticket.key });
    return boundedTicket({ ...ticket, title: issue.summary, description: issue.description });
  },
};

/** Each tracker's way to find a follow-up's thread. */
export const threadFinders: Record<TrackerName, FindThread> = {
  linear: findLinearThread,
  jira: findJiraThread,
};
