import type { TicketComment } from "../domain/comment";
import type { Placement } from "../domain/placement";
import type { Ticket, TrackerName } from "../domain/ticket";
import { getSecret } from "../platform/secrets";
import { linearApiUrl } from "../platform/settings";

/** How a comment is posted: once per run and kind, ending with its marker, where `placement` says. */
export interface PostOptions {
  runId: string;
  /** The comment's marker line (marker.ts): written last, the only part of it that is read back. */
  trailer: string;
  placement?: Placement;
}

/** Posts a run's comment on its ticket, at most once per run and kind. */
export type PostComment = (
  ticket: Ticket,
  comment: TicketComment,
  options: PostOptions,
) => Promise<{ id: string; duplicate: boolean }>;

/**
 * The comment side of each tracker, loaded on first use so a run on one tracker never loads the
 * other's SDK. The workflow picks the adapter here and nowhere else.
 */
export const commenters: Record<TrackerName, () => Promise<PostComment>> = {
  linear: async () => (await import("./linear/comment")).postToLinear,
  jira: async () => (await import("./jira/comment")).postToJira,
};

/** Adds and removes labels (by name) on a ticket; returns the names that do not exist there. */
export type SetLabels = (ticket: Ticket, add: string[], remove: string[]) => Promise<{ skipped: string[] }>;

/** The label side of each tracker, loaded on first use like the comment side. */
export const labelers: Record<TrackerName, () => Promise<SetLabels>> = {
  linear: async () => {
    const { setLinearLabels } = await import("./linear/api");
    return async (ticket, add, remove) =>
      setLinearLabels({
        apiKey: await getSecret("LINEAR_API_KEY"),
        apiUrl: linearApiUrl(),
        issueId: ticket.id,
        teamId: ticket.teamId,
        add,
        remove,
      });
  },
  jira: async () => {
    const [{ setJiraLabels }, { jiraAuthFromEnv }] = await Promise.all([
      import("./jira/api"),
      import("./jira/comment"),
    ]);
    return async (ticket, add, remove) => {
      await setJiraLabels({ ...(await jiraAuthFromEnv()), issueKey: ticket.key, add, remove });
      return { skipped: [] };
    };
  },
};

/** Lists the links a ticket carries outside its text (untrusted, like the text). */
export type ReadLinks = (ticket: Ticket) => Promise<string[]>;

/**
 * Where each tracker keeps links outside the ticket's text, loaded on first use like the comment side.
 * Linear's GitHub and GitLab integrations attach linked pull requests to the issue; Jira shows them in its
 * development panel, which has no public API, so there is nothing more to read there.
 */
export const linkReaders: Record<TrackerName, () => Promise<ReadLinks>> = {
  linear: async () => {
    const { getLinearAttachmentUrls } = await import("./linear/api");
    return async (ticket) =>
      getLinearAttachmentUrls({
        apiKey: await getSecret("LINEAR_API_KEY"),
        apiUrl: linearApiUrl(),
        issueId: ticket.id,
      });
  },
  jira: async () => async () => [],
};
