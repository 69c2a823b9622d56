import type { Tracker } from "../tracker";
import { postToLinear } from "./comment";
import { apiKeyIssues as issues } from "./issues";
import { findLinearThread } from "./thread";

/** Linear, through @linear/sdk (loaded on first use by each call), with the API key. */
export const linear: Tracker = {
  postComment: postToLinear,
  setLabels: issues.setLabels,
  findThread: findLinearThread,
  refreshTicket: issues.refreshTicket,
  linkedUrls: issues.attachmentUrls,
  moveTicket: issues.moveTicket,
};
