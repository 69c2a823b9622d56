import type { TicketComment } from "../../domain/comment";
import { endsWithTrailer, keyedUuid } from "../../domain/marker";
import { stripUnsafeLinks } from "../../domain/safe-links";
import { PermanentError, TransientError } from "../../platform/errors";
import { getSecret } from "../../platform/secrets";
import type { Tracker } from "../tracker";
import {
  classifyLinearError,
  getLinearComment,
  type LinearAuth,
  linearAuth,
  linearClient,
  linearViewerId,
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
 * text of the acknowledgement; the comment id is keyed from the run and kind (keyedUuid), so retries never
 * duplicate and nobody without the marker key can claim the id first.
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
    commentId: keyedUuid(await getSecret("MARKER_KEY"), `${runId}:${comment.kind}`),
    trailer,
  });
};

export interface LinearCommentRequest extends LinearAuth {
  issueId: string;
  /** The comment's markdown; it ends with `trailer`. */
  body: string;
  /** Client-chosen comment id: a retried post that already landed is recognised, not duplicated. */
  commentId: string;
  /** This run's marker for this comment: what a comment found under `commentId` must end with to be ours. */
  trailer: string;
  parentId?: string;
}

/**
 * Posts a markdown comment on a Linear issue with @linear/sdk, idempotently: when the create fails, the
 * comment id is looked up, so a comment that landed before its answer was lost counts as posted. It counts
 * only when it is provably that comment: written by the API key's user, on this issue, ending with this
 * run's trailer. Any other comment under the id is someone else's: a PermanentError, never a success.
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
    // A lookup that failed for a moment proves nothing: another try may find our comment. Otherwise the
    // create's own error decides (a retry, or a refusal).
    const [existing, viewer] = await Promise.all([
      getLinearComment({ ...req, id: req.commentId }),
      linearViewerId(req),
    ]).catch((lookupError: unknown) => {
      if (lookupError instanceof TransientError) throw lookupError;
      return [null, null] as const;
    });
    if (existing && viewer) {
      if (
        existing.userId === viewer &&
        existing.issueId === req.issueId &&
        endsWithTrailer(existing.body, req.trailer)
      )
        return { id: existing.id, duplicate: true };
      throw new PermanentError(
        `Linear comment id ${req.commentId} is already taken by someone else: the comment under it is not ` +
          "this run's (by our user, on this issue, with this run's marker); nothing was posted",
        { cause: error },
      );
    }
    throw error instanceof TransientError ? error : classifyLinearError(error, "the comment");
  }
}
