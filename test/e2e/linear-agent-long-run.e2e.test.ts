import { elapsedBeforePoll } from "../../functions/shared/domain/poll-schedule";
import { HEARTBEAT_SECONDS } from "../../functions/shared/domain/progress";
import { type Harness, startHarness } from "../../simulators/harness";

const ISSUE_ID = "539068e2-ae88-4d09-bd75-22eb4a59612f"; // ENG-42, from the Issue.update.label-added fixture

/**
 * Tokens never block a first thought, and long runs never go stale: through the local runner against the
 * Linear simulator (Linear's rules: https://linear.app/developers/agent-interaction,
 * https://linear.app/developers/agent-best-practices).
 */
describe("the Linear agent's timing rules", () => {
  let h: Harness;
  afterEach(async () => {
    await h.runner.settled();
    expect(h.agent.unresponsive()).toEqual([]);
    await h.close();
  });

  it("a `created` with a valid token close to its expiry posts the first thought without calling the token endpoint", async () => {
    // Two minutes left: within the old 5-minute refresh margin, but valid.
    h = await startHarness({ agent: { accessTokenTtlSeconds: 120 } });

    const session = await h.agent.mention(ISSUE_ID, "@QA.tech check the empty-cart case");
    await h.runner.settled();

    expect(h.agent.deliveries[0]).toMatchObject({ status: 200, body: { outcome: "started" } });
    expect(session.activities[0]?.content).toMatchObject({ type: "thought" });
    expect(h.agent.grants.refresh_token).toBe(0);
    expect(session.activities.at(-1)?.content.type).toBe("response");
  });

  it("a run longer than 25 minutes posts a thought again before the session could go stale", async () => {
    // 60 polls of the default schedule: about 40 minutes of the run's clock, seconds at this WAIT_SCALE.
    const polls = 60;
    expect(
      elapsedBeforePoll(polls, {
        minWaitSeconds: 3,
        fraction: 0.1,
        maxWaitSeconds: 120,
        replyTimeoutSeconds: 3600,
      }),
    ).toBeGreaterThan(HEARTBEAT_SECONDS + 600);
    h = await startHarness({
      agent: {},
      env: { WAIT_SCALE: "0.001" },
      qatech: { plan: () => ({ pollsUntilFinal: polls, text: "Checked the empty cart: it passes." }) },
    });

    const session = await h.agent.mention(ISSUE_ID, "@QA.tech check the empty-cart case");
    await h.runner.settled();

    // QA.tech's partial text never changed after the first update: the later thoughts are heartbeats.
    const thoughts = session.history.filter(
      (a) => a.userId === h.agent.appUserId && a.ephemeral && a.content.type === "thought",
    );
    expect(thoughts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(thoughts.map((a) => a.content.body)).size).toBe(1);
    expect(session.activities.at(-1)?.content.type).toBe("response");
  });
});
