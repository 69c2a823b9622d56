import type { TicketComment } from "../comment";
import { getSecret } from "../secrets";
import { linearApiUrl } from "../settings";
import type { Ticket } from "../ticket";
import { deterministicUuid, postLinearComment } from "./linear-comment";

/** Renders a comment as Linear markdown: the text, then the conversation link under a rule. */
export function renderLinearComment(comment: TicketComment): string {
  if (!comment.link) return comment.markdown;
  return `${comment.markdown}\n\n---\n[${comment.link.label}](${comment.link.url})`;
}

/** Posts a run's comment on a Linear issue; the comment id is derived from the run, so retries never duplicate. */
export async function postToLinear(ticket: Ticket, comment: TicketComment, runId: string) {
  return postLinearComment({
    apiKey: await getSecret("LINEAR_API_KEY"),
    apiUrl: linearApiUrl(),
    issueId: ticket.id,
    body: renderLinearComment(comment),
    commentId: deterministicUuid(`${runId}:${comment.kind}`),
  });
}
