import { type Harness, startHarness } from "../../simulators/harness";
import { ratelimitedFault } from "../../simulators/linear";
import type { Fault } from "../../simulators/server";
import { adfText } from "../support/adf-text";

/**
 * Faults of the peers (QA.tech, Linear, Jira) injected through the simulators, seen the way a user sees
 * them: how many conversations were opened, how many comments landed on the ticket, what they say and how
 * the execution ended. WAIT_SCALE 0.01 (the harness default) makes the workflow's retries fast.
 */

const ISSUE_ID = "539068e2-ae88-4d09-bd75-22eb4a59612f";
const CHAT_GET = /^\/v1\/chat\/chat_[^/]+$/;

function outcome(h: Harness) {
  const executions = [...h.runner.executions.values()];
  const events = executions.flatMap((e) => e.events);
  return {
    conversations: h.qatech.conversations(),
    executions,
    chatPosts: h.qatech.requests.filter((r) => r.method === "POST" && r.path === "/v1/chat").length,
    chatGets: h.qatech.requests.filter((r) => r.method === "GET").length,
    retries: events.filter((e) => e.type === "StateRetried").length,
    statesVisited: (name: string) =>
      events.filter((e) => e.type === "StateEntered" && e.state.name === name).length,
  };
}

async function runLinear(h: Harness) {
  const res = await h.sendLinear("Issue.update.label-added");
  await h.runner.settled();
  expect(res).toMatchObject({ status: 200, body: { outcome: "started" } });
}

async function runJira(h: Harness) {
  const res = await h.sendJira("jira-issue_updated.label-added");
  await h.runner.settled();
  expect(res).toMatchObject({ status: 200, body: { outcome: "started" } });
}

/** The happy ending despite the fault: one conversation, one reply comment with its link, SUCCEEDED. */
function expectOneReplyOnLinear(h: Harness) {
  const o = outcome(h);
  expect(o.conversations).toHaveLength(1);
  expect(h.linearReplies()).toHaveLength(1);
  const [comment] = h.linearReplies();
  expect(comment.issueId).toBe(ISSUE_ID);
  expect(comment.body).toContain("Test created");
  expect(comment.body).toContain(`[Open the conversation in QA.tech](${o.conversations[0].url})`);
  expect(o.executions).toHaveLength(1);
  expect(o.executions[0].status).toBe("SUCCEEDED");
  expect(o.statesVisited("PostFailure")).toBe(0);
}

describe("faults of QA.tech, Linear and Jira, as the ticket sees them", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    if (!h) return;
    await h.runner.settled();
    await h.close();
    h = undefined;
  });

  describe("QA.tech transient failures are retried into one conversation and one reply", () => {
    const transient: Array<[string, Fault]> = [
      ["429 without Retry-After", { status: 429 }],
      ["500", { status: 500 }],
      ["502", { status: 502 }],
      ["503", { status: 503 }],
      ["504", { status: 504 }],
      ["408", { status: 408 }],
      ["a connection reset", { reset: true }],
      ["a malformed 200 body", { malformed: true }],
    ];

    it.each(transient)("POST /v1/chat answering %s", async (_name, fault) => {
      h = await startHarness();
      h.qatech.failNext({ method: "POST", path: "/v1/chat", fault });

      await runLinear(h);

      expectOneReplyOnLinear(h);
      const o = outcome(h);
      expect(o.chatPosts).toBe(2);
      expect(o.retries).toBe(1);
    });

    it.each(transient)("GET /v1/chat/{id} answering %s", async (_name, fault) => {
      h = await startHarness();
      h.qatech.failNext({ method: "GET", path: CHAT_GET, fault });

      await runLinear(h);

      expectOneReplyOnLinear(h);
      const o = outcome(h);
      expect(o.chatPosts).toBe(1);
      expect(o.retries).toBe(1);
    });

    it.each([
      ["POST", "/v1/chat"],
      ["GET", CHAT_GET],
    ] as const)(
      "%s answering 429 with Retry-After 1: waits at least that long, then one reply",
      async (method, path) => {
        h = await startHarness();
        h.qatech.failNext({ method, path, fault: { status: 429, headers: { "retry-after": "1" } } });
        const started = Date.now();

        await runLinear(h);

        // Retry-After is real seconds (not scaled by WAIT_SCALE): the client sits a short one out itself.
        expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
        expectOneReplyOnLinear(h);
        const o = outcome(h);
        expect(o.chatPosts).toBe(method === "POST" ? 2 : 1);
        expect(o.retries).toBeLessThanOrEqual(1);
      },
    );

    it("gives up after the retries and says QA.tech kept failing, with no conversation opened", async () => {
      h = await startHarness();
      h.qatech.failNext({ method: "POST", path: "/v1/chat", fault: { status: 503 }, times: 100 });

      await runLinear(h);

      const o = outcome(h);
      // One attempt plus the 5 retries of the definition.
      expect(o.chatPosts).toBe(6);
      expect(o.conversations).toHaveLength(0);
      expect(h.linearReplies()).toHaveLength(1);
      expect(h.linearReplies()[0].body).toContain("QA.tech kept failing, even after retries");
      expect(h.linearReplies()[0].body).toContain("Remove and re-add the label");
      expect(o.executions[0].status).toBe("FAILED");
    });
  });

  describe("QA.tech permanent refusals are not retried and are explained on the ticket", () => {
    it.each([400, 401, 402, 403, 404])("POST /v1/chat answering %i", async (status) => {
      h = await startHarness();
      h.qatech.failNext({ method: "POST", path: "/v1/chat", fault: { status } });

      await runLinear(h);

      const o = outcome(h);
      expect(h.qatech.requests).toHaveLength(1);
      expect(o.retries).toBe(0);
      expect(o.conversations).toHaveLength(0);
      expect(h.linearReplies()).toHaveLength(1);
      const [comment] = h.linearReplies();
      expect(comment.body).toContain(`QA.tech could not take this ticket: QA.tech answered ${status}`);
      expect(comment.body).toContain("Remove and re-add the label");
      expect(o.executions[0].status).toBe("FAILED");
      expect(o.statesVisited("PostFailure")).toBe(1);
    });

    it("GET /v1/chat/{id} answering 404: one comment that explains and links the conversation", async () => {
      h = await startHarness();
      h.qatech.failNext({ method: "GET", path: CHAT_GET, fault: { status: 404 } });

      await runLinear(h);

      const o = outcome(h);
      expect(o.chatGets).toBe(1);
      expect(o.retries).toBe(0);
      expect(h.linearReplies()).toHaveLength(1);
      expect(h.linearReplies()[0].body).toContain("QA.tech could not take this ticket: QA.tech answered 404");
      expect(h.linearReplies()[0].body).toContain(o.conversations[0].url);
      expect(o.executions[0].status).toBe("FAILED");
    });
  });

  it("times out a hung QA.tech answer (10 s client timeout) and retries into one reply", async () => {
    h = await startHarness();
    h.qatech.failNext({ method: "POST", path: "/v1/chat", fault: { hang: true } });
    const started = Date.now();

    await runLinear(h);

    expect(Date.now() - started).toBeGreaterThanOrEqual(10_000);
    expectOneReplyOnLinear(h);
    expect(outcome(h).chatPosts).toBe(2);
    expect(outcome(h).retries).toBe(1);
  }, 30_000);

  describe("Linear comment failures still leave exactly one comment", () => {
    const cases: Array<[string, Fault]> = [
      ["ratelimited", ratelimitedFault({ retryAfterSeconds: 1 })],
      ["HTTP 500", { status: 500 }],
      ["a connection reset", { reset: true }],
      ["a lost answer after the comment landed (afterCommit 500)", { afterCommit: { status: 500 } }],
      ["a reset after the comment landed (afterCommit reset)", { afterCommit: { reset: true } }],
    ];

    it.each(cases)("createComment failing with %s", async (_name, fault) => {
      h = await startHarness();
      h.linear.failNext({ operation: "createComment", fault });

      await runLinear(h);

      expectOneReplyOnLinear(h);
      expect(h.linear.requests.filter((r) => r.operation === "createComment").length).toBeGreaterThanOrEqual(
        1,
      );
    });
  });

  describe("Jira comment failures still leave exactly one comment", () => {
    const COMMENT = /^\/rest\/api\/3\/issue\/[^/]+\/comment$/;
    const cases: Array<[string, Fault]> = [
      ["429 with Retry-After 1", { status: 429, headers: { "retry-after": "1" } }],
      ["503", { status: 503 }],
      ["a lost answer after the comment landed (afterCommit 503)", { afterCommit: { status: 503 } }],
      ["a reset after the comment landed (afterCommit reset)", { afterCommit: { reset: true } }],
    ];

    it.each(cases)("POST comment failing with %s", async (_name, fault) => {
      h = await startHarness();
      h.jira.failNext({ method: "POST", path: COMMENT, fault });

      await runJira(h);

      const o = outcome(h);
      expect(o.conversations).toHaveLength(1);
      expect(h.jiraReplies()).toHaveLength(1);
      expect(h.jiraReplies()[0].issueKey).toBe("PROJ-123");
      expect(adfText(h.jiraReplies()[0].body)).toContain(`<${o.conversations[0].url}>`);
      expect(o.executions[0].status).toBe("SUCCEEDED");
      expect(o.statesVisited("PostFailure")).toBe(0);
    });
  });

  describe("a tracker outage does not silence a ticket", () => {
    // Each retry waits a jittered 5 s x 2^k, at most 5 minutes (lib/constructs/ticket-workflow.ts TRACKER_RETRY): 12 failures
    // in a row last about half an hour in AWS. WAIT_SCALE 0.001 plays them in well under a minute.
    it("Linear: createComment failing 12 times in a row still ends with the acknowledgement and the reply", async () => {
      h = await startHarness({ env: { WAIT_SCALE: "0.001" } });
      h.linear.failNext({ operation: "createComment", fault: { status: 503 }, times: 12 });

      await runLinear(h);

      expect(h.linearAcks()).toHaveLength(1);
      expectOneReplyOnLinear(h);
      expect(outcome(h).retries).toBeGreaterThanOrEqual(12);
    }, 60_000);

    it("Jira: POST comment failing 12 times in a row still ends with the acknowledgement and the reply", async () => {
      h = await startHarness({ env: { WAIT_SCALE: "0.001" } });
      h.jira.failNext({ method: "POST", path: /\/comment$/, fault: { status: 503 }, times: 12 });

      await runJira(h);

      const o = outcome(h);
      expect(h.jiraAcks()).toHaveLength(1);
      expect(h.jiraReplies()).toHaveLength(1);
      expect(o.executions[0].status).toBe("SUCCEEDED");
      expect(o.retries).toBeGreaterThanOrEqual(12);
    }, 60_000);

    it("says in the failure comment that the acknowledgement failed, instead of posting it again", async () => {
      h = await startHarness();
      const refused = {
        status: 400,
        body: { errors: [{ message: "Body is invalid", extensions: { type: "invalid input" } }] },
      };
      h.linear.failNext({ operation: "createComment", fault: refused });

      await runLinear(h);

      expect(h.linear.comments).toHaveLength(1);
      const [comment] = h.linear.comments;
      expect(comment.body).toContain("Could not post the acknowledgement");
      expect(comment.body).not.toMatch(/^QA\.tech is on it/);
      expect(outcome(h).executions[0].status).toBe("FAILED");
    });
  });

  it("comments the deadline on a Jira ticket when the reply never becomes final", async () => {
    h = await startHarness({
      qatech: { plan: () => ({ status: "NEVER" }) },
      env: { REPLY_TIMEOUT_SECONDS: "60" },
    });

    await runJira(h);

    const o = outcome(h);
    expect(o.conversations).toHaveLength(1);
    expect(h.jiraReplies()).toHaveLength(1);
    const text = adfText(h.jiraReplies()[0].body);
    expect(text).toContain("has not finished its reply after 1 minute");
    expect(text).toContain(`<${o.conversations[0].url}>`);
    expect(o.executions[0].status).toBe("FAILED");
    expect(o.executions[0].error?.message).toContain("did not finish its reply in time");
  });

  it("fails the execution visibly when even the failure comment cannot be posted (Linear auth error)", async () => {
    h = await startHarness({ linear: { apiKey: "lin_api_someone_else" } });

    await runLinear(h);

    const o = outcome(h);
    expect(o.conversations).toHaveLength(1);
    expect(h.linearReplies()).toHaveLength(0);
    // The acknowledgement is the first comment to fail; the failure comment is tried all the same.
    expect(o.statesVisited("PostAcknowledgement")).toBe(1);
    expect(o.statesVisited("PostReply")).toBe(0);
    expect(o.statesVisited("PostFailure")).toBe(1);
    // An authentication error is permanent: neither comment task is retried.
    expect(h.linear.requests.filter((r) => r.operation === "createComment")).toHaveLength(2);
    expect(o.executions[0].status).toBe("FAILED");
    expect(o.executions[0].error).toMatchObject({
      name: "CommentFailed",
      message: expect.stringContaining("Could not comment"),
    });
  });
});
