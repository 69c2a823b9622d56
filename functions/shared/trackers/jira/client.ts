import { endsWithTrailer } from "../../domain/marker";
import { PermanentError, TransientError } from "../../platform/errors";
import { type RequestOptions, requestJson } from "../../platform/http";
import { registerSecret } from "../../platform/redact";
import { type AdfDocument, type AdfNode, adfToText } from "./adf";

/** How to reach one Jira Cloud site as the integration's account. */
export interface JiraAuth {
  /** The site (`https://acme.atlassian.net`) or `https://api.atlassian.com/ex/jira/{cloudId}`. */
  baseUrl: string;
  email: string;
  apiToken: string;
  /** Per request; default 10 s. */
  timeoutMs?: number;
}

/** How many recent comments are searched for the marker before posting. */
const RECENT_COMMENTS = 50;

/**
 * Posts `body` as a comment on the issue, ending with `trailer` (the comment's marker, unique per run and
 * kind). When a comment ending with that trailer already exists (an earlier attempt landed), returns it
 * instead. Only the last line counts: our comments quote text that could imitate a marker elsewhere.
 */
export async function postJiraComment(
  opts: JiraAuth & { issueKey: string; body: AdfDocument; trailer: string },
): Promise<{ id: string; duplicate: boolean }> {
  const path = `/rest/api/3/issue/${encodeURIComponent(opts.issueKey)}/comment`;
  const existing = await jiraRequest<CommentPage>(
    opts,
    `${path}?orderBy=-created&maxResults=${RECENT_COMMENTS}`,
    {},
  );
  const earlier = existing?.comments?.find((comment) =>
    endsWithTrailer(adfToText(comment.body), opts.trailer),
  );
  if (earlier) return { id: String(earlier.id), duplicate: true };

  const created = await jiraRequest<{ id?: unknown }>(opts, path, {
    method: "POST",
    json: { body: withTrailer(opts.body, opts.trailer) },
  });
  if (typeof created?.id !== "string" && typeof created?.id !== "number") {
    throw new TransientError(`Jira answered POST ${path} without a comment id`);
  }
  return { id: String(created.id), duplicate: false };
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

interface CommentPage {
  comments?: Array<{ id: string | number; body?: unknown }>;
}

/** One Jira call with Basic auth; requestJson maps errors and waits out a short Retry-After once. */
export async function jiraRequest<T>(
  auth: JiraAuth,
  path: string,
  options: Omit<RequestOptions, "peer" | "headers" | "timeoutMs">,
): Promise<T> {
  const url = `${auth.baseUrl.replace(/\/+$/, "")}${path}`;
  const credentials = Buffer.from(`${auth.email}:${auth.apiToken}`).toString("base64");
  registerSecret(auth.apiToken);
  registerSecret(credentials);
  const response = await requestJson<T>(url, {
    ...options,
    peer: "Jira",
    headers: { authorization: `Basic ${credentials}` },
    timeoutMs: auth.timeoutMs,
  });
  return response.body;
}

/** Appends the trailer to the last paragraph (the link line), or as its own paragraph: the comment's last line. */
export function withTrailer(body: AdfDocument, trailer: string): AdfDocument {
  const content = [...body.content];
  const last = content.at(-1);
  if (last?.type === "paragraph" && last.content?.length) {
    content[content.length - 1] = { ...last, content: [...last.content, text(` · ${trailer}`)] };
  } else {
    content.push({ type: "paragraph", content: [text(trailer)] });
  }
  return { ...body, content };
}

function text(value: string): AdfNode {
  return { type: "text", text: value };
}
