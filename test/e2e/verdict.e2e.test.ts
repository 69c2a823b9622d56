import { type Harness, jiraFixture, startHarness } from "../../simulators/harness";
import type { RunPlan } from "../../simulators/qatech";
import { adfText } from "../support/adf-text";
import { LINEAR_ISSUE, replyOnLinear } from "../support/linear-thread";

const LINEAR_ONLY = { JIRA_BASE_URL: "", JIRA_EMAIL: "", JIRA_API_TOKEN: "", JIRA_WEBHOOK_SECRET: "" };
const LABELS = {
  LABEL_TESTING: "testing",
  LABEL_TESTED: "tested",
  LABEL_TEST_FAILED: "test failed",
  LABEL_UNVERIFIED: "unverified",
};

const FAILING: RunPlan = {
  readsUntilFinal: 2,
  tests: [
    {
      name: "Checkout - empty cart",
      result: "FAILED",
      resultTitle: "The page stays blank",
      evaluationThought: "After pressing Checkout nothing rendered.",
    },
    { name: "Login", result: "PASSED" },
  ],
};
const PASSING: RunPlan = { tests: [{ name: "Checkout - empty cart", result: "PASSED" }] };

/** The Linear reply comment (the one after the acknowledgement), its markdown. */
function linearReply(h: Harness): string {
  const replies = h.linearReplies();
  expect(replies).toHaveLength(1);
  return replies[0].body;
}

function statesVisited(h: Harness, name: string): number {
  return [...h.runner.executions.values()]
    .flatMap((e) => e.events)
    .filter((e) => e.type === "StateEntered" && e.state.name === name).length;
}

async function labelledLinear(h: Harness): Promise<void> {
  await h.sendLinear("Issue.update.label-added");
  await h.runner.settled();
}

describe("the verdict on every labelled ticket, end to end through the local runner", () => {
  let h: Harness;
  afterEach(() => h.close());

  describe("Linear", () => {
    it("Failed: waits for the run the reply links, then opens the reply with the verdict and its table", async () => {
      h = await startHarness({
        qatech: { plan: () => ({ text: "I ran the checkout tests.", runs: [FAILING] }) },
        env: { ...LABELS, ...LINEAR_ONLY },
      });

      await labelledLinear(h);

      const body = linearReply(h);
      expect(body.startsWith("**Failed**")).toBe(true);
      expect(body).toContain("| Checkout \\- empty cart | failed | The page stays blank");
      expect(body).toContain("| Login | passed |");
      expect(body).toContain("I ran the checkout tests.");
      // The run showed RUNNING twice: the execution waited for it on the poll clock.
      expect(statesVisited(h, "WaitForRuns")).toBe(2);
      expect(h.linear.issueLabelIds(LINEAR_ISSUE)).toContain("lbl-test-failed");
      expect(h.linear.issueLabelIds(LINEAR_ISSUE)).not.toContain("lbl-tested");
    });

    it("Passed: every test passed; the label is 'tested'", async () => {
      h = await startHarness({
        qatech: { plan: () => ({ runs: [PASSING] }) },
        env: { ...LABELS, ...LINEAR_ONLY },
      });

      await labelledLinear(h);

      expect(linearReply(h).startsWith("**Passed**")).toBe(true);
      expect(h.linear.issueLabelIds(LINEAR_ISSUE)).toContain("lbl-tested");
    });

    it.each<[string, Parameters<typeof startHarness>[0], RegExp]>([
      [
        "no run linked and no verdict line",
        { qatech: { plan: () => ({ text: "I had a look." }) } },
        /linked no test run and gave no verdict line/,
      ],
      [
        "a run that ended in ERROR",
        { qatech: { plan: () => ({ runs: [{ ...PASSING, status: "ERROR" }] }) } },
        /error/,
      ],
      [
        "a run that was cancelled",
        { qatech: { plan: () => ({ runs: [{ ...PASSING, status: "CANCELLED" }] }) } },
        /cancelled/,
      ],
      [
        "only QA.tech's agent failed, not the product",
        {
          qatech: {
            plan: () => ({
              runs: [
                { tests: [{ name: "Checkout", result: "FAILED", errorCode: "AGENT_NAVIGATION_FAILED" }] },
              ],
            }),
          },
        },
        /could not run/,
      ],
      [
        "a key that may not read runs",
        { qatech: { runsAccess: "none", plan: () => ({ runs: [FAILING] }) } },
        /could not be read/,
      ],
      ["a reply that failed", { qatech: { plan: () => ({ status: "FAILED" }) } }, /reply failed/],
    ])("Could not verify: %s, with the reason, and never 'test failed'", async (_name, options, reason) => {
      h = await startHarness({ ...options, env: { ...LABELS, ...LINEAR_ONLY } });

      await labelledLinear(h);

      const body = linearReply(h);
      expect(body.startsWith("**Could not verify**")).toBe(true);
      expect(body.split("\n")[0]).toMatch(reason);
      expect(h.linear.issueLabelIds(LINEAR_ISSUE)).toContain("lbl-unverified");
      expect(h.linear.issueLabelIds(LINEAR_ISSUE)).not.toContain("lbl-test-failed");
    });

    it("Could not verify: runs still running at the deadline, after waiting on the one poll clock", async () => {
      h = await startHarness({
        qatech: { plan: () => ({ runs: [{ ...FAILING, readsUntilFinal: 1_000 }] }) },
        env: { ...LABELS, ...LINEAR_ONLY, REPLY_TIMEOUT_SECONDS: "600" },
      });

      await labelledLinear(h);

      const body = linearReply(h);
      expect(body.split("\n")[0]).toMatch(/^\*\*Could not verify\*\*: .*had not finished/);
      expect(h.linear.issueLabelIds(LINEAR_ISSUE)).toContain("lbl-unverified");
    });

    it("Could not verify: QA.tech's runs API down past the retries; the reply is still posted", async () => {
      h = await startHarness({
        qatech: { plan: () => ({ text: "Ran it.", runs: [PASSING] }) },
        env: { ...LABELS, ...LINEAR_ONLY },
      });
      h.qatech.failNext({ method: "GET", path: /^\/v1\/run\//, fault: { status: 503 }, times: 100 });

      await labelledLinear(h);

      const body = linearReply(h);
      expect(body.split("\n")[0]).toMatch(
        /^\*\*Could not verify\*\*: QA\\\.tech\\'s test results could not be read/,
      );
      expect(body).toContain("Ran it.");
      expect(statesVisited(h, "PostFailure")).toBe(0);
    });

    it("the assistant's own verdict line counts when no run is linked, said as such", async () => {
      h = await startHarness({
        qatech: { plan: () => ({ text: "The page stays blank.\n\nVerdict: failed" }) },
        env: { ...LABELS, ...LINEAR_ONLY },
      });

      await labelledLinear(h);

      expect(linearReply(h).split("\n")[0]).toBe("**Failed** (as reported by the assistant)");
      expect(h.linear.issueLabelIds(LINEAR_ISSUE)).toContain("lbl-test-failed");
    });

    it("asks QA.tech for the verdict line in the message it opens the conversation with", async () => {
      h = await startHarness({ env: LINEAR_ONLY });

      await labelledLinear(h);

      const [conversation] = h.qatech.conversations();
      const first = conversation.messages.find((m) => m.role === "user");
      expect(first?.text).toMatch(/Verdict: passed/);
    });

    it("never reads a run of another project or host that the reply links", async () => {
      h = await startHarness({
        qatech: {
          plan: () => ({
            text:
              "See https://app.qa.tech/p/other_project/results/run_other and " +
              "https://evil.example/p/proj_demo/results/run_evil",
          }),
        },
        env: LINEAR_ONLY,
      });
      h.qatech.addRun({ ...PASSING, project: "other_project" });

      await labelledLinear(h);

      expect(h.qatech.requests.filter((r) => r.path.startsWith("/v1/run"))).toEqual([]);
      expect(linearReply(h).startsWith("**Could not verify**")).toBe(true);
    });

    it("`@qa rerun` reruns the failed tests, waits for the new run and posts the new verdict in the thread", async () => {
      h = await startHarness({
        qatech: { plan: () => ({ runs: [FAILING] }) },
        env: { ...LABELS, ...LINEAR_ONLY },
      });
      await labelledLinear(h);
      const [ack] = h.linearAcks();
      const [original] = h.qatech.runs();

      const res = await replyOnLinear(h, "@qa rerun", ack.id);

      expect(res.body.outcome).toBe("started");
      const reruns = h.qatech.requests.filter(
        (r) => r.method === "POST" && r.path === `/v1/run/${original.shortId}`,
      );
      expect(reruns).toHaveLength(1);
      expect(reruns[0].body).toEqual({ failedOnly: true, projectShortId: "proj_demo" });
      const rerun = h.qatech.runs().find((run) => run.rerunOf === original.shortId);
      expect(rerun?.tests.map((t) => t.name)).toEqual(["Checkout - empty cart"]);
      const inThread = h.linearReplies().filter((c) => c.parentId === ack.id);
      const started = inThread.find((c) => c.body.includes("QA.tech is rerunning"));
      expect(started?.body).toContain(
        `the failed tests of run ${original.shortId}: new run ${rerun?.shortId}`,
      );
      const verdict = inThread.at(-1)?.body ?? "";
      expect(verdict.startsWith("**Passed**")).toBe(true);
      expect(verdict).toContain(`run ${rerun?.shortId} reran the failed tests of run ${original.shortId}`);
      expect(h.linear.issueLabelIds(LINEAR_ISSUE)).toContain("lbl-tested");
      expect(h.linear.issueLabelIds(LINEAR_ISSUE)).not.toContain("lbl-test-failed");
    });

    it("`@qa rerun` after a question answered without tests still reruns the ticket's run", async () => {
      h = await startHarness({
        qatech: {
          plan: (m) => (m.includes("Safari") ? { text: "It fails on Safari too." } : { runs: [FAILING] }),
        },
        env: LINEAR_ONLY,
      });
      await labelledLinear(h);
      const [ack] = h.linearAcks();
      const [original] = h.qatech.runs();
      await replyOnLinear(h, "Does it fail on Safari too?", ack.id);

      await replyOnLinear(h, "@qa rerun", ack.id);

      expect(h.qatech.runs().map((run) => run.rerunOf)).toEqual([undefined, original.shortId]);
      expect(h.linearReplies().at(-1)?.body.startsWith("**Passed**")).toBe(true);
    });

    it("reads and reruns at most 5 runs, however many the reply links (SECURITY.md)", async () => {
      h = await startHarness({
        qatech: { plan: () => ({ runs: Array.from({ length: 7 }, () => FAILING) }) },
        env: LINEAR_ONLY,
      });
      await labelledLinear(h);
      const [ack] = h.linearAcks();
      const read = new Set(
        h.qatech.requests
          .filter((r) => r.method === "GET" && r.path.startsWith("/v1/run/"))
          .map((r) => r.path),
      );

      await replyOnLinear(h, "@qa rerun", ack.id);

      expect(read.size).toBe(5);
      const reruns = h.qatech.requests.filter((r) => r.method === "POST" && r.path.startsWith("/v1/run/"));
      expect(reruns).toHaveLength(5);
    });

    it("`@qa rerun` says so when the reply linked no run, and reruns nothing", async () => {
      h = await startHarness({ qatech: { plan: () => ({ text: "Looked at it." }) }, env: LINEAR_ONLY });
      await labelledLinear(h);
      const [ack] = h.linearAcks();

      await replyOnLinear(h, "@qa rerun", ack.id);

      expect(h.qatech.requests.filter((r) => r.method === "POST" && r.path.startsWith("/v1/run"))).toEqual(
        [],
      );
      expect(h.linearReplies().at(-1)?.body).toContain(
        "No reply in this conversation links a QA.tech test run",
      );
    });

    it("`@qa status` shows where the runs the reply links stand", async () => {
      h = await startHarness({ qatech: { plan: () => ({ runs: [PASSING] }) }, env: LINEAR_ONLY });
      await labelledLinear(h);
      const [ack] = h.linearAcks();
      const [run] = h.qatech.runs();

      await replyOnLinear(h, "@qa status", ack.id);

      expect(h.linearReplies().at(-1)?.body).toContain(
        `- ${run.shortId}: completed, passed (1 of 1 tests done)`,
      );
    });
  });

  describe("ticket moves per verdict", () => {
    it("Linear: a failed ticket moves to the team's state named in the config", async () => {
      h = await startHarness({
        qatech: { plan: () => ({ runs: [FAILING] }) },
        env: { ...LINEAR_ONLY, LINEAR_MOVES: JSON.stringify({ failed: "In Progress", passed: "Done" }) },
      });

      await labelledLinear(h);

      expect(h.linear.stateChanges).toEqual([
        expect.objectContaining({ issueId: LINEAR_ISSUE, to: expect.stringMatching(/-in-progress$/) }),
      ]);
      expect(linearReply(h)).not.toContain("was not moved");
    });

    it("Jira: a transition the issue does not offer is said at the end of the reply, and nothing moves", async () => {
      h = await startHarness({
        qatech: { plan: () => ({ runs: [PASSING] }) },
        jira: { issues: { "PROJ-123": { id: "10002", summary: "Login button is misaligned" } } },
        env: { JIRA_MOVES: JSON.stringify({ passed: "Ready for QA sign-off", failed: "In Progress" }) },
      });

      await h.sendJira("jira-issue_updated.label-added");
      await h.runner.settled();

      expect(h.jira.transitionsMade).toEqual([]);
      const [reply] = h.jiraReplies();
      // The note is the comment's last paragraph before the conversation's link (ADF text nodes, joined).
      const paragraphs = (reply.body as { content: Array<{ type: string }> }).content.map((node) =>
        adfText(node).replace(/\n/g, ""),
      );
      expect(paragraphs.at(-2)).toMatch(
        /^The ticket was not moved: Jira offers no transition named "Ready for QA sign-off" for PROJ-123/,
      );
    });
  });

  describe("Jira", () => {
    it("Could not verify: a key that may not read runs, said first, with 'unverified' and not 'test-failed'", async () => {
      h = await startHarness({
        qatech: { runsAccess: "none", plan: () => ({ runs: [FAILING] }) },
        env: { ...LABELS, LABEL_TEST_FAILED: "test-failed" },
      });

      await h.sendJira("jira-issue_updated.label-added");
      await h.runner.settled();

      const [reply] = h.jiraReplies();
      const content = (reply.body as { content: unknown[] }).content;
      expect(adfText(content[1]).replace(/\n/g, "")).toMatch(
        /^Could not verify: QA\.tech's test results could not be read/,
      );
      expect(h.jira.labels("PROJ-123")).toContain("unverified");
      expect(h.jira.labels("PROJ-123")).not.toContain("test-failed");
    });

    it("Failed: the verdict and a schema-valid ADF table of the tests; `@qa rerun` then passes", async () => {
      h = await startHarness({
        qatech: { plan: () => ({ runs: [FAILING] }) },
        env: { ...LABELS, LABEL_TEST_FAILED: "test-failed" },
      });
      await h.sendJira("jira-issue_updated.label-added");
      await h.runner.settled();

      const [reply] = h.jiraReplies();
      // After Jira's "In reply to" line linking the acknowledgement: the verdict, then its table.
      const content = (reply.body as { content: Array<{ type: string; content?: unknown[] }> }).content;
      expect(adfText(content[1])).toBe("Failed");
      const table = content[2];
      expect(table.type).toBe("table");
      expect(table?.content).toHaveLength(3); // header + two tests
      expect(h.jira.labels("PROJ-123")).toContain("test-failed");

      const human = h.jira.addComment("PROJ-123", { body: "@qa rerun", authorAccountId: "jane" });
      const base = jiraFixture("comment_created");
      await h.sendJira({
        ...base,
        comment: {
          ...(base.comment as object),
          id: human.id,
          body: "@qa rerun",
          author: { accountId: "jane" },
        },
      });
      await h.runner.settled();

      const replies = h.jiraReplies();
      const rerun = (replies[replies.length - 1].body as { content: unknown[] }).content;
      expect(adfText(rerun[1])).toBe("Passed");
      expect(h.jira.labels("PROJ-123")).toContain("tested");
      expect(h.jira.labels("PROJ-123")).not.toContain("test-failed");
    });
  });

  describe("the Linear agent", () => {
    it("says in a thought which runs it waits for, and the response opens with the verdict; `rerun` re-verifies", async () => {
      h = await startHarness({ agent: {}, qatech: { plan: () => ({ runs: [FAILING] }) } });

      const session = await h.agent.mention(LINEAR_ISSUE, "@QA.tech check the empty-cart case");
      await h.runner.settled();

      // Progress thoughts are ephemeral: the session's history keeps them, its activities do not.
      const bodies = session.history.map((a) => `${a.content.type}: ${a.content.body ?? ""}`);
      expect(bodies.some((b) => b.startsWith("thought: Waiting for QA.tech's test runs to finish"))).toBe(
        true,
      );
      const response = session.activities.filter((a) => a.content.type === "response").at(-1);
      expect(response?.content.body?.startsWith("**Failed**")).toBe(true);

      await h.agent.prompt(session.id, "rerun");
      await h.runner.settled();

      const last = session.activities.filter((a) => a.content.type === "response").at(-1);
      expect(last?.content.body?.startsWith("**Passed**")).toBe(true);
      expect(h.agent.unresponsive()).toEqual([]);
    });
  });
});
