import { type Harness, startHarness } from "../../simulators/harness";
import { ratelimitedFault } from "../../simulators/linear";
import type { FakeAgentSession } from "../../simulators/linear-agent";
import { waitFor } from "../support/wait-for";

const ISSUE_ID = "539068e2-ae88-4d09-bd75-22eb4a59612f"; // ENG-42, from the Issue.update.label-added fixture

/** The activities of a session as a person sees them: type and body. */
/**
 * Waits until `check` holds, polling the agent's state: for its webhook deliveries only, which the
 * simulator records after the runner answered them, with no request of ours to the simulator to await.
 */
async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function seen(session: FakeAgentSession) {
  return session.activities.map((a) => ({
    type: a.content.type,
    body: a.content.body ?? "",
    ephemeral: a.ephemeral,
  }));
}

/** Activities the app posted (not the person's prompts). */
function appActivities(h: Harness, session: FakeAgentSession) {
  return seen(session).filter((_, i) => session.activities[i].userId === h.agent.appUserId);
}

describe("QA.tech as a Linear agent, end to end through the local runner", () => {
  let h: Harness;
  afterEach(async () => {
    await h.runner.settled();
    // Linear's 10-second rule, as the simulator saw it, holds in every test.
    expect(h.agent.unresponsive()).toEqual([]);
    await h.close();
  });

  it("answers a mention: a thought at once, the Open link, progress, then QA.tech's reply as the response", async () => {
    h = await startHarness({
      agent: {},
      qatech: { plan: () => ({ pollsUntilFinal: 4, text: "Checked the **empty cart**: it passes." }) },
    });

    const session = await h.agent.mention(ISSUE_ID, "@QA.tech check the empty-cart case");
    // Linear's 10-second rule, whatever the machine's speed: the webhook posted the first thought before it
    // answered the delivery (docs/linear-agent.md), so the response never waits for the run.
    const respondedByDelivery = h.agent.responseDelayMs(session.id) !== undefined;
    await h.runner.settled();

    const [created] = h.agent.deliveries;
    expect(created).toMatchObject({ action: "created", status: 200, body: { outcome: "started" } });
    const activities = appActivities(h, session);
    expect(activities[0]).toEqual({
      type: "thought",
      body: "Opening a QA.tech conversation...",
      ephemeral: false,
    });
    expect(activities.at(-1)?.type).toBe("response");
    expect(activities.at(-1)?.body).toContain("Checked the **empty cart**: it passes.");
    const [conversation] = h.qatech.conversations();
    expect(session.externalUrls).toEqual([{ label: "QA.tech conversation", url: conversation.url }]);
    expect(session.status).toBe("complete");
    // The person's request reached QA.tech with the issue.
    const asked = conversation.messages.find((m) => m.role === "user")?.text;
    expect(asked).toContain("check the empty-cart case");
    expect(asked).toContain("ENG-42");
    // While QA.tech wrote, its partial text showed as an ephemeral thought (replaced by the next activity).
    const progress = session.history.filter((a) => a.ephemeral && a.content.type === "thought");
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(progress[0].content.body).toBe("Checked the **empty");
    expect(respondedByDelivery).toBe(true);
  });

  it("delivered again with the same Linear-Delivery, starts one run and posts the first thought once", async () => {
    h = await startHarness({ agent: {} });

    const session = await h.agent.mention(ISSUE_ID, "@QA.tech test it");
    const again = await h.agent.redeliver(h.agent.deliveries[0]);
    await h.runner.settled();

    expect(again.status).toBe(200);
    expect(again.body.outcome).toMatch(/duplicate|started/);
    expect(h.runner.executions.size).toBe(1);
    expect(h.qatech.conversations()).toHaveLength(1);
    const firstThoughts = session.history.filter(
      (a) => a.content.body === "Opening a QA.tech conversation...",
    );
    expect(firstThoughts).toHaveLength(1);
    expect(appActivities(h, session).filter((a) => a.type === "response")).toHaveLength(1);
  });

  it("sends a message in the session to the same conversation; its answer is the next response", async () => {
    h = await startHarness({
      agent: {},
      qatech: { plan: (m) => ({ text: m.includes("Safari") ? "Safari fails too." : "Done: it passes." }) },
    });
    const session = await h.agent.mention(ISSUE_ID, "@QA.tech check checkout");
    await h.runner.settled();

    await h.agent.prompt(session.id, "Does it also work on mobile Safari?");
    await h.runner.settled();

    expect(h.qatech.conversations()).toHaveLength(1);
    const responses = appActivities(h, session).filter((a) => a.type === "response");
    // The labelled session's response opens with its verdict (this reply links no run and states none); the
    // answer to a question in the session has no verdict unless it gives one.
    expect(responses.map((r) => r.body.split("\n\n").slice(0, 2))).toEqual([
      [expect.stringMatching(/^\*\*Could not verify\*\*/), "Done: it passes."],
      ["Safari fails too.", expect.any(String)],
    ]);
    expect(h.agent.deliveries.map((d) => [d.action, d.status])).toEqual([
      ["created", 200],
      ["prompted", 200],
    ]);
  });

  it("answers `@qa status` written in the session from the session's conversation", async () => {
    h = await startHarness({ agent: {} });
    const session = await h.agent.mention(ISSUE_ID, "@QA.tech check checkout");
    await h.runner.settled();

    await h.agent.prompt(session.id, "@qa status");
    await h.runner.settled();

    expect(appActivities(h, session).at(-1)).toMatchObject({ type: "response" });
    expect(appActivities(h, session).at(-1)?.body).toMatch(/^QA\.tech's latest reply is completed\./);
    expect(h.qatech.conversations()).toHaveLength(1);
  });

  it("meets the 10-second rule for many sessions opened at once", async () => {
    h = await startHarness({ agent: {} });

    // Each session has its first response by the time its delivery is answered, however many run at once.
    const mentioned = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const session = await h.agent.mention(ISSUE_ID, `@QA.tech check case ${i}`);
        return { session, respondedByDelivery: h.agent.responseDelayMs(session.id) !== undefined };
      }),
    );
    await h.runner.settled();

    for (const { session, respondedByDelivery } of mentioned) {
      expect(respondedByDelivery).toBe(true);
      expect(appActivities(h, session).at(-1)?.type).toBe("response");
    }
    expect(h.qatech.conversations()).toHaveLength(12);
  });

  it("stops at once on a stop request: the run is stopped, a final response says so, nothing is posted after it", async () => {
    h = await startHarness({ agent: {}, qatech: { plan: () => ({ status: "NEVER" }) } });
    const session = await h.agent.mention(ISSUE_ID, "@QA.tech check checkout");
    // The acknowledgement is in (a post in flight when the stop arrives may land after it: docs/linear-agent.md, Limits).
    await waitFor(() => session.history.some((a) => a.content.body?.startsWith("QA.tech is on it")));

    const stop = await h.agent.stop(session.id);
    await h.runner.settled();

    const delivery = h.agent.deliveries.at(-1);
    expect(delivery).toMatchObject({ action: "prompted", status: 200, body: { outcome: "stopped" } });
    const [run] = [...h.runner.executions.values()];
    expect(run.status).toBe("ABORTED");
    const last = session.history.at(-1);
    expect(last?.content.type).toBe("response");
    expect(last?.content.body).toMatch(/^Stopped, as asked/);
    expect(Date.parse(last?.createdAt ?? "")).toBeGreaterThan(Date.parse(stop.createdAt));
  });

  it("a stop that arrives before the run exists wins: the redelivered `created` posts nothing and starts nothing", async () => {
    h = await startHarness({ agent: {} });
    // Linear's rate limit refuses the first thought: the webhook answers 500 so that Linear delivers again.
    h.linear.failNext({
      operation: "createAgentActivity",
      fault: ratelimitedFault({ retryAfterSeconds: 30 }),
    });
    const session = await h.agent.mention(ISSUE_ID, "@QA.tech check checkout");
    expect(h.agent.deliveries[0]).toMatchObject({ action: "created", status: 500 });

    await h.agent.stop(session.id);
    const redelivered = await h.agent.redeliver(h.agent.deliveries[0]);
    await h.runner.settled();

    expect(redelivered).toMatchObject({ status: 200, body: { outcome: "stopped before it started" } });
    expect(h.runner.executions.size).toBe(0);
    expect(h.qatech.conversations()).toHaveLength(0);
    // After the stop, only its own response: no "Opening a QA.tech conversation..." that would show the
    // session active again.
    const afterStop = session.history.slice(session.history.findIndex((a) => a.signal === "stop") + 1);
    expect(afterStop.map((a) => [a.content.type, a.content.body?.split(",")[0]])).toEqual([
      ["response", "Stopped"],
    ]);
    expect(session.status).toBe("complete");
  });

  it("a stop while the start waits in the queue: the start is dropped, QA.tech opens no conversation", async () => {
    h = await startHarness({ agent: {} });
    // QA.tech asks to come back in a second: the start goes back to the queue, and the run waits on it.
    h.qatech.failNext({
      method: "POST",
      path: "/v1/chat",
      fault: { status: 429, body: { message: "Too many requests" }, headers: { "retry-after": "1" } },
    });
    const session = await h.agent.mention(ISSUE_ID, "@QA.tech check checkout");
    await waitFor(() => h.qatech.requests.some((r) => r.method === "POST" && r.path === "/v1/chat"));

    await h.agent.stop(session.id);
    await h.runner.settled(); // the queue included: the postponed start has been delivered again

    expect(h.agent.deliveries.at(-1)).toMatchObject({ action: "prompted", body: { outcome: "stopped" } });
    const [run] = [...h.runner.executions.values()];
    expect(run.status).toBe("ABORTED");
    expect(h.qatech.requests.filter((r) => r.method === "POST" && r.path === "/v1/chat")).toHaveLength(1);
    expect(h.qatech.conversations()).toHaveLength(0);
    expect(session.history.at(-1)?.content.body).toMatch(/^Stopped, as asked/);
  });

  it("a run whose conversation fails ends with an error activity saying what happened", async () => {
    h = await startHarness({ agent: {}, qatech: { plan: () => ({ status: "FAILED" }) } });

    const session = await h.agent.mention(ISSUE_ID, "@QA.tech check checkout");
    await h.runner.settled();

    const last = appActivities(h, session).at(-1);
    expect(last?.type).toBe("error");
    expect(last?.body).toContain("QA.tech's reply failed before it was complete");
    expect(session.status).toBe("error");
  });

  it("rides out Linear's rate limit in the run: the refused step is retried, the session completes", async () => {
    h = await startHarness({ agent: {} });
    // The acknowledgement's session update is refused once with Linear's ratelimited error.
    h.linear.failNext({ operation: "updateAgentSession", fault: ratelimitedFault({ retryAfterSeconds: 1 }) });

    const session = await h.agent.mention(ISSUE_ID, "@QA.tech check checkout");
    await h.runner.settled();

    const [run] = [...h.runner.executions.values()];
    expect(run.status).toBe("SUCCEEDED");
    const retried = run.events.filter(
      (e) => e.type === "StateRetried" && e.state.name === "PostAcknowledgement",
    );
    expect(retried).toHaveLength(1);
    expect(session.externalUrls).toHaveLength(1);
    expect(appActivities(h, session).at(-1)?.type).toBe("response");
  });

  it("skips a progress update Linear refuses: no retry for hours, and the reply still comes", async () => {
    h = await startHarness({
      agent: {},
      qatech: { plan: () => ({ pollsUntilFinal: 4, text: "Checked the **empty cart**: it passes." }) },
    });
    // Every progress post (the ephemeral activities) is refused with Linear's rate limit.
    const ephemeral = (variables: unknown) =>
      (variables as { input?: { ephemeral?: boolean } }).input?.ephemeral === true;
    h.linear.failNext({
      operation: "createAgentActivity",
      variables: ephemeral,
      fault: ratelimitedFault({ retryAfterSeconds: 3600 }),
      times: 100,
    });

    const session = await h.agent.mention(ISSUE_ID, "@QA.tech check the empty-cart case");
    await h.runner.settled();

    const refused = h.linear.requests.filter(
      (r) => r.operation === "createAgentActivity" && ephemeral(r.variables),
    );
    expect(refused.length).toBeGreaterThanOrEqual(1);
    const [run] = [...h.runner.executions.values()];
    expect(run.status).toBe("SUCCEEDED");
    expect(run.events.filter((e) => e.type === "StateRetried" && e.state.name === "PostProgress")).toEqual(
      [],
    );
    expect(session.history.filter((a) => a.ephemeral)).toEqual([]);
    expect(appActivities(h, session).at(-1)).toMatchObject({ type: "response" });
    expect(appActivities(h, session).at(-1)?.body).toContain("Checked the **empty cart**: it passes.");
  });

  it("with the trigger label, opens a session on the issue with the link, ignores its own `created`, answers there", async () => {
    h = await startHarness({ agent: {} });

    const res = await h.sendLinear("Issue.update.label-added");
    await h.runner.settled();
    await until(() => h.agent.deliveries.length > 0);
    await h.runner.settled();

    expect(res.body.outcome).toBe("started");
    const [session] = [...h.agent.sessions.values()];
    expect(session.creatorId).toBeUndefined();
    expect(session.externalUrls).toHaveLength(1);
    expect(h.agent.deliveries[0]).toMatchObject({
      action: "created",
      body: { outcome: "ignored (our own session)" },
    });
    expect(appActivities(h, session).map((a) => a.type)).toEqual(["thought", "response"]);
    expect(h.linear.comments).toHaveLength(0);
    expect(h.runner.executions.size).toBe(1);
  });
  it("a stop in a label run's session stops that run at once: the final response, no more polls", async () => {
    h = await startHarness({ agent: {}, qatech: { plan: () => ({ status: "NEVER" }) } });
    await h.sendLinear("Issue.update.label-added");
    await waitFor(() =>
      [...h.agent.sessions.values()].some((s) =>
        s.history.some((a) => a.content.body?.startsWith("QA.tech is on it")),
      ),
    );
    const [session] = [...h.agent.sessions.values()];
    const polls = () => h.qatech.requests.filter((r) => r.method === "GET").length;

    await h.agent.stop(session.id);
    const pollsAtStop = polls();
    await h.runner.settled();

    const stopDelivery = h.agent.deliveries.find((d) => d.action === "prompted");
    expect(stopDelivery).toMatchObject({ status: 200, body: { outcome: "stopped" } });
    const [run] = [...h.runner.executions.values()];
    expect(run.status).toBe("ABORTED");
    expect(polls()).toBeLessThanOrEqual(pollsAtStop + 1); // at most the one in flight
    expect(session.history.at(-1)?.content.body).toMatch(/^Stopped, as asked/);
  });
});

describe("a label run in agent mode that fails before it has a session", () => {
  let h: Harness;
  afterEach(async () => {
    await h.runner.settled();
    expect(h.agent.unresponsive()).toEqual([]);
    await h.close();
  });

  it("comments the failure on the issue, as the label flow does, and opens no session", async () => {
    h = await startHarness({ agent: {} });
    h.qatech.failNext({
      method: "POST",
      path: "/v1/chat",
      fault: { status: 403, body: { message: "Forbidden project" } },
    });

    await h.sendLinear("Issue.update.label-added");
    await h.runner.settled();

    expect(h.agent.sessions.size).toBe(0);
    expect(h.linear.comments).toHaveLength(1);
    expect(h.linear.comments[0].body).toContain("QA.tech could not take this ticket");
  });
});

describe("the Linear agent's tokens", () => {
  let h: Harness;
  afterEach(async () => h.close());

  it("a run whose token expired meanwhile refreshes it once and finishes", async () => {
    h = await startHarness({ agent: {} });
    const session = await h.agent.mention(ISSUE_ID, "@QA.tech check checkout");
    await h.runner.settled();
    h.agent.expireAccessTokens(); // 24 h later

    await h.agent.prompt(session.id, "And on mobile Safari?");
    await h.runner.settled();

    expect(h.agent.deliveries.at(-1)?.status).toBe(200);
    expect(h.agent.grants.refresh_token).toBe(1);
    expect(appActivities(h, session).filter((a) => a.type === "response")).toHaveLength(2);
  });

  it("issue reads made with the agent's token (the ticket, its attachments) refresh it after a 401 too, and go on", async () => {
    h = await startHarness({ agent: {} });
    const { trackerOf } = await import("../../functions/shared/trackers");
    const agent = await trackerOf("linear-agent");
    const ticket = {
      tracker: "linear-agent" as const,
      id: ISSUE_ID,
      key: "ENG-42",
      title: "",
      url: "",
      description: "",
    };
    await agent.refreshTicket(ticket); // the process now holds the token
    h.agent.expireAccessTokens(); // as 24 h later: Linear answers 401 to it

    const refreshed = await agent.refreshTicket(ticket);
    const links = await agent.linkedUrls(ticket);

    expect(refreshed.key).toBe("ENG-42");
    expect(links).toEqual([]);
    expect(h.agent.grants.refresh_token).toBe(1);
  });

  it("moves the issue to a state of its team with the agent's token, refreshed after a 401 like every read", async () => {
    h = await startHarness({ agent: {} });
    const { trackerOf } = await import("../../functions/shared/trackers");
    const agent = await trackerOf("linear-agent");
    const ticket = {
      tracker: "linear-agent" as const,
      id: ISSUE_ID,
      key: "ENG-42",
      title: "",
      url: "",
      description: "",
    };
    await agent.refreshTicket(ticket); // the process now holds the token
    h.agent.expireAccessTokens(); // as 24 h later: Linear answers 401 to it

    const moved = await agent.moveTicket(ticket, "in progress");
    const missing = await agent.moveTicket(ticket, "Shipped");

    expect(moved).toEqual({ moved: true, to: "In Progress" });
    expect(h.linear.stateChanges.map((c) => c.to)).toEqual([expect.stringMatching(/-in-progress$/)]);
    const update = h.linear.requests.find((r) => r.operation === "updateIssue");
    expect(update?.headers.authorization).toMatch(/^Bearer /);
    expect(missing).toMatchObject({
      moved: false,
      reason: expect.stringContaining('no workflow state named "Shipped"'),
    });
    expect(h.agent.grants.refresh_token).toBe(1);
  });

  it("many concurrent 401s refresh exactly once; every caller goes on with the new token", async () => {
    h = await startHarness({ agent: {} });
    const session = await h.agent.mention(ISSUE_ID, "@QA.tech check checkout");
    await h.runner.settled();
    const { sessionActivities } = await import("../../functions/shared/trackers/linear-agent/api");
    await sessionActivities(session.id); // the process now holds the token
    h.agent.expireAccessTokens(); // as 24 h later: Linear answers 401 to it

    const reads = await Promise.all(Array.from({ length: 20 }, () => sessionActivities(session.id)));

    expect(reads.every((r) => r.length === session.activities.length)).toBe(true);
    expect(h.agent.grants.refresh_token).toBe(1);
    expect(h.agent.grants.refused).toBe(0);
    expect(h.runner.agentTokens?.writes).toHaveLength(1);
  });
});

describe("what QA.tech is asked for a new session (Linear's agent input: promptContext, guidance, the thread)", () => {
  let h: Harness;
  afterEach(async () => {
    await h.runner.settled();
    expect(h.agent.unresponsive()).toEqual([]);
    await h.close();
  });

  const guidance = [{ body: "Test on the staging site only.", origin: { type: "workspace" } }];

  /** The first message QA.tech received (the request that opened the conversation). */
  function asked(): string {
    const [conversation] = h.qatech.conversations();
    return conversation?.messages.find((m) => m.role === "user")?.text ?? "";
  }

  it("delegation: the issue and the workspace's guidance, never Linear's system comment", async () => {
    h = await startHarness({ agent: { guidance } });

    await h.agent.delegate(ISSUE_ID);
    await h.runner.settled();

    expect(h.qatech.conversations()).toHaveLength(1);
    expect(asked()).toContain("ENG-42");
    expect(asked()).toContain("Test on the staging site only.");
    expect(asked()).not.toContain("This thread is for an agent session");
  });

  it("a mention in a reply: the mention itself, with the thread it answers, not just the thread's root", async () => {
    h = await startHarness({ agent: { guidance } });

    await h.agent.replyMention(
      ISSUE_ID,
      [{ body: "The coupon field broke last release." }, { body: "It seems fixed now." }],
      "@QA.tech please verify coupons on mobile Safari",
    );
    await h.runner.settled();

    expect(asked()).toContain("please verify coupons on mobile Safari");
    expect(asked()).toContain("It seems fixed now.");
    expect(asked()).toContain("Test on the staging site only.");
  });

  it("a mention at the thread's root: the mention and the guidance", async () => {
    h = await startHarness({ agent: { guidance } });

    await h.agent.mention(ISSUE_ID, "@QA.tech check the empty-cart case");
    await h.runner.settled();

    expect(asked()).toContain("check the empty-cart case");
    expect(asked()).toContain("Test on the staging site only.");
  });
});
