import { buildJiraComment } from "../adf";
import type { TicketComment } from "../comment";
import { getSecret } from "../secrets";
import { jiraSettings } from "../settings";
import type { Ticket } from "../ticket";
import { postJiraComment } from "./jira-client";

/** Posts a run's comment on a Jira issue as ADF; a marker naming the run keeps a retried post from duplicating. */
export async function postToJira(ticket: Ticket, comment: TicketComment, runId: string) {
  const [email, apiToken] = await Promise.all([getSecret("JIRA_EMAIL"), getSecret("JIRA_API_TOKEN")]);
  const body = comment.link
    ? buildJiraComment(comment.markdown, comment.link)
    : buildJiraComment(comment.markdown, { url: "https://app.qa.tech", label: "QA.tech" });
  return postJiraComment({
    baseUrl: jiraSettings().baseUrl,
    email,
    apiToken,
    issueKey: ticket.key,
    body,
    marker: `${runId}/${comment.kind}`,
  });
}
