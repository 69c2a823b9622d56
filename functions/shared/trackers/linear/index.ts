import type { Tracker } from "../tracker";
import { getLinearAttachmentUrls, linearAuth, setLinearLabels } from "./api";
import { postToLinear } from "./comment";
import { findLinearThread, refreshLinearTicket } from "./thread";

/** Linear, through @linear/sdk (loaded on first use by each call). */
export const linear: Tracker = {
  postComment: postToLinear,
  async setLabels(ticket, add, remove) {
    return setLinearLabels({
      ...(await linearAuth()),
      issueId: ticket.id,
      teamId: ticket.teamId,
      add,
      remove,
    });
  },
  findThread: findLinearThread,
  refreshTicket: refreshLinearTicket,
  // Linear's GitHub and GitLab integrations attach linked pull requests to the issue.
  async linkedUrls(ticket) {
    return getLinearAttachmentUrls({ ...(await linearAuth()), issueId: ticket.id });
  },
};
