/** A pull request a ticket links to, as QA.tech's change review takes it. */
export interface PullRequest {
  url: string;
  provider: "github" | "gitlab";
}

const LINK = /https:\/\/[^\s<>"'`()[\]{}|\\^]+/gi;
const GITHUB_PULL = /^\/[\w.-]+\/[\w.-]+\/pull\/\d+(?=\/|$)/;
const GITLAB_MERGE_REQUEST = /^(?:\/[\w.-]+){2,}\/-\/merge_requests\/\d+(?=\/|$)/;

/**
 * The first GitHub pull request or GitLab merge request URL in a text, if any: on github.com, gitlab.com or
 * one of `gitlabHosts` (self-managed GitLab). QA.tech fetches what it is given, and the ticket's text is
 * anyone's, so the host must be one of those exactly, with no userinfo or port to disguise another.
 */
export function findPullRequest(text: string, gitlabHosts: readonly string[] = []): PullRequest | null {
  for (const [candidate] of text.matchAll(LINK)) {
    const link = candidate.replace(/[.,;:!?*_~]+$/, "");
    const authority = link.slice("https://".length).split(/[/?#]/)[0];
    if (authority.includes("@") || authority.includes(":") || !URL.canParse(link)) continue;
    const { hostname: host, pathname } = new URL(link);
    const provider =
      host === "github.com"
        ? "github"
        : host === "gitlab.com" || gitlabHosts.some((h) => h.toLowerCase() === host)
          ? "gitlab"
          : undefined;
    const path = provider && (provider === "github" ? GITHUB_PULL : GITLAB_MERGE_REQUEST).exec(pathname)?.[0];
    if (provider && path) return { url: `https://${host}${path}`, provider };
  }
  return null;
}
