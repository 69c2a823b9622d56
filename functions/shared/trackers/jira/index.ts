import type { Tracker } from "../tracker";
import { moveJiraIssue, setJiraLabels } from "./api";
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
  // Jira shows linked pull requests in its development panel, which has no public API.
  linkedUrls: async () => [],
  async moveTicket(ticket, to) {
    return moveJiraIssue({ ...(await jiraAuth()), issueKey: ticket.key, to });
  },
};
