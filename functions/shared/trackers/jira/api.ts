import { jsonBytes, URL_MAX_BYTES } from "../../domain/limits";
import { endsWithTrailer } from "../../domain/marker";
import { byName, type MoveResult, nameList, notMoved } from "../../domain/moves";
import { PermanentError, TransientError } from "../../platform/errors";
import type { AdfDocument } from "./adf";
import { adfToText } from "./adf-text";
import { type JiraAuth, jiraRequest } from "./client";

/** A comment as this module reads it back. */
export interface JiraCommentInfo {
  id: string;
  authorAccountId?: string;
  /** The ADF document (v3); use adfToText to read it. */
  body: unknown;
  created?: string;
}

/** How many comments listJiraComments returns at most (newest first). */
const MAX_COMMENTS = 100;

const issuePath = (issueKey: string) => `/rest/api/3/issue/${encodeURIComponent(issueKey)}`;

/** The newest comments of an issue (up to 100), newest first. */
export async function listJiraComments(opts: JiraAuth & { issueKey: string }): Promise<JiraCommentInfo[]> {
  const path = `${issuePath(opts.issueKey)}/comment?orderBy=-created&maxResults=${MAX_COMMENTS}`;
  const page = await jiraRequest<{ comments?: unknown }>(opts, path, {});
  if (!Array.isArray(page?.comments)) {
    throw new TransientError(`Jira answered GET ${issuePath(opts.issueKey)}/comment without comments`);
  }
  const result: JiraCommentInfo[] = [];
  for (const raw of page.comments as Array<Record<string, unknown> | null>) {
    if (typeof raw?.id !== "string" && typeof raw?.id !== "number") continue;
    const comment: JiraCommentInfo = { id: String(raw.id), body: raw.body };
    const author = raw.author as { accountId?: unknown } | undefined;
    if (typeof author?.accountId === "string") comment.authorAccountId = author.accountId;
    if (typeof raw.created === "string") comment.created = raw.created;
    result.push(comment);
  }
  return result;
}

/** How many of an issue's remote links are read: a ticket links a handful; the rest is not looked at. */
const MAX_REMOTE_LINKS = 50;

/**
 * The URLs of an issue's remote links ("web links": a pull request, a preview deployment), as untrusted as
 * the issue's text: only http(s) URLs of bounded length, at most MAX_REMOTE_LINKS.
 * https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-remote-links/#api-rest-api-3-issue-issueidorkey-remotelink-get
 */
export async function listJiraRemoteLinks(opts: JiraAuth & { issueKey: string }): Promise<string[]> {
  const links = await jiraRequest<unknown>(opts, `${issuePath(opts.issueKey)}/remotelink`, {});
  if (!Array.isArray(links)) {
    throw new TransientError(`Jira answered GET ${issuePath(opts.issueKey)}/remotelink without a list`);
  }
  const urls: string[] = [];
  for (const link of links.slice(0, MAX_REMOTE_LINKS) as Array<{ object?: { url?: unknown } } | null>) {
    const url = link?.object?.url;
    if (typeof url === "string" && /^https?:\/\//i.test(url) && jsonBytes(url) <= URL_MAX_BYTES)
      urls.push(url);
  }
  return urls;
}

/** An issue's summary and description (as text), read back: what a new conversation needs from a comment. */
export async function getJiraIssue(
  opts: JiraAuth & { issueKey: string },
): Promise<{ summary: string; description: string; labels: string[] }> {
  const issue = await jiraRequest<{
    fields?: { summary?: unknown; description?: unknown; labels?: unknown };
  }>(opts, `${issuePath(opts.issueKey)}?fields=summary,description,labels`, {});
  const fields = issue?.fields;
  if (typeof fields?.summary !== "string") {
    throw new TransientError(`Jira answered GET ${issuePath(opts.issueKey)} without fields.summary`);
  }
  const description = fields.description;
  return {
    summary: fields.summary,
    description: typeof description === "string" ? description : description ? adfToText(description) : "",
    labels: Array.isArray(fields.labels)
      ? fields.labels.filter((l): l is string => typeof l === "string")
      : [],
  };
}

/** Replaces a comment's body (PUT .../comment/{id}); the account needs to own it or may edit all comments. */
export async function updateJiraComment(
  opts: JiraAuth & { issueKey: string; id: string; body: AdfDocument },
): Promise<void> {
  const path = `${issuePath(opts.issueKey)}/comment/${encodeURIComponent(opts.id)}`;
  await jiraRequest(opts, path, { method: "PUT", json: { body: opts.body } });
}

/**
 * Adds and removes labels in one edit (PUT /rest/api/3/issue/{key}, 204). Jira labels are case-sensitive
 * and cannot contain spaces (Jira answers 400, a PermanentError). Nothing is sent when both lists are empty.
 */
export async function setJiraLabels(
  opts: JiraAuth & { issueKey: string; add: string[]; remove: string[] },
): Promise<void> {
  const labels = [...opts.add.map((add) => ({ add })), ...opts.remove.map((remove) => ({ remove }))];
  if (labels.length === 0) return;
  await jiraRequest(opts, issuePath(opts.issueKey), { method: "PUT", json: { update: { labels } } });
}

/** A transition the issue offers now, as this module reads it: its id, its name, and the status it leads to. */
export interface JiraTransitionInfo {
  id: string;
  name: string;
  /** The name of the status it leads to (`to.name`). */
  to?: string;
}

/**
 * The transitions the integration's account may make on the issue now, in Jira's order (GET
 * /rest/api/3/issue/{key}/transitions: only those available from the issue's status, to this account;
 * https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-transitions-get).
 */
export async function getJiraTransitions(
  opts: JiraAuth & { issueKey: string },
): Promise<JiraTransitionInfo[]> {
  const path = `${issuePath(opts.issueKey)}/transitions`;
  const page = await jiraRequest<{ transitions?: unknown }>(opts, path, {});
  if (!Array.isArray(page?.transitions)) {
    throw new TransientError(`Jira answered GET ${path} without transitions`);
  }
  const result: JiraTransitionInfo[] = [];
  for (const raw of page.transitions as Array<Record<string, unknown> | null>) {
    const id = raw?.id;
    if ((typeof id !== "string" && typeof id !== "number") || typeof raw?.name !== "string") continue;
    // Listed without includeUnavailableTransitions, every transition is available; the flag is honoured anyway.
    if (raw.isAvailable === false) continue;
    const info: JiraTransitionInfo = { id: String(id), name: raw.name };
    const to = (raw.to as { name?: unknown } | undefined)?.name;
    if (typeof to === "string") info.to = to;
    result.push(info);
  }
  return result;
}

/** The name of the issue's status now (GET /rest/api/3/issue/{key}?fields=status). */
async function getJiraStatus(opts: JiraAuth & { issueKey: string }): Promise<string | undefined> {
  const issue = await jiraRequest<{ fields?: { status?: { name?: unknown } } }>(
    opts,
    `${issuePath(opts.issueKey)}?fields=status`,
    {},
  );
  const name = issue?.fields?.status?.name;
  return typeof name === "string" ? name : undefined;
}

/**
 * Moves an issue through the transition named `to`, or else through the one whose status (`to.name`) is
 * named `to`: exact names first, then the same names in any case, only among the transitions the issue
 * offers now (never a guessed id). An issue already in the status named `to`, or in the status the
 * transition leads to, is left alone. Then POST /rest/api/3/issue/{key}/transitions `{ transition: { id } }`
 * (204; https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-transitions-post).
 *
 * Jira's transient failures are thrown (TransientError); a refusal (a required field of the transition's
 * screen, a missing permission, an unknown issue) or a transition it does not offer is `moved: false` with
 * the reason.
 */
export async function moveJiraIssue(opts: JiraAuth & { issueKey: string; to: string }): Promise<MoveResult> {
  const to = opts.to.trim();
  const key = opts.issueKey;
  try {
    const [transitions, status] = await Promise.all([getJiraTransitions(opts), getJiraStatus(opts)]);
    if (status !== undefined && byName([status], to, (s) => s)) return { moved: true, to: status };
    const transition = byName(transitions, to, (t) => t.name) ?? byName(transitions, to, (t) => t.to);
    if (!transition)
      return notMoved(
        `Jira offers no transition named "${to}" for ${key} (available: ${nameList(transitions.map((t) => t.name))})`,
      );
    const target = transition.to ?? transition.name;
    if (status !== undefined && transition.to === status) return { moved: true, to: target };
    await jiraRequest(opts, `${issuePath(key)}/transitions`, {
      method: "POST",
      json: { transition: { id: transition.id } },
    });
    return { moved: true, to: target };
  } catch (error) {
    if (error instanceof PermanentError) return notMoved(`${key} was not moved to "${to}": ${error.message}`);
    throw error;
  }
}

/** A link that opens the issue scrolled to the comment. `siteUrl` must be the site, not api.atlassian.com. */
export function jiraCommentUrl(siteUrl: string, issueKey: string, commentId: string): string {
  const site = siteUrl.replace(/\/+$/, "");
  return `${site}/browse/${encodeURIComponent(issueKey)}?focusedCommentId=${encodeURIComponent(commentId)}`;
}

/** Returns the accountId of the integration's own Jira user (to ignore events it caused). */
export async function getJiraMyself(opts: JiraAuth): Promise<string> {
  const me = await jiraRequest<{ accountId?: unknown }>(opts, "/rest/api/3/myself", {});
  if (typeof me?.accountId !== "string") {
    throw new PermanentError(
      "Jira answered GET /rest/api/3/myself without an accountId; check the Jira base URL",
    );
  }
  return me.accountId;
}

/**
 * Posts `body` (which ends with `trailer`, the comment's marker, unique per run and kind) as a comment on
 * the issue. When one of the issue's newest comments already ends with that trailer (an earlier attempt
 * landed), returns it instead. Only the last line counts: our comments quote text that could imitate one.
 */
export async function postJiraComment(
  opts: JiraAuth & { issueKey: string; body: AdfDocument; trailer: string },
): Promise<{ id: string; duplicate: boolean }> {
  const path = `${issuePath(opts.issueKey)}/comment`;
  const earlier = (await listJiraComments(opts)).find((comment) =>
    endsWithTrailer(adfToText(comment.body), opts.trailer),
  );
  if (earlier) return { id: String(earlier.id), duplicate: true };

  const created = await jiraRequest<{ id?: unknown }>(opts, path, {
    method: "POST",
    json: { body: opts.body },
  });
  if (typeof created?.id !== "string" && typeof created?.id !== "number") {
    throw new TransientError(`Jira answered POST ${path} without a comment id`);
  }
  return { id: String(created.id), duplicate: false };
}
