import { randomUUID } from "node:crypto";
import { InvalidInputLinearError, LinearClient, RatelimitedLinearError } from "@linear/sdk";
import { type FakeLinear, ratelimitedFault, startFakeLinear } from "../../simulators/linear";
import { type FakeQaTech, startFakeQaTech } from "../../simulators/qatech";
import { waitFor } from "../support/wait-for";

const KEY = "qa-test-key";

describe("fake QA.tech Chat API", () => {
  let qa: FakeQaTech;
  afterEach(() => qa.close());

  const call = (path: string, init: { method?: string; body?: unknown; key?: string | null } = {}) =>
    fetch(`${qa.url}${path}`, {
      method: init.method ?? (init.body === undefined ? "GET" : "POST"),
      headers: {
        "content-type": "application/json",
        ...(init.key === null ? {} : { authorization: `Bearer ${init.key ?? KEY}` }),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });

  const start = async (message = "Login flow\nCheck that users can log in") => {
    const response = await call("/v1/chat", { body: { message } });
    expect(response.status).toBe(202);
    return (await response.json()) as { shortId: string; url: string; messages: unknown[] };
  };

  const read = async (shortId: string) => {
    const response = await call(`/v1/chat/${shortId}?limit=5`);
    expect(response.status).toBe(200);
    return (await response.json()) as {
      messages: Array<{
        role: string;
        status: string;
        isStreaming: boolean;
        text: string;
        createdAt: string;
      }>;
    };
  };

  it("answers 202 with no messages, then shows the reply pending, then final", async () => {
    qa = await startFakeQaTech();
    const created = await start();
    expect(created).toEqual({
      shortId: "chat_1",
      url: "https://app.qa.tech/p/proj_demo/chat/chat_1",
      title: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      source: "api",
      messages: [],
    });
    // The first read after a send does not show the message yet: QA.tech stores it asynchronously.
    expect(shape(await read("chat_1"))).toEqual([]);
    const partial = await read("chat_1");
    expect(shape(partial)).toEqual([
      ["assistant", "PARTIAL", true],
      ["user", "COMPLETED", false],
    ]);
    expect(partial.messages[0].createdAt > partial.messages[1].createdAt).toBe(true);
    const final = await read("chat_1");
    expect(shape(final)[0]).toEqual(["assistant", "COMPLETED", false]);
    expect(final.messages[0].text).toContain("**Login flow**");
    expect(qa.conversations()[0].messages).toHaveLength(2);
  });

  it("shows a follow-up only after visibleAfterGets reads, and its reply only after that", async () => {
    qa = await startFakeQaTech({ visibleAfterGets: 3, plan: () => ({ pollsUntilFinal: 0 }) });
    await start("first");
    for (let i = 0; i < 3; i++) await read("chat_1");
    const before = (await read("chat_1")).messages.map((m) => [m.role, m.text]);
    await call("/v1/chat/chat_1", { body: { message: "second" } });

    const hidden = [];
    for (let i = 0; i < 3; i++) hidden.push((await read("chat_1")).messages.map((m) => [m.role, m.text]));
    const shown = await read("chat_1");

    expect(before.map(([role]) => role)).toEqual(["assistant", "user"]);
    expect(hidden).toEqual([before, before, before]);
    expect(shape(shown)).toEqual([
      ["assistant", "COMPLETED", false],
      ["user", "COMPLETED", false],
      ["assistant", "COMPLETED", false],
      ["user", "COMPLETED", false],
    ]);
    expect(shown.messages[1].text).toBe("second");
    expect(qa.conversations()[0].messages).toHaveLength(4);
  });

  it("lists messages oldest first when asked to, still the newest `limit` of them", async () => {
    qa = await startFakeQaTech({
      order: "oldest-first",
      visibleAfterGets: 0,
      plan: () => ({ pollsUntilFinal: 0 }),
    });
    await start("first");
    await read("chat_1");
    await call("/v1/chat/chat_1", { body: { message: "second" } });
    await read("chat_1");

    const response = await call("/v1/chat/chat_1?limit=3");
    const { messages } = (await response.json()) as { messages: Array<{ role: string; text: string }> };

    expect(messages.map((m) => m.role)).toEqual(["assistant", "user", "assistant"]);
    expect(messages[1].text).toBe("second");
    expect(qa.conversations()[0].messages[0].role).toBe("assistant");
  });

  it("follows the reply plan for follow-ups and failures", async () => {
    qa = await startFakeQaTech({
      plan: (message) => (message === "again" ? { status: "FAILED", pollsUntilFinal: 0 } : {}),
    });
    await start();
    expect((await call("/v1/chat/chat_1", { body: { message: "again" } })).status).toBe(202);
    await read("chat_1"); // does not show "again" yet
    const { messages } = await read("chat_1");
    expect(messages[0]).toMatchObject({
      role: "assistant",
      status: "FAILED",
      text: expect.stringContaining("not"),
    });
    expect(messages[1]).toMatchObject({ role: "user", text: "again" });
    expect((await call("/v1/chat/chat_404", { body: { message: "x" } })).status).toBe(404);
  });

  it("validates bodies and the API key", async () => {
    qa = await startFakeQaTech();
    expect((await call("/v1/chat", { body: { message: "" } })).status).toBe(400);
    const unauthorised = await call("/v1/chat", { body: { message: "hi" }, key: null });
    expect(unauthorised.status).toBe(401);
    expect(await unauthorised.json()).toEqual({ message: "Invalid API key" });
    const review = { mode: "pr", prUrl: "https://github.com/a/b/pull/1", vcsProviderId: "github" };
    expect(
      (await call("/v1/chat/change-review", { body: { ...review, applicationOverrides: [] } })).status,
    ).toBe(400);
    const overrides = [{ applicationShortId: "app_1", environment: { url: "https://preview.example" } }];
    expect(
      (await call("/v1/chat/change-review", { body: { ...review, applicationOverrides: overrides } })).status,
    ).toBe(202);
    expect(qa.conversations()[0].messages[0].text).toBe("Review https://github.com/a/b/pull/1");
    expect(qa.requests).toHaveLength(4);
  });

  it("refuses a POST that names no project with an organisation-scoped key, as QA.tech does", async () => {
    qa = await startFakeQaTech({ keyScope: "organization" });

    const unnamed = await call("/v1/chat", { body: { message: "hi" } });
    const named = await call("/v1/chat", { body: { message: "hi", projectShortId: "proj_shop" } });
    const followUp = await call("/v1/chat/chat_1", { body: { message: "and on mobile?" } });

    expect(unnamed.status).toBe(400);
    expect(await unnamed.json()).toEqual({
      message: "projectShortId is required for organization-scoped API keys",
    });
    expect(named.status).toBe(202);
    expect(((await named.json()) as { url: string }).url).toBe("https://app.qa.tech/p/proj_shop/chat/chat_1");
    expect(followUp.status).toBe(400);
    expect((await call("/v1/chat/chat_1?limit=5")).status).toBe(200);
  });

  it("refuses a project-scoped key that names another project", async () => {
    qa = await startFakeQaTech({ keyScope: "project", projectShortId: "proj_demo" });

    const other = await call("/v1/chat", { body: { message: "hi", projectShortId: "proj_shop" } });
    const own = await call("/v1/chat", { body: { message: "hi", projectShortId: "proj_demo" } });
    const unnamed = await call("/v1/chat", { body: { message: "hi" } });

    expect(other.status).toBe(403);
    expect(own.status).toBe(202);
    expect(unnamed.status).toBe(202);
    expect(qa.conversations()).toHaveLength(2);
  });

  it("injects status faults, resets and malformed bodies, in order", async () => {
    qa = await startFakeQaTech();
    qa.failNext({ method: "POST", path: "/v1/chat", fault: { status: 500 } });
    qa.failNext({ path: /^\/v1\/chat/, fault: { reset: true } });
    qa.failNext({ path: "/v1/chat", fault: { malformed: true } });
    const failed = await call("/v1/chat", { body: { message: "hi" } });
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ message: expect.any(String) });
    await expect(call("/v1/chat", { body: { message: "hi" } })).rejects.toThrow("fetch failed");
    const malformed = await call("/v1/chat", { body: { message: "hi" } });
    expect(malformed.headers.get("content-type")).toContain("application/json");
    await expect(malformed.json()).rejects.toThrow("not valid JSON");
    expect((await call("/v1/chat", { body: { message: "hi" } })).status).toBe(202);
    expect(qa.conversations()).toHaveLength(1);
    expect(qa.requests).toHaveLength(4);
  });

  it("commits before losing the response, and close() ends hung requests", async () => {
    qa = await startFakeQaTech();
    qa.failNext({ fault: { afterCommit: { status: 502 } } });
    expect((await call("/v1/chat", { body: { message: "hi" } })).status).toBe(502);
    expect(qa.conversations()).toHaveLength(1);
    qa.failNext({ fault: { hang: true } });
    const hung = call("/v1/chat/chat_1");
    await waitFor(() => qa.requests.length === 2);
    await qa.close();
    await expect(hung).rejects.toThrow();
  });
});

/** [role, status, isStreaming] of each message, newest first. */
function shape(conversation: { messages: Array<{ role: string; status: string; isStreaming: boolean }> }) {
  return conversation.messages.map((message) => [message.role, message.status, message.isStreaming]);
}

describe("fake Linear GraphQL API", () => {
  let linear: FakeLinear;
  let client: LinearClient;
  beforeEach(async () => {
    linear = await startFakeLinear();
    client = new LinearClient({ apiKey: "lin_api_test", apiUrl: linear.url });
  });
  afterEach(() => linear.close());

  it("creates a comment and reads it back", async () => {
    const payload = await client.createComment({ issueId: "issue-1", body: "**hello**" });
    expect(payload.success).toBe(true);
    expect(linear.comments).toEqual([
      {
        id: payload.commentId,
        issueId: "issue-1",
        body: "**hello**",
        createdAt: expect.any(String),
        userId: "user-qa-bot",
      },
    ]);
    const comment = await client.comment({ id: payload.commentId as string });
    expect(comment).toMatchObject({
      id: payload.commentId,
      body: "**hello**",
      issueId: "issue-1",
      userId: "user-qa-bot",
    });
    await client.updateComment(comment.id, { body: "edited" });
    expect(linear.comments[0].body).toBe("edited");
    expect((await client.viewer).id).toBe("user-qa-bot");
    expect(linear.requests.map((request) => request.operation)).toEqual([
      "createComment",
      "comment",
      "updateComment",
      "viewer",
    ]);
  });

  it("rejects a second comment with the same id and an unknown comment", async () => {
    const id = randomUUID();
    await client.createComment({ id, issueId: "issue-1", body: "first" });
    const duplicate = client.createComment({ id, issueId: "issue-1", body: "second" });
    await expect(duplicate).rejects.toThrow(InvalidInputLinearError);
    await expect(duplicate).rejects.toThrow("A comment with this id already exists.");
    expect(linear.comments).toHaveLength(1);
    await expect(client.comment({ id: randomUUID() })).rejects.toThrow("Entity not found");
  });

  it("surfaces ratelimitedFault as RatelimitedLinearError", async () => {
    linear.failNext({ operation: "createComment", fault: ratelimitedFault({ retryAfterSeconds: 7 }) });
    const error = await client
      .createComment({ issueId: "issue-1", body: "x" })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RatelimitedLinearError);
    expect(error).toMatchObject({ retryAfter: 7, requestsRemaining: 0, requestsResetAt: expect.any(Number) });
    expect(linear.comments).toHaveLength(0);
  });

  it("stores the comment when the response is lost after the commit", async () => {
    linear.failNext({ operation: "createComment", fault: { afterCommit: { reset: true } } });
    await expect(client.createComment({ issueId: "issue-1", body: "x" })).rejects.toThrow();
    expect(linear.comments).toHaveLength(1);
  });

  it("refuses, as Linear does, an update that adds a label of another team than the issue's", async () => {
    const teams = await startFakeLinear({
      labels: [
        { id: "lbl-ws", name: "needs test" },
        { id: "lbl-eng", name: "testing", teamId: "team-eng" },
        { id: "lbl-ops", name: "testing", teamId: "team-ops" },
      ],
      issueTeamIds: { "issue-eng": "team-eng" },
    });
    try {
      const sdk = new LinearClient({ apiKey: "lin_api_test", apiUrl: teams.url });

      const refused = sdk.updateIssue("issue-eng", { addedLabelIds: ["lbl-ws", "lbl-ops"] });
      await expect(refused).rejects.toThrow(InvalidInputLinearError);
      await expect(refused).rejects.toThrow(
        "The label 'testing' is not associated with the same team as the issue",
      );
      expect(teams.issueLabelIds("issue-eng")).toEqual([]);
      await sdk.updateIssue("issue-eng", { addedLabelIds: ["lbl-ws", "lbl-eng"] });
      await expect(sdk.issueAddLabel("issue-eng", "lbl-ops")).rejects.toThrow("same team");

      expect(teams.issueLabelIds("issue-eng")).toEqual(["lbl-ws", "lbl-eng"]);
    } finally {
      await teams.close();
    }
  });

  it("reads an issue back with its team and current labels", async () => {
    const workspace = await startFakeLinear({
      teamId: "team-default",
      issueTeamIds: { "issue-ops": "team-ops" },
      issueLabelIds: { "issue-ops": ["lbl-needs-test"] },
      issues: {
        "issue-ops": { identifier: "OPS-1", title: "Deploy", url: "https://linear.app/acme/issue/OPS-1" },
        "issue-eng": { identifier: "ENG-1", title: "Login", url: "https://linear.app/acme/issue/ENG-1" },
      },
    });
    try {
      const sdk = new LinearClient({ apiKey: "lin_api_test", apiUrl: workspace.url });

      const ops = await sdk.issue("issue-ops");
      const other = await sdk.issue("issue-eng");

      expect([ops.teamId, ops.labelIds]).toEqual(["team-ops", ["lbl-needs-test"]]);
      expect([other.teamId, other.labelIds]).toEqual(["team-default", []]);
    } finally {
      await workspace.close();
    }
  });

  it("lists an issue's attachments the way the SDK's Issue model reads them", async () => {
    const workspace = await startFakeLinear({
      issues: {
        "issue-1": { identifier: "ENG-1", title: "Login", url: "https://linear.app/acme/issue/ENG-1" },
      },
      attachments: {
        "issue-1": [
          { url: "https://sentry.io/issues/1", title: "TypeError" },
          { url: "https://github.com/acme/shop/pull/42", title: "Fix login", sourceType: "github" },
        ],
      },
    });
    try {
      const sdk = new LinearClient({ apiKey: "lin_api_test", apiUrl: workspace.url });

      const attachments = await (await sdk.issue("issue-1")).attachments({ first: 1 });

      expect(attachments.nodes.map((a) => [a.url, a.title])).toEqual([
        ["https://sentry.io/issues/1", "TypeError"],
      ]);
      expect(attachments.pageInfo.hasNextPage).toBe(true);
      expect(workspace.requests.map((r) => r.operation)).toEqual(["issue", "issue_attachments"]);
      await expect(
        new LinearClient({ apiKey: "lin_api_test", apiUrl: workspace.url }).issue("issue-2"),
      ).rejects.toThrow("Entity not found");
    } finally {
      await workspace.close();
    }
  });

  it("answers a wrong key and an unknown operation with GraphQL errors", async () => {
    const stranger = new LinearClient({ apiKey: "lin_api_wrong", apiUrl: linear.url });
    await expect(stranger.viewer).rejects.toThrow("authenticate");
    await expect(client.project("p-1")).rejects.toThrow('operation "project"');
  });
});
