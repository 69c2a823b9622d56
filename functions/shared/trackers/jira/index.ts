import type { Tracker } from "../tracker";
import { listJiraRemoteLinks, moveJiraIssue, setJiraLabels } from "./api";
import { jiraAuth } from "./client";
import { postToJira } from "./comment";
import { findJiraThread, refreshJiraTicket } from "./thread";

/** Jira Cloud, through its REST API v3 (comments in Atlassian Document Format). */
export const jira: Tracker = {
  postComment: postToJira,
  async setLabels(ticket, add, remove) {
    await setJiraLabels({ ...(await jiraAuth()), issueKey: ticket.key, add, remove });
    return { skipped: [] };
  },
  findThread: findJiraThread,
  refreshTicket: refreshJiraTicket,
  // Remote links ("web links"): a pull request or a preview someone linked. Jira's development panel (the
  // GitHub and GitLab integrations' pull requests) has no public API, so those are not seen.
  async linkedUrls(ticket) {
    return listJiraRemoteLinks({ ...(await jiraAuth()), issueKey: ticket.key });
  },
  async moveTicket(ticket, to) {
    return moveJiraIssue({ ...(await jiraAuth()), issueKey: ticket.key, to });
  },
};
