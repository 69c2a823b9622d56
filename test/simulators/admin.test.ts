import { LinearClient } from "@linear/sdk";
import { type FakeJira, startFakeJira } from "../../simulators/jira";
import { type FakeLinear, startFakeLinear } from "../../simulators/linear";

const KEY = "lin_api_test";

describe("Linear simulator: webhooks and labels, as the SDK sends them", () => {
  let linear: FakeLinear;
  afterEach(() => linear.close());
  const client = () => new LinearClient({ apiKey: KEY, apiUrl: linear.url });

  it("routes the SDK's operations by name: createWebhook, webhooks, updateWebhook, createIssueLabel", async () => {
    linear = await startFakeLinear({ apiKey: KEY, labels: [] });

    const created = await client().createWebhook({
      url: "https://hooks.example/linear",
      resourceTypes: ["Issue", "Comment"],
      allPublicTeams: true,
      secret: "chosen-secret",
    });
    await client().updateWebhook(created.webhookId ?? "", { enabled: false });
    const listed = await client().webhooks();
    await client().createIssueLabel({ name: "needs test" });

    expect(linear.requests.map((r) => r.operation)).toEqual([
      "createWebhook",
      "updateWebhook",
      "webhooks",
      "createIssueLabel",
    ]);
    expect(listed.nodes.map((w) => [w.url, w.secret, w.enabled, w.resourceTypes])).toEqual([
      ["https://hooks.example/linear", "chosen-secret", false, ["Issue", "Comment"]],
    ]);
    expect(linear.labels).toEqual([expect.objectContaining({ name: "needs test", teamId: undefined })]);
  });

  it("generates a secret when none is given, as Linear does", async () => {
    linear = await startFakeLinear({ apiKey: KEY });

    await client().createWebhook({
      url: "https://hooks.example/x",
      resourceTypes: ["Issue"],
      teamId: "team-1",
    });

    expect(linear.webhooks[0].secret).toMatch(/^lin_wh_[0-9a-f]{48}$/);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ["neither a team nor all public teams", { url: "https://h.example", resourceTypes: ["Issue"] }, /team/],
    [
      "an unknown resource type",
      { url: "https://h.example", resourceTypes: ["Issues"], allPublicTeams: true },
      /resourceTypes/,
    ],
    [
      "no resource type",
      { url: "https://h.example", resourceTypes: [], allPublicTeams: true },
      /resourceTypes/,
    ],
  ])("refuses a webhook with %s", async (_what, input, message) => {
    linear = await startFakeLinear({ apiKey: KEY });

    await expect(client().createWebhook(input as never)).rejects.toThrow(message);
    expect(linear.webhooks).toEqual([]);
  });

  it("lets only a workspace admin manage webhooks", async () => {
    linear = await startFakeLinear({ apiKey: KEY, admin: false });

    await expect(client().webhooks()).rejects.toThrow(/admin/);
    await expect(
      client().createWebhook({ url: "https://h.example", resourceTypes: ["Issue"], allPublicTeams: true }),
    ).rejects.toThrow(/admin/);
    expect((await client().viewer).admin).toBe(false);
  });

  it("refuses a second label of the same name in the same scope, any case", async () => {
    linear = await startFakeLinear({ apiKey: KEY });

    await expect(client().createIssueLabel({ name: "Needs Test" })).rejects.toThrow(/already exists/);
    await client().createIssueLabel({ name: "Needs Test", teamId: "team-1" });
    expect(linear.labels.filter((l) => l.name.toLowerCase() === "needs test")).toHaveLength(2);
  });

  it("reports a webhook's failed deliveries through the field the doctor queries", async () => {
    linear = await startFakeLinear({ apiKey: KEY });
    const { webhookId } = await client().createWebhook({
      url: "https://h.example",
      resourceTypes: ["Issue"],
      allPublicTeams: true,
    });
    linear.addWebhookFailure(webhookId ?? "", {
      executionId: "e1",
      httpStatus: 500,
      responseOrError: "x".repeat(1500),
    });

    const res = await client().client.rawRequest<
      { webhook: { failures: Array<{ httpStatus: number; responseOrError: string }> } },
      { id: string }
    >("query webhook($id: String!) { webhook(id: $id) { failures { httpStatus responseOrError } } }", {
      id: webhookId ?? "",
    });

    expect(res.data?.webhook.failures.map((f) => [f.httpStatus, f.responseOrError.length])).toEqual([
      [500, 1000],
    ]);
  });
});

describe("Jira simulator: admin webhooks", () => {
  let jira: FakeJira;
  afterEach(() => jira.close());
  const auth = `Basic ${Buffer.from("qa-bot@example.com:jira-api-token").toString("base64")}`;
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${jira.url}${path}`, {
      method,
      headers: { authorization: auth, "content-type": "application/json" },
      body: body ? JSON.stringify(body) : undefined,
    });
  const webhook = {
    name: "qa-ticket acme",
    url: "https://hooks.example/jira",
    events: ["jira:issue_created"],
    filters: { "issue-related-events-section": "project in (PROJ)" },
    secret: "s3",
  };

  it("registers, lists without the secret, and updates keeping the secret when none is sent", async () => {
    jira = await startFakeJira({ admin: true });

    const created = await call("POST", "/rest/webhooks/1.0/webhook", webhook);
    const self = ((await created.json()) as { self: string }).self;
    await call("PUT", new URL(self).pathname, {
      ...webhook,
      secret: undefined,
      events: ["comment_created"],
      enabled: true,
    });
    const listed = (await (await call("GET", "/rest/webhooks/1.0/webhook")).json()) as Array<
      Record<string, unknown>
    >;

    expect(created.status).toBe(201);
    expect(listed).toEqual([expect.objectContaining({ url: webhook.url, events: ["comment_created"] })]);
    expect(JSON.stringify(listed)).not.toContain("s3");
    expect(jira.webhooks[0].secret).toBe("s3");
  });

  it("refuses an update that does not say whether the webhook is enabled, and changes nothing", async () => {
    jira = await startFakeJira({ admin: true });
    const created = await call("POST", "/rest/webhooks/1.0/webhook", { ...webhook, enabled: false });
    const path = new URL(((await created.json()) as { self: string }).self).pathname;

    const res = await call("PUT", path, { ...webhook, url: "https://hooks.example/other" });

    expect(res.status).toBe(400);
    expect(jira.webhooks[0]).toMatchObject({ url: webhook.url, enabled: false });
  });

  it("refuses an account that is not a Jira admin with 403", async () => {
    jira = await startFakeJira();

    const res = await call("POST", "/rest/webhooks/1.0/webhook", webhook);

    expect(res.status).toBe(403);
    expect(jira.webhooks).toEqual([]);
  });
});
