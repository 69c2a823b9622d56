import type { TicketComment } from "../../../../../functions/shared/domain/comment";
import { type CommentKind, markerText } from "../../../../../functions/shared/domain/marker";
import type { Ticket } from "../../../../../functions/shared/domain/ticket";
import { setLogSink } from "../../../../../functions/shared/platform/log";
import { clearSecretCache } from "../../../../../functions/shared/platform/secrets";
import { linearAgent } from "../../../../../functions/shared/trackers/linear-agent";
import { setAgentTokenAccess } from "../../../../../functions/shared/trackers/linear-agent/token-store";
import { MemoryTokenStore } from "../../../../../local/linear-agent";
import { type FakeLinear, ratelimitedFault, startFakeLinear } from "../../../../../simulators/linear";
import { type FakeAgentSession, FakeLinearAgent } from "../../../../../simulators/linear-agent";
import type { Fault } from "../../../../../simulators/server";
import { settingsEnv } from "../../../../support/settings";

const KEY = "the-deployment's-marker-key";
const ISSUE_ID = "539068e2-ae88-4d09-bd75-22eb4a59612f";
const SESSION_ID = "5a0b2c1d-7e6f-4a3b-9c8d-1e2f3a4b5c6d";
const RUN_ID = "linear-agent-0123456789abcdef";
const ISSUES = {
  [ISSUE_ID]: { identifier: "ENG-42", title: "Checkout", url: "https://linear.app/acme/issue/ENG-42" },
};
const TICKET: Ticket = {
  tracker: "linear-agent",
  id: ISSUE_ID,
  key: "ENG-42",
  title: "Checkout",
  url: "https://linear.app/acme/issue/ENG-42",
  description: "",
  sessionId: SESSION_ID,
};
const LINK = { url: "https://app.qa.tech/p/proj_shop/c/chat_1", label: "Open the conversation in QA.tech" };
const STEPS = [
  "Open a QA.tech conversation",
  "QA.tech tests the ticket",
  "Wait for the test runs",
  "Verdict",
];

/** The plan's statuses, in the steps' order, after checking that the steps are the four, in order. */
function statuses(plan: FakeAgentSession["plan"]): string[] | undefined {
  if (!plan) return undefined;
  expect(plan.map((s) => s.content)).toEqual(STEPS);
  return plan.map((s) => s.status);
}

/** The session's plan as posted through the agent tracker: Linear's agentSessionUpdate, after each activity. */
describe("the Linear agent's plan", () => {
  let linear: FakeLinear;
  let agent: FakeLinearAgent;
  let session: FakeAgentSession;
  let logs: string[];
  let previousSink: (line: string) => void;
  const saved = { ...process.env };

  beforeEach(async () => {
    clearSecretCache();
    agent = new FakeLinearAgent({ notifyProactiveSessions: false });
    linear = await startFakeLinear({ agent, issues: ISSUES });
    session = agent.addSession({ id: SESSION_ID, issueId: ISSUE_ID, creatorId: "user-jane" });
    Object.assign(process.env, {
      ...settingsEnv({ linear: { apiUrl: linear.url, agent: { enabled: true, clientId: agent.clientId } } }),
      MARKER_KEY: KEY,
    });
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
    logs = [];
    previousSink = setLogSink((line) => logs.push(line));
  });
  afterEach(async () => {
    setLogSink(previousSink);
    setAgentTokenAccess(undefined);
    process.env = { ...saved };
    await linear.close();
  });

  let sequence = 0;
  const post = (comment: Partial<TicketComment> & { kind: CommentKind }, ticket = TICKET) =>
    linearAgent.postComment(
      ticket,
      { markdown: `The ${comment.kind}.`, ...comment },
      {
        runId: RUN_ID,
        trailer: markerText(KEY, ticket, { runId: RUN_ID, kind: comment.kind, conversationId: "chat_1" }),
        sequence: comment.kind === "progress" ? ++sequence : undefined,
      },
    );
  const planUpdates = () =>
    linear.requests.filter(
      (r) =>
        r.operation === "updateAgentSession" &&
        (r.variables as { input?: { plan?: unknown } }).input?.plan !== undefined,
    );

  it("follows the run: the tests under way, then the wait for the runs, then every step done", async () => {
    await post({ kind: "ack", link: LINK });
    expect(statuses(session.plan)).toEqual(["completed", "inProgress", "pending", "pending"]);

    await post({ kind: "progress" });
    expect(statuses(session.plan)).toEqual(["completed", "inProgress", "pending", "pending"]);

    await post({ kind: "progress", step: "runs" });
    expect(statuses(session.plan)).toEqual(["completed", "completed", "inProgress", "pending"]);

    await post({ kind: "reply", link: LINK });
    expect(statuses(session.plan)).toEqual(["completed", "completed", "completed", "completed"]);
    expect(session.planHistory).toHaveLength(4);
  });

  it("posts each activity first and the plan after it (Linear's 10-second rule counts the activity)", async () => {
    await post({ kind: "ack", link: LINK });

    const order = linear.requests
      .map((r) => r.operation)
      .filter((op) => op === "createAgentActivity" || op === "updateAgentSession");
    // The Open link, the thought, then the plan.
    expect(order).toEqual(["updateAgentSession", "createAgentActivity", "updateAgentSession"]);
    expect(planUpdates()).toHaveLength(1);
  });

  it("a label run's acknowledgement opens the session, then shows the plan there", async () => {
    await post({ kind: "ack", link: LINK }, { ...TICKET, sessionId: undefined });

    const opened = [...agent.sessions.values()].find((s) => s.id !== SESSION_ID);
    expect(opened?.history.map((a) => a.content.type)).toEqual(["thought"]);
    expect(statuses(opened?.plan)).toEqual(["completed", "inProgress", "pending", "pending"]);
  });

  it("a failure: what was done stays completed, the rest is canceled", async () => {
    await post({ kind: "ack", link: LINK });
    await post({ kind: "failure", link: LINK, failed: true });

    expect(session.activities.at(-1)?.content.type).toBe("error");
    expect(statuses(session.plan)).toEqual(["completed", "canceled", "canceled", "canceled"]);
  });

  it("a failure before the conversation was opened: every step canceled", async () => {
    await post({ kind: "failure", failed: true });

    expect(statuses(session.plan)).toEqual(["canceled", "canceled", "canceled", "canceled"]);
  });

  it("a reply that failed gives its verdict, but QA.tech's tests and runs were cut short", async () => {
    await post({ kind: "reply", link: LINK, failed: true });

    expect(session.activities.at(-1)?.content.type).toBe("error");
    expect(statuses(session.plan)).toEqual(["completed", "canceled", "canceled", "completed"]);
  });

  it("a command's answer leaves the plan as it was", async () => {
    await post({ kind: "ack", link: LINK });
    await post({ kind: "reply", link: LINK });

    await post({ kind: "answer", link: LINK });

    expect(session.activities.at(-1)?.content.type).toBe("response");
    expect(session.planHistory).toHaveLength(2);
    expect(planUpdates()).toHaveLength(2);
  });

  it.each([
    ["Linear's rate limit", ratelimitedFault({ retryAfterSeconds: 3600 })],
    ["an outage", { status: 500 }],
    [
      "a refusal",
      {
        status: 400,
        body: { errors: [{ message: "plan is not valid", extensions: { type: "invalid input" } }] },
      },
    ],
  ] as Array<[string, Fault]>)(
    "%s on the plan: logged and skipped, once; the comment is posted",
    async (_name, fault) => {
      const isPlan = (variables: unknown) =>
        (variables as { input?: { plan?: unknown } }).input?.plan !== undefined;
      linear.failNext({ operation: "updateAgentSession", variables: isPlan, fault });

      const posted = await post({ kind: "reply", link: LINK });

      expect(posted).toEqual({ id: SESSION_ID, duplicate: false });
      expect(session.activities.at(-1)?.content.type).toBe("response");
      expect(session.plan).toBeUndefined();
      expect(planUpdates()).toHaveLength(1); // never retried
      const warned = logs.map((l) => JSON.parse(l)).find((l) => l.message === "session plan not updated");
      expect(warned).toMatchObject({ level: "WARN", runId: RUN_ID, sessionId: SESSION_ID, kind: "reply" });
    },
  );
});
