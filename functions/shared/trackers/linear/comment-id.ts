import { createHash } from "node:crypto";
import { TransientError } from "../../platform/errors";
import { classifyLinearError, withTimeout } from "./api";

/** A UUID (v4 layout) derived from `seed`: the same seed always gives the same comment id. */
export function deterministicUuid(seed: string): string {
  const h = createHash("sha256").update(seed).digest("hex");
  const variant = ((Number.parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export interface LinearCommentRequest {
  apiKey: string;
  apiUrl: string;
  issueId: string;
  body: string;
  /** Client-chosen comment id: a retried post that already landed is recognised, not duplicated. */
  commentId: string;
  parentId?: string;
  timeoutMs?: number;
}

/**
 * Posts a markdown comment on a Linear issue with @linear/sdk, idempotently: when the create fails,
 * the comment id is looked up, so a comment that landed before its answer was lost counts as posted.
 * The SDK is loaded on first use so functions that never comment on Linear never load it.
 */
export async function postLinearComment(
  req: LinearCommentRequest,
): Promise<{ id: string; duplicate: boolean }> {
  const { LinearClient } = await import("@linear/sdk");
  const client = new LinearClient({ apiKey: req.apiKey, apiUrl: req.apiUrl });
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
