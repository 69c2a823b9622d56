import { parseFollowUp } from "../../domain/follow-up";
import { conversationWithProject, readMarker } from "../../domain/marker";
import { boundedTicket, type FollowUp, type Ticket } from "../../domain/ticket";
import { getSecret } from "../../platform/secrets";
import { settings } from "../../platform/settings";
import type { FoundThread } from "../tracker";
import { adfToText } from "./adf-text";
import { getJiraIssue, getJiraMyself, listJiraComments } from "./api";
import { jiraAuth } from "./client";

/**
 * Jira has no threads: the conversation is the one named by the newest of our comments whose marker is
 * signed for this ticket, and the thread's root is the acknowledgement of that conversation (else the
 * oldest of our comments naming it).
 */
export async function findJiraThread(ticket: Ticket, followUp: FollowUp): Promise<FoundThread> {
  const auth = await jiraAuth();
  const me = await getJiraMyself(auth);
  if (followUp.authorId === me) return { own: true, root: null };
  const key = await getSecret("MARKER_KEY");
  // Newest first.
  const ours = (await listJiraComments({ ...auth, issueKey: ticket.key }))
    .filter((comment) => comment.authorAccountId === me)
    .map((comment) => ({ id: comment.id, marker: readMarker(key, ticket, adfToText(comment.body)) }))
    .filter((comment) => comment.marker?.conversationId);
  const id = ours[0]?.marker?.conversationId;
  if (!id) {
    // No conversation of ours: only the trigger label, which only people who may edit the issue can add,
    // lets `@qa retry` start one (comment_created carries no labels, so they are read back, for retry only).
    const asked = parseFollowUp(followUp.text);
    if (!("command" in asked && asked.command === "retry")) return { own: false, root: null };
    const issue = await getJiraIssue({ ...auth, issueKey: ticket.key });
    return { own: false, root: null, labelled: issue.labels.includes(settings().jira.triggerLabel) };
  }
  const naming = ours.filter((c) => c.marker?.conversationId === id);
  const root = naming.find((c) => c.marker?.kind === "ack") ?? naming.at(-1);
  // The project travels with the conversation in the marker that names it (the newest).
  const conversation = conversationWithProject(id, ours[0]?.marker?.projectShortId);
  return { own: false, root: root ? { rootId: root.id, conversation } : null };
}

/** The issue's text and labels read back: comment_created carries only some of the issue's fields. */
export async function refreshJiraTicket(ticket: Ticket): Promise<Ticket> {
  const issue = await getJiraIssue({ ...(await jiraAuth()), issueKey: ticket.key });
  return boundedTicket({
    ...ticket,
    title: issue.summary,
    description: issue.description,
    labels: issue.labels,
  });
}
