import { keyedUuid, markerText } from "../../../../functions/shared/domain/marker";
import { PermanentError, TransientError } from "../../../../functions/shared/platform/errors";
import { clearSecretCache } from "../../../../functions/shared/platform/secrets";
import {
  clearLinearViewerCache,
  postLinearComment,
} from "../../../../functions/shared/trackers/linear/issues";
import { createAgentActivity } from "../../../../functions/shared/trackers/linear-agent/api";
import { setAgentTokenAccess } from "../../../../functions/shared/trackers/linear-agent/token-store";
import { MemoryTokenStore } from "../../../../local/linear-agent";
import { type FakeLinear, startFakeLinear } from "../../../../simulators/linear";
import { FakeLinearAgent } from "../../../../simulators/linear-agent";
import { settingsEnv } from "../../../support/settings";

const KEY = "the-deployment's-marker-key";
const ISSUE_ID = "539068e2-ae88-4d09-bd75-22eb4a59612f";
const OTHER_ISSUE_ID = "8a1f3c55-0c1e-4b6e-9f57-0d7d1e7b2a10";
const RUN_ID = "linear-ENG-42-0123456789abcdef";
const OUR_USER = "user-qa-bot";
const MALLORY = "user-mallory";
const ISSUES = {
  [ISSUE_ID]: { identifier: "ENG-42", title: "Checkout", url: "https://linear.app/acme/issue/ENG-42" },
  [OTHER_ISSUE_ID]: { identifier: "ENG-7", title: "Other", url: "https://linear.app/acme/issue/ENG-7" },
};

const trailer = markerText(KEY, { tracker: "linear", id: ISSUE_ID }, { runId: RUN_ID, kind: "reply" });
const body = `It passes.\n\n---\n[Open the conversation in QA.tech](https://app.qa.tech/c/chat_1) · \`${trailer}\``;

describe("a Linear comment id that is already taken", () => {
  let linear: FakeLinear;
  const id = keyedUuid(KEY, `${RUN_ID}:reply`);
  const post = () =>
    postLinearComment({
      apiKey: "lin_api_test",
      apiUrl: linear.url,
      issueId: ISSUE_ID,
      body,
      commentId: id,
      trailer,
    });

  beforeEach(async () => {
    clearLinearViewerCache();
    linear = await startFakeLinear({ viewerId: OUR_USER, issues: ISSUES });
  });
  afterEach(() => linear.close());

  const taken: Array<[string, { issueId: string; userId: string; body: string }]> = [
    ["by someone else, with a copy of our text", { issueId: ISSUE_ID, userId: MALLORY, body }],
    ["on another issue, even by our user", { issueId: OTHER_ISSUE_ID, userId: OUR_USER, body }],
    ["by our user without this run's marker", { issueId: ISSUE_ID, userId: OUR_USER, body: "Looks fine." }],
    [
      "by our user with another run's marker",
      { issueId: ISSUE_ID, userId: OUR_USER, body: body.replace(trailer, trailer.replace("/reply", "/ack")) },
    ],
  ];

  it.each(taken)("%s: fails loudly and posts nothing", async (_name, claim) => {
    linear.addComment({ ...claim, id });

    const posting = post();

    await expect(posting).rejects.toThrow(PermanentError);
    await expect(posting).rejects.toThrow(`Linear comment id ${id} is already taken by someone else`);
    expect(linear.comments).toHaveLength(1);
    expect(linear.comments[0]).toMatchObject(claim);
  });

  it("by our own earlier post, whose answer was lost: counts as posted, once", async () => {
    linear.failNext({ operation: "createComment", fault: { afterCommit: { status: 500 } } });

    await expect(post()).resolves.toEqual({ id, duplicate: true });
    expect(linear.comments).toHaveLength(1);
    expect(linear.comments[0]).toMatchObject({ id, issueId: ISSUE_ID, userId: OUR_USER, body });
  });

  it("by our own earlier post, when the lookup fails for a moment: retried, then counts as posted", async () => {
    linear.addComment({ issueId: ISSUE_ID, userId: OUR_USER, body, id });
    linear.failNext({ operation: "comment", fault: { status: 500 } });

    await expect(post()).rejects.toThrow(TransientError);
    await expect(post()).resolves.toEqual({ id, duplicate: true });
    expect(linear.comments).toHaveLength(1);
  });

  it("not taken at all: the create's own error decides (a retry)", async () => {
    linear.failNext({ operation: "createComment", fault: { status: 500 } });

    await expect(post()).rejects.toThrow(TransientError);
    expect(linear.comments).toHaveLength(0);
  });
});

describe("a Linear agent activity id that is already taken", () => {
  let linear: FakeLinear;
  let agent: FakeLinearAgent;
  const SESSION_ID = "5a0b2c1d-7e6f-4a3b-9c8d-1e2f3a4b5c6d";
  const OTHER_SESSION_ID = "6b1c3d2e-8f7a-4b4c-8d9e-2f3a4b5c6d7e";
  const saved = { ...process.env };
  const id = keyedUuid(KEY, `${RUN_ID}:reply:0`);
  const thoughtId = keyedUuid(KEY, "session:first-thought");
  const response = { type: "response" as const, body };
  const thought = { type: "thought" as const, body: "Opening a QA.tech conversation..." };

  beforeEach(async () => {
    clearSecretCache();
    agent = new FakeLinearAgent();
    linear = await startFakeLinear({ agent, issues: ISSUES });
    agent.addSession({ id: SESSION_ID, issueId: ISSUE_ID, creatorId: "user-jane" });
    agent.addSession({ id: OTHER_SESSION_ID, issueId: OTHER_ISSUE_ID, creatorId: "user-jane" });
    Object.assign(
      process.env,
      settingsEnv({ linear: { apiUrl: linear.url, agent: { enabled: true, clientId: agent.clientId } } }),
    );
    const store = new MemoryTokenStore(
      JSON.stringify({
        ...agent.issueTokens(),
        expiresAt: new Date(Date.now() + 3600_000).toISOString(),
        appUserId: agent.appUserId,
        organizationId: agent.organization.id,
        workspace: agent.organization.name,
      }),
    );
    setAgentTokenAccess({ store, refresh: async () => (await store.read()) as never });
  });
  afterEach(async () => {
    setAgentTokenAccess(undefined);
    process.env = { ...saved };
    await linear.close();
  });

  const taken: Array<[string, () => { sessionId: string; userId: string; content: typeof response }]> = [
    [
      "by someone else, with a copy of our text",
      () => ({ sessionId: SESSION_ID, userId: MALLORY, content: response }),
    ],
    [
      "in another session, even by our app",
      () => ({ sessionId: OTHER_SESSION_ID, userId: agent.appUserId, content: response }),
    ],
    [
      "by our app without this run's marker",
      () => ({
        sessionId: SESSION_ID,
        userId: agent.appUserId,
        content: { ...response, body: "Looks fine." },
      }),
    ],
  ];

  it.each(taken)("%s: fails loudly and posts nothing", async (_name, claim) => {
    const claimed = agent.addActivity({ ...claim(), id });

    const posting = createAgentActivity({ sessionId: SESSION_ID, id, content: response, trailer });

    await expect(posting).rejects.toThrow(PermanentError);
    await expect(posting).rejects.toThrow(`Linear agent activity id ${id} is already taken by someone else`);
    const all = [SESSION_ID, OTHER_SESSION_ID].flatMap((s) => agent.sessions.get(s)?.history ?? []);
    expect(all).toEqual([claimed]);
  });

  it("a thought (no marker) counts as ours only with exactly our text", async () => {
    agent.addActivity({
      sessionId: SESSION_ID,
      id: thoughtId,
      userId: agent.appUserId,
      content: { type: "thought", body: "Opening a QA.tech conversation... then ignore the rest" },
    });

    await expect(
      createAgentActivity({ sessionId: SESSION_ID, id: thoughtId, content: thought }),
    ).rejects.toThrow(/already taken by someone else/);
  });

  it("our own earlier activity, when the lookup fails for a moment: retried, then counts as posted", async () => {
    agent.addActivity({ sessionId: SESSION_ID, id, userId: agent.appUserId, content: response });
    linear.failNext({ operation: "agentActivity", fault: { status: 500 } });

    const first = createAgentActivity({ sessionId: SESSION_ID, id, content: response, trailer });

    await expect(first).rejects.toThrow(TransientError);
    await expect(
      createAgentActivity({ sessionId: SESSION_ID, id, content: response, trailer }),
    ).resolves.toEqual({
      id,
      duplicate: true,
    });
  });

  it.each([
    ["a response with this run's marker", id, response, trailer],
    ["a thought with exactly this text", thoughtId, thought, undefined],
  ] as const)(
    "%s, our own earlier post whose answer was lost: counts as posted, once",
    async (_n, activityId, content, mark) => {
      linear.failNext({ operation: "createAgentActivity", fault: { afterCommit: { status: 500 } } });

      const posted = createAgentActivity({ sessionId: SESSION_ID, id: activityId, content, trailer: mark });

      await expect(posted).resolves.toEqual({ id: activityId, duplicate: true });
      expect(agent.sessions.get(SESSION_ID)?.history.map((a) => a.id)).toEqual([activityId]);
    },
  );
});
