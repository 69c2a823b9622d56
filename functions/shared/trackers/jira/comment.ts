import { getSecret } from "../../platform/secrets";
import { jiraSettings } from "../../platform/settings";
import type { PostComment } from "..";
import { buildJiraComment } from "./adf";
import { jiraCommentUrl, updateJiraComment } from "./api";
import { type JiraAuth, postJiraComment, withTrailer } from "./client";

/** How to reach Jira as the integration's account: JIRA_BASE_URL and the JIRA_EMAIL / JIRA_API_TOKEN secrets. */
export async function jiraAuthFromEnv(): Promise<JiraAuth> {
  const [email, apiToken] = await Promise.all([getSecret("JIRA_EMAIL"), getSecret("JIRA_API_TOKEN")]);
  return { baseUrl: jiraSettings().baseUrl, email, apiToken };
}

/**
 * Posts a run's comment on a Jira issue as ADF; a marker naming the run keeps a retried post from
 * duplicating. Jira has no threads: a reply in the thread is a new comment that links to the thread's root.
 */
export const postToJira: PostComment = async (ticket, comment, { trailer, placement = {} }) => {
  const auth = await jiraAuthFromEnv();
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
    ? `In reply to [QA.tech's comment](${jiraCommentUrl(jiraSettings().siteUrl, ticket.key, placement.parentId)}):\n\n`
    : "";
  return postJiraComment({
    ...auth,
    issueKey: ticket.key,
    body: buildJiraComment(`${inReplyTo}${comment.markdown}`, link),
    trailer,
  });
};
