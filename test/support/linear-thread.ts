import type { Harness } from "../../simulators/harness";
import { linearFixture } from "../../simulators/signing";

/** ENG-42, the issue of the Linear fixtures (Issue.update.label-added and friends). */
export const LINEAR_ISSUE = "539068e2-ae88-4d09-bd75-22eb4a59612f";
export const JANE = "user-jane";

/** A Linear Comment webhook for a comment someone wrote (the comment must exist in the fake too). */
export function linearCommentEvent(comment: { id: string; body: string; parentId?: string; userId: string }) {
  const base = linearFixture("Comment.create");
  return {
    ...base,
    data: {
      ...comment,
      issueId: LINEAR_ISSUE,
      issue: { id: LINEAR_ISSUE, identifier: "ENG-42", title: "Checkout" },
    },
  };
}

/** A person replies in the thread under `parentId`; the comment lands in the fake, then its webhook. */
export async function replyOnLinear(h: Harness, body: string, parentId: string, userId = JANE) {
  const comment = h.linear.addComment({ issueId: LINEAR_ISSUE, body, userId, parentId });
  const res = await h.sendLinear(linearCommentEvent({ id: comment.id, body, parentId, userId }));
  await h.runner.settled();
  return res;
}
