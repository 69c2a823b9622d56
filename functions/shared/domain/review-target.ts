import { ConfigError } from "../platform/errors";
import type { Settings } from "../platform/settings";
import { findPullRequest, type PullRequest } from "../qatech/pull-request";
import { jsonBytes, URL_MAX_BYTES } from "./limits";
import type { Ticket } from "./ticket";

/**
 * The pull request to review instead of chatting, by CHANGE_REVIEW: auto, always or never. The ticket's
 * text is searched first (someone wrote that link on purpose), then the links it carries outside its text
 * (`links`: Linear's attachments), which are only read when a change review could start.
 */
export async function reviewTarget(
  ticket: Pick<Ticket, "title" | "description">,
  settings: Pick<Settings["qatech"], "changeReview" | "applicationOverrides" | "gitlabHosts">,
  links: () => Promise<string[]>,
): Promise<PullRequest | null> {
  const mode = settings.changeReview;
  if (mode === "never") return null;
  const canReview = settings.applicationOverrides.length > 0;
  if (mode === "auto" && !canReview) return null; // QA.tech's change review requires application overrides
  const pr =
    findPullRequest(`${ticket.title}\n${ticket.description}`, settings.gitlabHosts) ??
    firstPullRequest(await links(), settings.gitlabHosts);
  if (!pr) return null;
  if (!canReview) {
    throw new ConfigError(
      "qatech.changeReview is always, but a change review needs qatech.applicationOverrides",
    );
  }
  return pr;
}

/** The first of `urls` that is a pull request, by the same rules as a link in the ticket's text. */
function firstPullRequest(urls: string[], gitlabHosts: string[]): PullRequest | null {
  for (const url of urls) {
    // A longer one is no pull request URL, and would not fit the state's budget for it.
    if (jsonBytes(url) > URL_MAX_BYTES) continue;
    const pr = findPullRequest(url, gitlabHosts);
    if (pr) return pr;
  }
  return null;
}
