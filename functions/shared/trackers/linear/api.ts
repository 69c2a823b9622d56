import type { LinearClient } from "@linear/sdk";
import { capText, PEER_TEXT_MAX_BYTES } from "../../domain/limits";
import { PermanentError, TransientError } from "../../platform/errors";
import { isObject } from "../../platform/json";
import { redactSecrets } from "../../platform/redact";
import { getSecret } from "../../platform/secrets";
import { settings } from "../../platform/settings";

/** How to reach Linear as the integration: the LINEAR_API_KEY secret and the configured API URL. */
export async function linearAuth(): Promise<LinearAuth & { apiKey: string }> {
  return { apiKey: await getSecret("LINEAR_API_KEY"), apiUrl: settings().linear.apiUrl };
}

/** How to reach Linear as the integration: its API key, or (the Linear agent) the app's OAuth access token. */
export interface LinearAuth {
  apiKey?: string;
  /** An OAuth access token (sent as `Bearer ...`); used instead of apiKey when set. */
  accessToken?: string;
  apiUrl: string;
  /** Per SDK call; default 10 s. */
  timeoutMs?: number;
  /**
   * For a token that can be refreshed (the Linear agent's): newer credentials after Linear answered 401. Each
   * call then asks once and sends itself again; a second 401 is an error like any other.
   */
  renew?: () => Promise<LinearAuth>;
}

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

/** LinearErrorType values (the SDK's enum, as strings) that are worth another try. */
const TRANSIENT_LINEAR_ERRORS = new Set([
  "Ratelimited",
  "NetworkError",
  "InternalError",
  "LockTimeout",
  "Unknown",
]);

/** Maps an SDK error to TransientError (rate limits, network, Linear's own faults) or PermanentError. */
export function classifyLinearError(error: unknown, what: string): Error {
  if (error instanceof TransientError || error instanceof PermanentError) return error;
  const type = isObject(error) && typeof error.type === "string" ? error.type : "Unknown";
  const said = capText(
    redactSecrets(error instanceof Error ? error.message : String(error)),
    PEER_TEXT_MAX_BYTES,
  );
  const message = `Linear refused ${what} (${type}): ${said}`;
  if (TRANSIENT_LINEAR_ERRORS.has(type)) {
    const retryAfter = retryAfterOf(error);
    return new TransientError(message, { cause: error, retryAfterSeconds: retryAfter });
  }
  const status = isObject(error) && typeof error.status === "number" ? error.status : undefined;
  return new PermanentError(message, { cause: error, status });
}

/**
 * How long Linear asked us to wait: the SDK's `retryAfter` (Retry-After), else the time until the request
 * budget resets (`requestsResetAt`, X-RateLimit-Requests-Reset, Unix ms), in whole seconds.
 */
function retryAfterOf(error: unknown, now = Date.now()): number | undefined {
  if (!isObject(error)) return undefined;
  if (typeof error.retryAfter === "number") return error.retryAfter;
  if (typeof error.requestsResetAt === "number" && error.requestsResetAt > now)
    return Math.ceil((error.requestsResetAt - now) / 1000);
  return undefined;
}

/** Linear answers a lookup of a missing entity with an "invalid input" error saying "Entity not found". */
function isNotFound(error: unknown): boolean {
  if (!isObject(error) || error.type !== "InvalidInput") return false;
  const messages = [error instanceof Error ? error.message : ""];
  if (Array.isArray(error.errors)) {
    for (const e of error.errors) if (isObject(e) && typeof e.message === "string") messages.push(e.message);
  }
  return messages.some((m) => /not found|could not find/i.test(m));
}

/** Bounds an SDK call, which has no timeout of its own: a hung Linear becomes a retry, not a dead Lambda. */
export async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TransientError(`Linear did not answer ${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The SDK is loaded on first use so functions that never talk to Linear never load it. */
export async function linearClient(auth: LinearAuth): Promise<LinearClient> {
  const { LinearClient } = await import("@linear/sdk");
  return auth.accessToken
    ? new LinearClient({ accessToken: auth.accessToken, apiUrl: auth.apiUrl })
    : new LinearClient({ apiKey: auth.apiKey, apiUrl: auth.apiUrl });
}

/** An SDK error that means "this token is not (or no longer) accepted": Linear's 401. */
export function isAuthenticationError(error: unknown): boolean {
  const inner = isObject(error) && error.cause !== undefined ? error.cause : error;
  return isObject(inner) && inner.type === "AuthenticationError";
}

/**
 * One SDK call with a timeout and error mapping (a rate limit becomes a TransientError carrying Linear's
 * Retry-After); a 401 with credentials that can be renewed is sent once more with the renewed ones.
 */
export async function linearCall<T>(
  auth: LinearAuth,
  what: string,
  work: (client: LinearClient) => Promise<T>,
): Promise<T> {
  let current = auth;
  for (let attempt = 1; ; attempt++) {
    const client = await linearClient(current);
    try {
      return await withTimeout(work(client), auth.timeoutMs ?? 10_000, what);
    } catch (error) {
      if (attempt === 1 && current.renew && isAuthenticationError(error)) {
        current = await current.renew();
        continue;
      }
      throw classifyLinearError(error, what);
    }
  }
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
  const client = await linearClient(opts);
  try {
    const comment = await withTimeout(client.comment({ id: opts.id }), opts.timeoutMs ?? 10_000, "comment");
    if (!comment) return null;
    const info: LinearCommentInfo = { id: comment.id, body: comment.body };
    if (comment.userId) info.userId = comment.userId;
    if (comment.parentId) info.parentId = comment.parentId;
    if (comment.issueId) info.issueId = comment.issueId;
    return info;
  } catch (error) {
    if (isNotFound(error)) return null;
    throw classifyLinearError(error, "comment");
  }
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

/** An issue's text and team, read back: what a new conversation needs when a run starts from a comment. */
export async function getLinearIssue(
  opts: LinearAuth & { id: string },
): Promise<{ identifier: string; title: string; description: string; url: string; teamId?: string }> {
  return linearCall(opts, "issue", async (client) => {
    const issue = await client.issue(opts.id);
    return {
      identifier: issue.identifier,
      title: issue.title,
      description: issue.description ?? "",
      url: issue.url,
      teamId: issue.teamId,
    };
  });
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
