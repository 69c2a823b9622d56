import { createHash } from "node:crypto";
import { v4 as uuidv4 } from "uuid";
import type { TicketComment } from "../../domain/comment";
import { stripUnsafeLinks } from "../../domain/safe-links";
import { TransientError } from "../../platform/errors";
import type { Tracker } from "../tracker";
import {
  classifyLinearError,
  type LinearAuth,
  linearAuth,
  linearClient,
  updateLinearComment,
  withTimeout,
} from "./api";

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
 * text of the acknowledgement; the comment id is derived from the run, so retries never duplicate.
 */
export const postToLinear: Tracker["postComment"] = async (
  ticket,
  comment,
  { runId, trailer, placement = {} },
) => {
  const auth = await linearAuth();
  const body = renderLinearComment(comment, trailer);
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
};

/**
 * A comment id derived from `seed`: the same seed always gives the same id, so a retried post is known
 * by it. A v4 UUID whose random bytes are the seed's digest: Linear takes client-chosen ids in v4 format.
 */
export function deterministicUuid(seed: string): string {
  return uuidv4({ random: createHash("sha256").update(seed).digest().subarray(0, 16) });
}

export interface LinearCommentRequest extends LinearAuth {
  issueId: string;
  body: string;
  /** Client-chosen comment id: a retried post that already landed is recognised, not duplicated. */
  commentId: string;
  parentId?: string;
}

/**
 * Posts a markdown comment on a Linear issue with @linear/sdk, idempotently: when the create fails,
 * the comment id is looked up, so a comment that landed before its answer was lost counts as posted.
 */
export async function postLinearComment(
  req: LinearCommentRequest,
): Promise<{ id: string; duplicate: boolean }> {
  const client = await linearClient(req);
  const timeoutMs = req.timeoutMs ?? 10_000;
  try {
    const payload = await withTimeout(
      client.createComment({
        id: req.commentId,
        issueId: req.issueId,
        body: req.body,
        parentId: req.parentId,
      }),
      timeoutMs,
      "createComment",
    );
    return { id: payload.commentId ?? req.commentId, duplicate: false };
  } catch (error) {
    const existing = await withTimeout(client.comment({ id: req.commentId }), timeoutMs, "comment").catch(
      () => null,
    );
    if (existing?.id === req.commentId) return { id: existing.id, duplicate: true };
    throw error instanceof TransientError ? error : classifyLinearError(error, "the comment");
  }
}
