import { endsWithTrailer } from "../../domain/marker";
import { byName, type MoveResult, nameList, notMoved } from "../../domain/moves";
import type { Ticket } from "../../domain/ticket";
import { boundedTicket, LABELS_MAX } from "../../domain/ticket";
import { PermanentError, TransientError } from "../../platform/errors";
import { isNotFound, type LinearAuth, linearAuth, linearCall } from "./client";

/** A comment as this module reads it back. */
export interface LinearCommentInfo {
  id: string;
  body: string;
  /** The author; undefined for comments written by an integration bot actor without a user. */
  userId?: string;
  /** The thread's root comment, when this is a reply. */
  parentId?: string;
  issueId?: string;
}

/** Viewer ids by apiUrl + apiKey; a failed lookup is not cached. */
const viewerIds = new Map<string, Promise<string>>();

/** Forgets cached viewer ids (tests that restart a fake with another viewer). */
export function clearLinearViewerCache(): void {
  viewerIds.clear();
}

/**
 * The id of the user the API key belongs to (to ignore the integration's own comments). Cached in module
 * scope per API key (and API URL), so a warm Lambda asks once.
 */
export function linearViewerId(opts: LinearAuth): Promise<string> {
  const key = `${opts.apiUrl}\n${opts.accessToken ?? opts.apiKey}`;
  const cached = viewerIds.get(key);
  if (cached) return cached;
  const lookup = linearCall(opts, "viewer", async (client) => {
    const viewer = await client.viewer;
    if (typeof viewer?.id !== "string" || viewer.id === "") {
      throw new PermanentError("Linear answered viewer without an id; check the Linear API URL");
    }
    return viewer.id;
  });
  viewerIds.set(key, lookup);
  lookup.catch(() => viewerIds.delete(key));
  return lookup;
}

/** Reads one comment; null when Linear says it does not exist (deleted, or another workspace's id). */
export async function getLinearComment(opts: LinearAuth & { id: string }): Promise<LinearCommentInfo | null> {
  return linearCall(opts, "comment", async (client) => {
    try {
      const comment = await client.comment({ id: opts.id });
      if (!comment) return null;
      const info: LinearCommentInfo = { id: comment.id, body: comment.body };
      if (comment.userId) info.userId = comment.userId;
      if (comment.parentId) info.parentId = comment.parentId;
      if (comment.issueId) info.issueId = comment.issueId;
      return info;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  });
}

/** Replaces a comment's markdown body (the integration can only edit its own comments). */
export async function updateLinearComment(opts: LinearAuth & { id: string; body: string }): Promise<void> {
  const payload = await linearCall(opts, "updateComment", (client) =>
    client.updateComment(opts.id, { body: opts.body }),
  );
  if (!payload.success) throw new PermanentError(`Linear did not update comment ${opts.id} (success: false)`);
}

interface LabelNode {
  id: string;
  name: string;
  teamId?: string;
  isGroup?: boolean;
}

/** The labels named `names` (case-insensitively) that an issue of `teamId` can carry: the team's and the workspace's. */
async function teamLabels(
  opts: LinearAuth,
  teamId: string | undefined,
  names: string[],
): Promise<LabelNode[]> {
  return linearCall(opts, "issueLabels", async (client) => {
    const nameFilter = { or: names.map((name) => ({ name: { eqIgnoreCase: name } })) };
    const teamFilter = teamId
      ? { or: [{ team: { null: true } }, { team: { id: { eq: teamId } } }] }
      : { team: { null: true } };
    const connection = await client.issueLabels({ filter: { and: [nameFilter, teamFilter] }, first: 250 });
    return connection.nodes.map(
      (node): LabelNode => ({ id: node.id, name: node.name, teamId: node.teamId, isGroup: node.isGroup }),
    );
  });
}

/**
 * Adds and removes labels on an issue by NAME, matched case-insensitively among the labels of the issue's
 * team and the workspace; a team label wins over a workspace label of the same name. Linear refuses a whole
 * update that adds another team's label, so those are never candidates. Only labels the issue has are
 * removed. Names that match no label are not created: they are skipped and returned so the caller can log
 * them. One `updateIssue` with addedLabelIds/removedLabelIds does the change; nothing is sent when nothing
 * changes.
 *
 * The issue is read for its current labels and team. `teamId` (from the webhook) lets the label lookup run
 * alongside that read; when the issue has moved to another team since, the lookup is redone for that team.
 */
export async function setLinearLabels(
  opts: LinearAuth & { issueId: string; teamId?: string; add: string[]; remove: string[] },
): Promise<{ skipped: string[] }> {
  const names = [...new Set([...opts.add, ...opts.remove].map((n) => n.trim()).filter((n) => n !== ""))];
  if (names.length === 0) return { skipped: [] };

  const [issue, early] = await Promise.all([
    linearCall(opts, "issue", async (client) => {
      const found = await client.issue(opts.issueId);
      return { teamId: found.teamId, labelIds: new Set(found.labelIds) };
    }),
    opts.teamId ? teamLabels(opts, opts.teamId, names) : undefined,
  ]);
  const teamId = issue.teamId ?? opts.teamId;
  const labels = early && teamId === opts.teamId ? early : await teamLabels(opts, teamId, names);

  // A group label cannot be applied to an issue; it is only a container.
  const candidates = labels.filter((label) => !label.isGroup);
  const matching = (name: string) => candidates.filter((l) => l.name.toLowerCase() === name.toLowerCase());
  const skipped: string[] = [];
  const added = new Set<string>();
  const removed = new Set<string>();
  for (const name of opts.add) {
    const found = matching(name.trim());
    const best = found.find((l) => teamId !== undefined && l.teamId === teamId) ?? found[0];
    if (best) added.add(best.id);
    else skipped.push(name);
  }
  for (const name of opts.remove) {
    // The issue may carry the workspace label by that name, the team's, or both.
    const found = matching(name.trim());
    for (const label of found)
      if (issue.labelIds.has(label.id) && !added.has(label.id)) removed.add(label.id);
    if (found.length === 0) skipped.push(name);
  }
  if (added.size === 0 && removed.size === 0) return { skipped };

  const payload = await linearCall(opts, "updateIssue", (client) =>
    client.updateIssue(opts.issueId, {
      ...(added.size ? { addedLabelIds: [...added] } : {}),
      ...(removed.size ? { removedLabelIds: [...removed] } : {}),
    }),
  );
  if (!payload.success) throw new PermanentError(`Linear did not update the labels of ${opts.issueId}`);
  return { skipped };
}

interface StateNode {
  id: string;
  name: string;
}

/** A team's workflow states (Linear's order), archived ones left out as Linear leaves them out by default. */
async function teamStates(opts: LinearAuth, teamId: string): Promise<StateNode[]> {
  return linearCall(opts, "workflowStates", async (client) => {
    const connection = await client.workflowStates({ filter: { team: { id: { eq: teamId } } }, first: 250 });
    return connection.nodes.map((node): StateNode => ({ id: node.id, name: node.name }));
  });
}

/**
 * Moves an issue to the workflow state named `to` in the issue's team: the exact name first, then the same
 * name in any case. Each team has its own workflow, so only the team's states are candidates
 * (https://linear.app/docs/configuring-workflows); the issue is read for its team and state, and an issue
 * already in that state is left alone. `teamId` (from the webhook) lets the states be read alongside the
 * issue; when the issue has moved to another team since, that team's states are read.
 *
 * Linear's transient failures are thrown (TransientError); a refusal, a missing state or an issue Linear
 * will not show is `moved: false` with the reason.
 */
export async function moveLinearIssue(
  opts: LinearAuth & { issueId: string; teamId?: string; key: string; to: string },
): Promise<MoveResult> {
  const to = opts.to.trim();
  let key = opts.key;
  try {
    const [issue, early] = await Promise.all([
      linearCall(opts, "issue", async (client) => {
        const found = await client.issue(opts.issueId);
        return { identifier: found.identifier, teamId: found.teamId, stateId: found.stateId };
      }),
      opts.teamId ? teamStates(opts, opts.teamId) : undefined,
    ]);
    key = issue.identifier || key;
    const teamId = issue.teamId ?? opts.teamId;
    // An issue's identifier starts with its team's key (ENG-42), and changes with its team.
    const team = key.split("-")[0];
    if (!teamId)
      return notMoved(`Linear did not say which team ${key} is in, so it was not moved to "${to}"`);
    const states = early && teamId === opts.teamId ? early : await teamStates(opts, teamId);
    const state = byName(states, to, (s) => s.name);
    if (!state)
      return notMoved(
        `Linear has no workflow state named "${to}" in team ${team} (its states: ${nameList(states.map((s) => s.name))})`,
      );
    if (issue.stateId === state.id) return { moved: true, to: state.name };
    const payload = await linearCall(opts, "updateIssue", (client) =>
      client.updateIssue(opts.issueId, { stateId: state.id }),
    );
    if (!payload.success) return notMoved(`Linear did not move ${key} to "${state.name}" (success: false)`);
    return { moved: true, to: state.name };
  } catch (error) {
    if (error instanceof PermanentError) return notMoved(`${key} was not moved to "${to}": ${error.message}`);
    throw error;
  }
}

/**
 * An issue's text, team and label names, read back: what a new conversation needs when a run starts from a
 * comment or an agent session (whose payloads carry no labels). The names come from the issue's labelIds.
 */
export async function getLinearIssue(opts: LinearAuth & { id: string }): Promise<{
  identifier: string;
  title: string;
  description: string;
  url: string;
  teamId?: string;
  labels: string[];
}> {
  const issue = await linearCall(opts, "issue", async (client) => {
    const issue = await client.issue(opts.id);
    return {
      identifier: issue.identifier,
      title: issue.title,
      description: issue.description ?? "",
      url: issue.url,
      teamId: issue.teamId,
      labelIds: (issue.labelIds ?? []).slice(0, LABELS_MAX),
    };
  });
  const { labelIds, ...rest } = issue;
  if (labelIds.length === 0) return { ...rest, labels: [] };
  const labels = await linearCall(opts, "issueLabels", async (client) => {
    const connection = await client.issueLabels({ filter: { id: { in: labelIds } }, first: LABELS_MAX });
    return connection.nodes.map((node) => node.name);
  });
  return { ...rest, labels };
}

/**
 * The URLs of an issue's attachments (at most `first`, default 50): where Linear's GitHub and GitLab
 * integrations put the pull requests linked to it. Untrusted text, like the issue's description.
 */
export async function getLinearAttachmentUrls(
  opts: LinearAuth & { issueId: string; first?: number },
): Promise<string[]> {
  return linearCall(opts, "attachments", async (client) => {
    const issue = await client.issue(opts.issueId);
    const attachments = await issue.attachments({ first: opts.first ?? 50 });
    return attachments.nodes.map((attachment) => attachment.url).filter((url) => typeof url === "string");
  });
}

export interface LinearCommentRequest extends LinearAuth {
  issueId: string;
  /** The comment's markdown; it ends with `trailer`. */
  body: string;
  /** Client-chosen comment id: a retried post that already landed is recognised, not duplicated. */
  commentId: string;
  /** This run's marker for this comment: what a comment found under `commentId` must end with to be ours. */
  trailer: string;
  parentId?: string;
}

/**
 * Posts a markdown comment on a Linear issue with @linear/sdk, idempotently: when the create fails, the
 * comment id is looked up, so a comment that landed before its answer was lost counts as posted. It counts
 * only when it is provably that comment: written by the API key's user, on this issue, ending with this
 * run's trailer. Any other comment under the id is someone else's: a PermanentError, never a success.
 */
export async function postLinearComment(
  req: LinearCommentRequest,
): Promise<{ id: string; duplicate: boolean }> {
  try {
    // "the comment": the refusal's text is what a failed run shows on the ticket.
    const payload = await linearCall(req, "the comment", (client) =>
      client.createComment({
        id: req.commentId,
        issueId: req.issueId,
        body: req.body,
        parentId: req.parentId,
      }),
    );
    return { id: payload.commentId ?? req.commentId, duplicate: false };
  } catch (error) {
    // linearCall maps every answer (or silence) of Linear's: anything else (the SDK did not load) never
    // reached Linear, so there is nothing to look up.
    if (!(error instanceof TransientError || error instanceof PermanentError)) throw error;
    // A lookup that failed for a moment proves nothing: another try may find our comment. Otherwise the
    // create's own error decides (a retry, or a refusal).
    const [existing, viewer] = await Promise.all([
      getLinearComment({ ...req, id: req.commentId }),
      linearViewerId(req),
    ]).catch((lookupError: unknown) => {
      if (lookupError instanceof TransientError) throw lookupError;
      return [null, null] as const;
    });
    if (existing && viewer) {
      if (
        existing.userId === viewer &&
        existing.issueId === req.issueId &&
        endsWithTrailer(existing.body, req.trailer)
      )
        return { id: existing.id, duplicate: true };
      throw new PermanentError(
        `Linear comment id ${req.commentId} is already taken by someone else: the comment under it is not ` +
          "this run's (by our user, on this issue, with this run's marker); nothing was posted",
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * The issue's text and team read back: a Comment webhook carries neither the description nor the team.
 */
export async function refreshLinearTicket(ticket: Ticket, auth: LinearAuth): Promise<Ticket> {
  const issue = await getLinearIssue({ ...auth, id: ticket.id });
  return boundedTicket({
    ...ticket,
    key: issue.identifier,
    title: issue.title,
    url: issue.url,
    description: issue.description,
    teamId: issue.teamId,
    labels: issue.labels,
  });
}

/** The issue operations a tracker needs, each with the credentials `auth` gives at the time of the call. */
export interface LinearIssueOperations {
  /** Posts a comment idempotently (postLinearComment). */
  postComment(req: Omit<LinearCommentRequest, keyof LinearAuth>): Promise<{ id: string; duplicate: boolean }>;
  updateComment(id: string, body: string): Promise<void>;
  setLabels(ticket: Ticket, add: string[], remove: string[]): Promise<{ skipped: string[] }>;
  refreshTicket(ticket: Ticket): Promise<Ticket>;
  attachmentUrls(ticket: Ticket): Promise<string[]>;
  /** Moves the issue to a workflow state of its team, by name (moveLinearIssue). */
  moveTicket(ticket: Ticket, to: string): Promise<MoveResult>;
  viewerId(): Promise<string>;
  comment(id: string): Promise<LinearCommentInfo | null>;
}

/**
 * The issue operations built once from an auth: the Linear tracker's with the API key (linearAuth), the
 * agent's with its OAuth token, whose `renew` refreshes the tokens. Both then take the same code path.
 */
export function linearIssueOperations(auth: () => Promise<LinearAuth>): LinearIssueOperations {
  return {
    async postComment(req) {
      return postLinearComment({ ...(await auth()), ...req });
    },
    async updateComment(id, body) {
      return updateLinearComment({ ...(await auth()), id, body });
    },
    async setLabels(ticket, add, remove) {
      return setLinearLabels({ ...(await auth()), issueId: ticket.id, teamId: ticket.teamId, add, remove });
    },
    async refreshTicket(ticket) {
      return refreshLinearTicket(ticket, await auth());
    },
    // Linear's GitHub and GitLab integrations attach linked pull requests to the issue.
    async attachmentUrls(ticket) {
      return getLinearAttachmentUrls({ ...(await auth()), issueId: ticket.id });
    },
    async moveTicket(ticket, to) {
      return moveLinearIssue({
        ...(await auth()),
        issueId: ticket.id,
        teamId: ticket.teamId,
        key: ticket.key,
        to,
      });
    },
    async viewerId() {
      return linearViewerId(await auth());
    },
    async comment(id) {
      return getLinearComment({ ...(await auth()), id });
    },
  };
}

/** The Linear tracker's issue operations, with the API key: one set, shared by index.ts, comment.ts and thread.ts. */
export const apiKeyIssues = linearIssueOperations(linearAuth);
