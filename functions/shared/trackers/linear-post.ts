import type { TicketComment } from "../comment";
import { stripUnsafeLinks } from "../safe-links";
import { getSecret } from "../secrets";
import { linearApiUrl } from "../settings";
import type { Ticket } from "../ticket";
import { updateLinearComment } from "./linear-api";
import { deterministicUuid, postLinearComment } from "./linear-comment";
import type { Placement } from "./placement";

/**
 * Renders a comment as Linear markdown: the text, then the conversation link under a rule. The text carries
 * QA.tech's reply, which is untrusted: its links to anything but http, https and mailto become plain text.
 */
export function renderLinearComment(comment: TicketComment): string {
  const markdown = stripUnsafeLinks(comment.markdown);
  if (!comment.link) return markdown;
  return `${markdown}\n\n---\n[${comment.link.label}](${comment.link.url})`;
}

/**
 * Posts a run's comment on a Linear issue, as a new comment, a reply in the thread (`parentId`) or the new
 * text of the acknowledgement; the comment id is derived from the run, so retries never duplicate.
 */
export async function postToLinear(
  ticket: Ticket,
  comment: TicketComment,
  runId: string,
  placement: Placement = {},
) {
  const auth = { apiKey: await getSecret("LINEAR_API_KEY"), apiUrl: linearApiUrl() };
  const body = renderLinearComment(comment);
  if (placement.replaceId) {
    await updateLinearComment({ ...auth, id: placement.replaceId, body });
    return { id: placement.replaceId, duplicate: false };
  }
  return postLinearComment({
    ...auth,
    issueId: ticket.id,
    body,
    parentId: placement.parentId,
    commentId: deterministicUuid(`${runId}:${comment.kind}`),
  });
}
