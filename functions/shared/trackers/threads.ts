import { adfToText } from "../adf-text";
import { findConversationLink } from "../qatech";
import { getSecret } from "../secrets";
import { linearApiUrl } from "../settings";
import { capDescription, type FollowUp, type Ticket, type TrackerName } from "../ticket";

/** A follow-up's thread, as read back from the tracker. */
export interface FoundThread {
  /** The comment was written by the integration itself: never act on it. */
  own: boolean;
  /** Our comment that links the conversation, or null when this is not (or not yet) our thread. */
  root: { rootId: string; conversation: { id: string; url: string } } | null;
}

export type FindThread = (ticket: Ticket, followUp: FollowUp) => Promise<FoundThread>;

/**
 * Linear: the reply's root comment must be ours (written by the API key's user) and link a conversation.
 * Nothing is remembered: the conversation is read back from the root comment each time.
 */
async function findLinearThread(_ticket: Ticket, followUp: FollowUp): Promise<FoundThread> {
  const { getLinearComment, linearViewerId } = await import("./linear-api");
  const auth = { apiKey: await getSecret("LINEAR_API_KEY"), apiUrl: linearApiUrl() };
  const viewer = await linearViewerId(auth);
  if (followUp.authorId === viewer) return { own: true, root: null };
  if (!followUp.parentId) return { own: false, root: null };
  const root = await getLinearComment({ ...auth, id: followUp.parentId });
  const conversation = root && root.userId === viewer ? findConversationLink(root.body) : null;
  return { own: false, root: root && conversation ? { rootId: root.id, conversation } : null };
}

/**
 * Jira has no threads: the conversation is the one our newest comment links, and the thread's root is our
 * first comment linking it (the acknowledgement).
 */
async function findJiraThread(ticket: Ticket, followUp: FollowUp): Promise<FoundThread> {
  const [{ listJiraComments }, { getJiraMyself }, { jiraAuthFromEnv }] = await Promise.all([
    import("./jira-api"),
    import("./jira-client"),
    import("./jira-post"),
  ]);
  const auth = await jiraAuthFromEnv();
  const me = await getJiraMyself(auth);
  if (followUp.authorId === me) return { own: true, root: null };
  // Newest first: the newest of our comments names the conversation; the oldest naming it is the root.
  const ours = (await listJiraComments({ ...auth, issueKey: ticket.key }))
    .filter((comment) => comment.authorAccountId === me)
    .map((comment) => ({ id: comment.id, conversation: findConversationLink(adfToText(comment.body)) }));
  const conversation = ours.find((c) => c.conversation)?.conversation;
  if (!conversation) return { own: false, root: null };
  const root = ours.filter((c) => c.conversation?.id === conversation.id).at(-1);
  return { own: false, root: root ? { rootId: root.id, conversation } : null };
}

/**
 * The ticket's text for a new conversation started from a comment (`retry`): Linear's Comment webhook
 * carries no description, so it is read back; Jira's comment webhook carries the issue's fields already.
 */
export const ticketRefreshers: Record<TrackerName, (ticket: Ticket) => Promise<Ticket>> = {
  linear: async (ticket) => {
    const { getLinearIssue } = await import("./linear-api");
    const issue = await getLinearIssue({
      apiKey: await getSecret("LINEAR_API_KEY"),
      apiUrl: linearApiUrl(),
      id: ticket.id,
    });
    return {
      ...ticket,
      key: issue.identifier,
      title: issue.title,
      url: issue.url,
      description: capDescription(issue.description),
    };
  },
  jira: async (ticket) => ticket,
};

/** Each tracker's way to find a follow-up's thread. */
export const threadFinders: Record<TrackerName, FindThread> = {
  linear: findLinearThread,
  jira: findJiraThread,
};
