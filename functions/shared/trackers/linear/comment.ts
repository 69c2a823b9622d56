import type { TicketComment } from "../../domain/comment";
import { keyedUuid } from "../../domain/marker";
import { stripUnsafeLinks } from "../../domain/safe-links";
import { getSecret } from "../../platform/secrets";
import type { Tracker } from "../tracker";
import { apiKeyIssues as issues } from "./issues";

/**
 * Renders a comment as Linear markdown: the text, then under a rule one line of our own, the conversation
 * link and the marker (as code, so a markdown round trip leaves it as it is). The text carries QA.tech's
 * reply, which is untrusted: its links to anything but http, https and mailto become plain text, and a code
 * fence it left open is closed, so our line renders as a line and stays the last one.
 */
export function renderLinearComment(comment: TicketComment, trailer: string): string {
  const markdown = stripUnsafeLinks(comment.markdown);
  const fences = markdown.split("\n").filter((line) => /^\s*(```|~~~)/.test(line)).length;
  const text = fences % 2 === 1 ? `${markdown}\n\`\`\`` : markdown;
  const link = comment.link ? `[${comment.link.label}](${comment.link.url}) · ` : "";
  return `${text}\n\n---\n${link}\`${trailer}\``;
}

/**
 * Posts a run's comment on a Linear issue, as a new comment, a reply in the thread (`parentId`) or the new
 * text of the acknowledgement; the comment id is keyed from the run and kind (keyedUuid), so retries never
 * duplicate and nobody without the marker key can claim the id first.
 */
export const postToLinear: Tracker["postComment"] = async (
  ticket,
  comment,
  { runId, trailer, placement = {} },
) => {
  const body = renderLinearComment(comment, trailer);
  if (placement.replaceId) {
    await issues.updateComment(placement.replaceId, body);
    return { id: placement.replaceId, duplicate: false };
  }
  return issues.postComment({
    issueId: ticket.id,
    body,
    parentId: placement.parentId,
    commentId: keyedUuid(await getSecret("MARKER_KEY"), `${runId}:${comment.kind}`),
    trailer,
  });
};
