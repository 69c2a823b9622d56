import { TransientError } from "../../../../../functions/shared/platform/errors";
import { listJiraRemoteLinks } from "../../../../../functions/shared/trackers/jira/api";
import { type FakeJira, startFakeJira } from "../../../../../simulators/jira";

const email = "qa-bot@acme.example";
const apiToken = "token-123";

describe("listJiraRemoteLinks", () => {
  let jira: FakeJira;
  afterEach(() => jira.close());
  const list = () => listJiraRemoteLinks({ baseUrl: jira.url, email, apiToken, issueKey: "PROJ-123" });

  it("lists the http(s) URLs of the issue's remote links, in order, and nothing else", async () => {
    jira = await startFakeJira({
      email,
      apiToken,
      remoteLinks: {
        "PROJ-123": [
          { url: "https://github.com/acme/shop/pull/52" },
          { url: "javascript:alert(1)" },
          { url: `https://example.com/${"x".repeat(5000)}` },
          { url: "http://pr-52.preview.acme.dev" },
        ],
      },
    });

    await expect(list()).resolves.toEqual([
      "https://github.com/acme/shop/pull/52",
      "http://pr-52.preview.acme.dev",
    ]);
  });

  it("reads at most 50 of them, however many the issue has", async () => {
    const many = Array.from({ length: 80 }, (_, i) => ({ url: `https://example.com/${i}` }));
    jira = await startFakeJira({ email, apiToken, remoteLinks: { "PROJ-123": many } });

    await expect(list()).resolves.toHaveLength(50);
  });

  it("leaves an outage to the state machine's retries", async () => {
    jira = await startFakeJira({ email, apiToken });
    jira.failNext({
      method: "GET",
      path: "/rest/api/3/issue/PROJ-123/remotelink",
      fault: { status: 503 },
      times: 5,
    });

    await expect(list()).rejects.toBeInstanceOf(TransientError);
  });
});
