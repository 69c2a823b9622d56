import { LinearClient } from "@linear/sdk";
import { type FakeLinear, startFakeLinear } from "../../simulators/linear";
import { FakeLinearAgent, RESPONSE_WINDOW_MS } from "../../simulators/linear-agent";
import { startServer } from "../../simulators/server";

const ISSUE = { identifier: "ENG-42", title: "Checkout", url: "https://linear.app/acme/issue/ENG-42" };

/** The simulator's rules, seen through the real SDK as the integration sees them. */
describe("the Linear simulator as an agent platform", () => {
  let linear: FakeLinear;
  let agent: FakeLinearAgent;
  let client: LinearClient;
  let hook: { url: string; close(): Promise<void> };
  const delivered: string[] = [];

  beforeEach(async () => {
    agent = new FakeLinearAgent({ rateLimit: { requests: 8, windowMs: 60_000 } });
    linear = await startFakeLinear({ agent, issues: { "issue-1": ISSUE } });
    hook = await startServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      delivered.push(Buffer.concat(chunks).toString());
      res.writeHead(200).end("{}");
    });
    agent.webhookUrl = hook.url;
    client = new LinearClient({ accessToken: agent.issueTokens().accessToken, apiUrl: linear.url });
  });
  afterEach(async () => {
    await Promise.all([linear.close(), hook.close()]);
  });

  it("refuses activities Linear refuses: prompts, an ephemeral response, a reused id", async () => {
    const session = await agent.mention("issue-1", "@QA.tech hi");
    const id = "0f8fad5b-d9cb-469f-a165-70867728950e";
    const post = (content: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      client.createAgentActivity({ agentSessionId: session.id, content, ...extra });

    await expect(post({ type: "prompt", body: "x" })).rejects.toThrow(/user/);
    await expect(post({ type: "response", body: "x" }, { ephemeral: true })).rejects.toThrow(/ephemeral/);
    await expect(post({ type: "thought" })).rejects.toThrow(/body/);
    await post({ type: "thought", body: "one" }, { id });
    await expect(post({ type: "thought", body: "two" }, { id })).rejects.toThrow(/already exists/);
  });

  it("replaces an ephemeral activity by the next one, and marks a session unresponsive after 10 s without one", async () => {
    const quiet = await agent.mention("issue-1", "@QA.tech hi");
    const answered = await agent.mention("issue-1", "@QA.tech hi");
    await client.createAgentActivity({
      agentSessionId: answered.id,
      content: { type: "thought", body: "a" },
      ephemeral: true,
    });
    await client.createAgentActivity({
      agentSessionId: answered.id,
      content: { type: "response", body: "b" },
    });

    expect(answered.activities.map((a) => a.content.body)).toEqual(["b"]);
    expect(answered.history).toHaveLength(2);
    expect(agent.unresponsive()).toEqual([]);
    expect(agent.unresponsive(quiet.createdAt + RESPONSE_WINDOW_MS + 1).map((s) => s.id)).toEqual([quiet.id]);
  });

  it("answers a token over its request budget with Linear's ratelimited error, which the SDK reads", async () => {
    const reads = Array.from({ length: 9 }, () =>
      client.viewer.then(
        () => "ok",
        (e: unknown) => e,
      ),
    );

    const results = await Promise.all(reads);

    const refused = results.filter((r) => r !== "ok") as Array<{ type?: string; retryAfter?: number }>;
    expect(refused).toHaveLength(1);
    expect(refused[0].type).toBe("Ratelimited");
    expect(refused[0].retryAfter).toBeGreaterThan(0);
  });

  it("refuses a spent refresh token, a JSON token request and an expired access token", async () => {
    const { refreshToken } = agent.issueTokens();
    const token = (body: Record<string, string>, type = "application/x-www-form-urlencoded") =>
      fetch(new URL("/oauth/token", linear.url), {
        method: "POST",
        headers: { "content-type": type },
        body: type === "application/json" ? JSON.stringify(body) : new URLSearchParams(body).toString(),
      }).then(async (r) => ({ status: r.status, body: await r.json() }));
    const grant = {
      grant_type: "refresh_token",
      refresh_token: refreshToken,
      client_id: agent.clientId,
      client_secret: agent.clientSecret,
    };

    expect((await token(grant)).status).toBe(200);
    expect(await token(grant)).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    expect(await token(grant, "application/json")).toMatchObject({
      status: 400,
      body: { error: "invalid_request" },
    });
    agent.expireAccessTokens();
    await expect(client.viewer).rejects.toMatchObject({ type: "AuthenticationError" });
  });

  it("signs the AgentSessionEvents it sends with the app's webhook secret", async () => {
    delivered.length = 0;
    await agent.mention("issue-1", "@QA.tech hi");

    const { LinearWebhookClient } = await import("@linear/sdk/webhooks");
    const [body] = delivered;
    const signature = (await import("node:crypto"))
      .createHmac("sha256", agent.webhookSecret)
      .update(body)
      .digest("hex");
    expect(() =>
      new LinearWebhookClient(agent.webhookSecret).verify(Buffer.from(body), signature),
    ).not.toThrow();
    expect(JSON.parse(body)).toMatchObject({
      type: "AgentSessionEvent",
      action: "created",
      agentSession: { creatorId: "user-jane" },
    });
  });
});

describe("the Linear simulator: a session's plan", () => {
  let afterTest: () => Promise<void> = async () => {};
  afterEach(async () => afterTest());

  // https://linear.app/developers/agent-interaction#agent-plans: the plan is a full list of steps, each
  // `{ content, status }` with one of four statuses.
  it("takes a session's plan only as Linear does, records it, and refuses anything else", async () => {
    const agent = new FakeLinearAgent();
    const linear = await startFakeLinear({ agent, issues: { "issue-1": ISSUE } });
    afterTest = () => linear.close();
    const client = new LinearClient({ accessToken: agent.issueTokens().accessToken, apiUrl: linear.url });
    const session = agent.addSession({ id: "5a0b2c1d-7e6f-4a3b-9c8d-1e2f3a4b5c6d", issueId: "issue-1" });
    const plan = (value: unknown) => client.updateAgentSession(session.id, { plan: value });
    const first = [
      { content: "Open a QA.tech conversation", status: "completed" },
      { content: "QA.tech tests the ticket", status: "inProgress" },
    ];
    const second = [
      { content: "Open a QA.tech conversation", status: "completed" },
      { content: "QA.tech tests the ticket", status: "canceled" },
    ];

    await plan(first);
    await plan(second);

    expect(session.plan).toEqual(second);
    expect(session.planHistory).toEqual([first, second]);
    const refused: unknown[] = [
      { content: "a step", status: "completed" },
      null,
      ["a step"],
      [{ status: "pending" }],
      [{ content: "  ", status: "pending" }],
      [{ content: "a step", status: "done" }],
      [{ content: "a step", status: "in_progress" }],
      [{ content: "a step" }],
    ];
    for (const value of refused) await expect(plan(value)).rejects.toThrow(/plan/);
    // A refused update changes nothing, and a plan is no acknowledgement (only activities and links are).
    await expect(
      client.updateAgentSession(session.id, {
        externalUrls: [{ label: "x", url: "https://app.qa.tech/c/1" }],
        plan: [{ content: "", status: "pending" }],
      }),
    ).rejects.toThrow(/plan/);
    expect(session.externalUrls).toEqual([]);
    expect(session.planHistory).toHaveLength(2);
    expect(session.firstResponseAt).toBeUndefined();
  });
});
