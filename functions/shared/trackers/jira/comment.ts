import { jiraSiteUrl, settings } from "../../platform/settings";
import type { Tracker } from "../tracker";
import { type AdfDocument, type AdfNode, buildJiraComment } from "./adf";
import { jiraCommentUrl, postJiraComment, updateJiraComment } from "./api";
import { jiraAuth } from "./client";

/**
 * Posts a run's comment on a Jira issue as ADF; a marker naming the run keeps a retried post from
 * duplicating. Jira has no threads: a reply in the thread is a new comment that links to the thread's root.
 */
export const postToJira: Tracker["postComment"] = async (ticket, comment, { trailer, placement = {} }) => {
  const auth = await jiraAuth();
  const link = comment.link ?? { url: "https://app.qa.tech", label: "QA.tech" };
  if (placement.replaceId) {
    await updateJiraComment({
      ...auth,
      issueKey: ticket.key,
      id: placement.replaceId,
      body: withTrailer(buildJiraComment(comment.markdown, link), trailer),
    });
    return { id: placement.replaceId, duplicate: false };
  }
  const inReplyTo = placement.parentId
    ? `In reply to [QA.tech's comment](${jiraCommentUrl(jiraSiteUrl(settings()), ticket.key, placement.parentId)}):\n\n`
    : "";
  return postJiraComment({
    ...auth,
    issueKey: ticket.key,
    body: withTrailer(buildJiraComment(`${inReplyTo}${comment.markdown}`, link), trailer),
    trailer,
  });
};

/** Appends the trailer to the last paragraph (the link line), or as its own paragraph: the comment's last line. */
export function withTrailer(body: AdfDocument, trailer: string): AdfDocument {
  const content = [...body.content];
  const last = content.at(-1);
  if (last?.type === "paragraph" && last.content?.length) {
    content[content.length - 1] = { ...last, content: [...last.content, text(` · ${trailer}`)] };
  } else {
    content.push({ type: "paragraph", content: [text(trailer)] });
  }
  return { ...body, content };
}

function text(value: string): AdfNode {
  return { type: "text", text: value };
}
