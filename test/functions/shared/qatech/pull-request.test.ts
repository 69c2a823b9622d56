import { findPullRequest } from "../../../../functions/shared/qatech/pull-request";

describe("findPullRequest", () => {
  const gitlabHosts = ["gitlab.acme.com"];

  it.each([
    [
      "a GitHub pull request",
      "Fix: https://github.com/acme/shop/pull/42.",
      "https://github.com/acme/shop/pull/42",
    ],
    [
      "a GitHub pull request's files tab in a markdown link",
      "[the fix](https://github.com/acme/shop/pull/42/files)",
      "https://github.com/acme/shop/pull/42",
    ],
    [
      "a gitlab.com merge request in a subgroup",
      "https://gitlab.com/acme/web/shop/-/merge_requests/7#note_1",
      "https://gitlab.com/acme/web/shop/-/merge_requests/7",
    ],
    [
      "a merge request on a configured GitLab host, in any case",
      "https://GitLab.Acme.com/shop/app/-/merge_requests/3",
      "https://gitlab.acme.com/shop/app/-/merge_requests/3",
    ],
    [
      "the first acceptable link after a refused one",
      "https://169.254.169.254/latest/-/merge_requests/1 and https://github.com/acme/shop/pull/2",
      "https://github.com/acme/shop/pull/2",
    ],
  ])("finds %s", (_, text, url) => {
    expect(findPullRequest(text, gitlabHosts)?.url).toBe(url);
  });

  it("names the provider of each", () => {
    const github = findPullRequest("https://github.com/acme/shop/pull/1");
    const gitlab = findPullRequest("https://gitlab.acme.com/shop/app/-/merge_requests/3", gitlabHosts);

    expect([github?.provider, gitlab?.provider]).toEqual(["github", "gitlab"]);
  });

  it.each([
    ["the cloud metadata address", "https://169.254.169.254/latest/-/merge_requests/1"],
    [
      "a host that only starts like gitlab.com",
      "https://gitlab.com.evil.example/acme/shop/-/merge_requests/1",
    ],
    ["a host that only ends like one", "https://evilgitlab.com/acme/shop/-/merge_requests/1"],
    ["gitlab.com in the path", "https://evil.example/gitlab.com/acme/shop/-/merge_requests/1"],
    ["github.com as userinfo", "https://github.com@evil.example/a/b/pull/1"],
    ["userinfo on the right host", "https://user:secret@github.com/a/b/pull/1"],
    ["a port", "https://github.com:8443/a/b/pull/1"],
    ["even the default port", "https://github.com:443/a/b/pull/1"],
    ["plain http", "http://github.com/a/b/pull/1"],
    ["a GitLab host that is not configured", "https://gitlab.other.example/a/b/-/merge_requests/1"],
    ["a subdomain of github.com", "https://gist.github.com/a/b/pull/1"],
    ["a merge request path on GitHub", "https://github.com/a/b/-/merge_requests/1"],
    ["a pull request path on GitLab", "https://gitlab.com/a/b/pull/1"],
    ["a merge request without a group", "https://gitlab.com/shop/-/merge_requests/1"],
    ["a pull request URL inside another URL", "https://evil.example/?next=https://github.com/a/b/pull/1"],
  ])("refuses %s", (_, text) => {
    expect(findPullRequest(text, gitlabHosts)).toBeNull();
  });
});
