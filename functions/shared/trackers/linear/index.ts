import type { Tracker } from "../tracker";
import { linearAuth } from "./client";
import { postToLinear } from "./comment";
import { linearIssueOperations } from "./issues";
import { findLinearThread } from "./thread";

const issues = linearIssueOperations(linearAuth);

/** Linear, through @linear/sdk (loaded on first use by each call), with the API key. */
export const linear: Tracker = {
  postComment: postToLinear,
  setLabels: issues.setLabels,
  findThread: findLinearThread,
  refreshTicket: issues.refreshTicket,
  linkedUrls: issues.attachmentUrls,
};
