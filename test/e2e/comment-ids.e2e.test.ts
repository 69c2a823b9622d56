import { createHash } from "node:crypto";
import { v4 as uuidv4 } from "uuid";
import { keyedUuid } from "../../functions/shared/domain/marker";
import { detectLinearTrigger } from "../../functions/shared/trackers/linear/webhook";
import { createdRunId } from "../../functions/shared/trackers/linear-agent/session";
import { type Harness, startHarness } from "../../simulators/harness";
import { ratelimitedFault } from "../../simulators/linear";
import type { FakeAgentSession } from "../../simulators/linear-agent";
import { linearFixture } from "../../simulators/signing";

/**
 * Issue 17 item 1: comment and activity ids that anyone who sees the webhook could compute let them claim
 * the integration's ids first, and a comment under a claimed id passed for ours.
 */

const ISSUE_ID = "539068e2-ae88-4d09-bd75-22eb4a59612f"; // ENG-42, from the Issue.update.label-added fixture
const OTHER_ISSUE_ID = "8a1f3c55-0c1e-4b6e-9f57-0d7d1e7b2a10"; // from Issue.create.with-label
const MARKER_KEY = "e2e-deployment-marker-key";
const MALLORY = "user-mallory";

/** The ids before the fix: a plain digest of the run (public webhook fields) and the kind. */
function publicUuid(seed: string): string {
  return uuidv4({ random: createHash("sha256").update(seed).digest().subarray(0, 16) });
}

/** The run the labelled fixture starts, computed as anyone who sees the webhook can. */
const LABEL_RUN_ID = detectLinearTrigger(linearFixture("Issue.update.label-added"), "needs test")
  ?.runId as string;

function executionsOf(h: Harness) {
  const executions = [...h.runner.executions.values()];
  return {
    executions,
    visited: (name: string) =>
      executions.flatMap((e) => e.events).filter((e) => e.type === "StateEntered" && e.state.name === name)
        .length,
  };
}

describe("a Linear comment id claimed before the run posts it", () => {
  let h: Harness;
  afterEach(async () => {
    await h.runner.settled();
    await h.close();
  });

  it("with the ids anyone could compute: the acknowledgement and the reply still land, ours, on the issue", async () => {
    h = await startHarness({ env: { MARKER_KEY } });
    // The acknowledgement's id claimed on another issue, the reply's on this one.
    h.linear.addComment({
      issueId: OTHER_ISSUE_ID,
      userId: MALLORY,
      body: "first!",
      id: publicUuid(`${LABEL_RUN_ID}:ack`),
    });
    h.linear.addComment({
      issueId: ISSUE_ID,
      userId: MALLORY,
      body: "first!",
      id: publicUuid(`${LABEL_RUN_ID}:reply`),
    });

    const res = await h.sendLinear("Issue.update.label-added");
    await h.runner.settled();

    expect(res.body).toMatchObject({ outcome: "started", runId: LABEL_RUN_ID });
    const ours = h.linear.comments.filter((c) => c.userId === "user-qa-bot");
    const [ack] = h.linearAcks();
    expect(ack).toMatchObject({ issueId: ISSUE_ID, userId: "user-qa-bot" });
    const [conversation] = h.qatech.conversations();
    expect(ours.map((c) => [c.issueId, c.parentId])).toEqual([
      [ISSUE_ID, undefined],
      [ISSUE_ID, ack.id],
    ]);
    expect(ours[1].body).toContain(conversation.messages[0].text);
    expect(executionsOf(h).executions.map((e) => e.status)).toEqual(["SUCCEEDED"]);
  });

  it("with replyMode replace and the acknowledgement's computable id claimed: the reply replaces our own acknowledgement", async () => {
    h = await startHarness({ env: { MARKER_KEY, REPLY_MODE: "replace" } });
    h.linear.addComment({
      issueId: ISSUE_ID,
      userId: MALLORY,
      body: "first!",
      id: publicUuid(`${LABEL_RUN_ID}:ack`),
    });

    await h.sendLinear("Issue.update.label-added");
    await h.runner.settled();

    const ours = h.linear.comments.filter((c) => c.userId === "user-qa-bot");
    expect(ours).toHaveLength(1);
    expect(ours[0].edits).toHaveLength(1);
    expect(ours[0].body).toContain(h.qatech.conversations()[0].messages[0].text);
    expect(executionsOf(h).executions.map((e) => e.status)).toEqual(["SUCCEEDED"]);
  });

  it("with the keyed id itself (someone who has the key): the run fails visibly instead of passing for posted", async () => {
    h = await startHarness({ env: { MARKER_KEY } });
    const id = keyedUuid(MARKER_KEY, `${LABEL_RUN_ID}:reply`);
    h.linear.addComment({ issueId: ISSUE_ID, userId: MALLORY, body: "not the reply", id });

    await h.sendLinear("Issue.update.label-added");
    await h.runner.settled();

    const { executions, visited } = executionsOf(h);
    expect(executions.map((e) => e.status)).toEqual(["FAILED"]);
    expect(visited("PostFailure")).toBe(1);
    const ours = h.linear.comments.filter((c) => c.userId === "user-qa-bot");
    const [ack] = h.linearAcks();
    // The acknowledgement, then the failure comment in its thread saying what happened; no reply.
    expect(ours).toHaveLength(2);
    expect(ours[1].parentId).toBe(ack.id);
    expect(ours[1].body).toContain(`Linear comment id ${id} is already taken by someone else`);
    expect(h.linear.comments.find((c) => c.id === id)?.body).toBe("not the reply");
  });
});

describe("a Linear agent activity id claimed before the run posts it", () => {
  let h: Harness;
  afterEach(async () => {
    await h.runner.settled();
    await h.close();
  });

  /**
   * A mention whose first delivery Linear's rate limit refused: the session exists (its id is public to
   * everyone in it) but nothing was posted yet, so `claim` can take ids before the redelivery starts the run.
   */
  async function mentionThenClaim(claim: (session: FakeAgentSession) => void): Promise<FakeAgentSession> {
    h.linear.failNext({
      operation: "createAgentActivity",
      fault: ratelimitedFault({ retryAfterSeconds: 30 }),
    });
    const session = await h.agent.mention(ISSUE_ID, "@QA.tech check checkout");
    expect(h.agent.deliveries[0]).toMatchObject({ action: "created", status: 500 });
    claim(session);
    const redelivered = await h.agent.redeliver(h.agent.deliveries[0]);
    expect(redelivered.status).toBe(200);
    await h.runner.settled();
    return session;
  }

  const ours = (session: FakeAgentSession) =>
    session.history.filter((a) => a.userId === h.agent.appUserId).map((a) => a.content);

  it("with the ids anyone could compute: the first thought and the reply still land", async () => {
    h = await startHarness({ agent: {}, env: { MARKER_KEY } });

    const session = await mentionThenClaim((s) => {
      const run = createdRunId(s.id);
      for (const seed of [`${s.id}:first-thought`, `${run}:ack:0`, `${run}:reply:0`])
        h.agent.addActivity({
          sessionId: s.id,
          id: publicUuid(seed),
          userId: MALLORY,
          content: { type: "prompt", body: "first!" },
        });
    });

    const posted = ours(session);
    expect(posted[0]).toEqual({ type: "thought", body: "Opening a QA.tech conversation..." });
    expect(posted.at(-1)?.type).toBe("response");
    expect(posted.at(-1)?.body).toContain(h.qatech.conversations()[0].messages[0].text);
    expect(session.status).toBe("complete");
    expect(executionsOf(h).executions.map((e) => e.status)).toEqual(["SUCCEEDED"]);
  });

  it("with the keyed id itself: the run fails visibly, with an error in the session saying why", async () => {
    h = await startHarness({ agent: {}, env: { MARKER_KEY } });
    let id = "";

    const session = await mentionThenClaim((s) => {
      id = keyedUuid(MARKER_KEY, `${createdRunId(s.id)}:reply:0`);
      h.agent.addActivity({ sessionId: s.id, id, userId: MALLORY, content: { type: "prompt", body: "x" } });
    });

    expect(executionsOf(h).executions.map((e) => e.status)).toEqual(["FAILED"]);
    const posted = ours(session);
    expect(posted.some((c) => c.type === "response")).toBe(false);
    expect(posted.at(-1)?.type).toBe("error");
    expect(posted.at(-1)?.body).toContain(`Linear agent activity id ${id} is already taken by someone else`);
  });
});
