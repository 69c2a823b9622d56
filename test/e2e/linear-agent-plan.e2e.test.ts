import { type Harness, startHarness } from "../../simulators/harness";
import type { FakeAgentSession } from "../../simulators/linear-agent";

const ISSUE_ID = "539068e2-ae88-4d09-bd75-22eb4a59612f"; // ENG-42, from the Issue.update.label-added fixture

/** Each plan the session showed, as "step: status" lines. */
function plans(session: FakeAgentSession): string[][] {
  return session.planHistory.map((plan) => plan.map((step) => `${step.content}: ${step.status}`));
}

/** The session's plan (https://linear.app/developers/agent-interaction#agent-plans), through the local runner. */
describe("the Linear agent's plan, end to end", () => {
  let h: Harness;
  afterEach(async () => {
    await h.runner.settled();
    // The plan comes after each activity: Linear's 10-second rule still holds.
    expect(h.agent.unresponsive()).toEqual([]);
    await h.close();
  });

  it("shows the wait for the test runs while it lasts, and every step completed with the verdict", async () => {
    h = await startHarness({
      agent: {},
      qatech: {
        plan: () => ({ runs: [{ tests: [{ name: "Checkout", result: "FAILED" }], readsUntilFinal: 2 }] }),
      },
    });

    const session = await h.agent.mention(ISSUE_ID, "@QA.tech check the checkout");
    await h.runner.settled();

    expect(session.activities.at(-1)?.content.body?.startsWith("**Failed**")).toBe(true);
    expect(plans(session)).toContainEqual([
      "Open a QA.tech conversation: completed",
      "QA.tech tests the ticket: completed",
      "Wait for the test runs: inProgress",
      "Verdict: pending",
    ]);
    expect(plans(session)[0]).toEqual([
      "Open a QA.tech conversation: completed",
      "QA.tech tests the ticket: inProgress",
      "Wait for the test runs: pending",
      "Verdict: pending",
    ]);
    expect(session.plan?.map((step) => step.status)).toEqual([
      "completed",
      "completed",
      "completed",
      "completed",
    ]);
  });

  it("a reply that failed: the verdict is given, QA.tech's tests and runs show as canceled", async () => {
    h = await startHarness({ agent: {}, qatech: { plan: () => ({ status: "FAILED" }) } });

    const session = await h.agent.mention(ISSUE_ID, "@QA.tech check the checkout");
    await h.runner.settled();

    expect(session.status).toBe("error");
    expect(plans(session).at(-1)).toEqual([
      "Open a QA.tech conversation: completed",
      "QA.tech tests the ticket: canceled",
      "Wait for the test runs: canceled",
      "Verdict: completed",
    ]);
  });
});
