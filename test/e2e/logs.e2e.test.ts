import { setLogSink } from "../../functions/shared/platform/log";
import {
  type Harness,
  JIRA_API_TOKEN,
  JIRA_WEBHOOK_SECRET,
  jiraFixture,
  LINEAR_API_KEY,
  LINEAR_WEBHOOK_SECRET,
  QATECH_API_KEY,
  signedJiraHeaders,
  startHarness,
} from "../../simulators/harness";
import { linearFixture, signedLinearDelivery } from "../../simulators/signing";

describe("what the logs of whole runs hold", () => {
  let h: Harness;
  const lines: string[] = [];
  let restore: ReturnType<typeof setLogSink>;
  beforeEach(() => {
    lines.length = 0;
    restore = setLogSink((line) => lines.push(line));
  });
  afterEach(async () => {
    await h.runner.settled();
    await h.close();
    setLogSink(restore);
  });

  it("never a secret, a signature or a webhook body, through success, retries and failures", async () => {
    h = await startHarness({ qatech: { plan: (m) => (m.includes("PROJ-123") ? { status: "FAILED" } : {}) } });
    h.qatech.failNext({ method: "POST", path: "/v1/chat", fault: { status: 500 } });
    h.linear.failNext({ operation: "createComment", fault: { status: 500 } });
    const linear = signedLinearDelivery(linearFixture("Issue.update.label-added"), LINEAR_WEBHOOK_SECRET);
    const jiraBody = JSON.stringify(jiraFixture("jira-issue_updated.label-added"));
    const jiraHeaders = signedJiraHeaders(jiraBody, JIRA_WEBHOOK_SECRET);

    await fetch(`${h.runner.url}/webhooks/linear`, {
      method: "POST",
      headers: linear.headers,
      body: linear.body,
    });
    await fetch(`${h.runner.url}/webhooks/jira`, { method: "POST", headers: jiraHeaders, body: jiraBody });
    await h.sendLinear("Issue.update.label-added", { secret: "forged" });
    await h.runner.settled();

    const log = lines.join("\n");
    expect(lines.length).toBeGreaterThan(20);
    expect(log).toContain('"message":"webhook"');
    for (const secret of [
      QATECH_API_KEY,
      LINEAR_API_KEY,
      LINEAR_WEBHOOK_SECRET,
      JIRA_API_TOKEN,
      JIRA_WEBHOOK_SECRET,
    ]) {
      expect(log).not.toContain(secret);
    }
    expect(log).not.toContain(linear.headers["linear-signature"]);
    expect(log).not.toContain(jiraHeaders["x-hub-signature"].slice("sha256=".length));
    expect(log).not.toContain("Open the shop with an empty cart");
    expect(log).not.toContain("The login button overlaps the password field");
  });

  it("never a credential a peer echoes back: QA.tech's 400 quoting our bearer token", async () => {
    h = await startHarness();
    const echo = { message: `Invalid request. Headers: Authorization: Bearer ${QATECH_API_KEY}` };
    h.qatech.failNext({ method: "POST", path: "/v1/chat", fault: { status: 400, body: echo } });

    await h.sendLinear("Issue.update.label-added");
    await h.runner.settled();

    const [comment] = h.linearReplies();
    expect(comment.body).toContain("QA.tech answered 400");
    expect(comment.body).toContain("Bearer [redacted]");
    expect(comment.body).not.toContain(QATECH_API_KEY);
    expect(lines.join("\n")).not.toContain(QATECH_API_KEY);
  });

  it("never Jira's Basic credentials a peer echoes back", async () => {
    h = await startHarness();
    const basic = Buffer.from(`qa-bot@example.com:${JIRA_API_TOKEN}`).toString("base64");
    const echo = { errorMessages: [`Bad header Authorization: Basic ${basic} (token ${JIRA_API_TOKEN})`] };
    h.jira.failNext({ method: "POST", path: /\/comment$/, fault: { status: 400, body: echo }, times: 1 });

    await h.sendJira("jira-issue_updated.label-added");
    await h.runner.settled();

    const everything = `${JSON.stringify(h.jira.comments)}\n${lines.join("\n")}`;
    expect(everything).toContain("[redacted]");
    expect(everything).not.toContain(basic);
    expect(everything).not.toContain(JIRA_API_TOKEN);
  });

  it("never the Linear agent's tokens or secrets, through a session, a message and a token refresh", async () => {
    h = await startHarness({ agent: {} });
    const before = await h.runner.agentTokens?.read();
    const session = await h.agent.mention("539068e2-ae88-4d09-bd75-22eb4a59612f", "@QA.tech check checkout");
    await h.runner.settled();
    h.agent.expireAccessTokens(); // as 24 h later: the next call refreshes
    await h.agent.prompt(session.id, "And on mobile Safari?");
    await h.runner.settled();

    const tokens = [before, ...(h.runner.agentTokens?.writes ?? [])];
    expect(h.agent.grants.refresh_token).toBe(1);
    expect(tokens).toHaveLength(2);
    // Both pairs of tokens are there to look for: a missing one would make its check below pass vacuously.
    const tokenValues = tokens.flatMap((t) => [t?.accessToken, t?.refreshToken]);
    expect(tokenValues).toEqual([
      expect.stringMatching(/./),
      expect.stringMatching(/./),
      expect.stringMatching(/./),
      expect.stringMatching(/./),
    ]);
    const log = lines.join("\n");
    expect(log).toContain('"tracker":"linear-agent"');
    for (const secret of [h.agent.clientSecret, h.agent.webhookSecret, ...(tokenValues as string[])])
      expect(log).not.toContain(secret);
  });
});
