import { type Harness, startHarness } from "../../simulators/harness";
import { ratelimitedFault } from "../../simulators/linear";
import type { FakeAgentSession } from "../../simulators/linear-agent";
import { linearFixture } from "../../simulators/signing";

const ISSUE_ID = "539068e2-ae88-4d09-bd75-22eb4a59612f"; // ENG-42, from the Issue.update.label-added fixture

/** The activities of a session as a person sees them: type and body. */
function seen(session: FakeAgentSession) {
  return session.activities.map((a) => ({ type: a.content.type, body: a.content.body ?? "", ephemeral: a.ephemeral }));
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
    await h.runner.settled();

    const [created] = h.agent.deliveries;
    expect(created).toMatchObject({ action: "created", status: 200, body: { outcome: "started" } });
    const activities = appActivities(h, session);
    expect(activities[0]).toEqual({ type: "thought", body: "Opening a QA.tech conversation...", ephemeral: false });
    expect(activities.at(-1)?.type).toBe("response");
    expect(activities.at(-1)?.body).toContain("Checked the **empty cart**: it passes.");
    const [conversation] = h.qatech.conversations();
    expect(session.externalUrls).toEqual([{ label: "QA.tech conversation", url: conversation.url }]);
    expect(session.status).toBe("complete");
    // The person's request reached QA.tech with the issue.
    const asked = conversation.messages.find((m) => m.role === "user")?.text;
    expect(asked).toContain("check the empty-cart case");
    expect(asked).toContain("ENG-42");
    console.log(JSON.stringify(seen(session), null, 1));
    expect(h.agent.responseDelayMs(session.id)).toBeLessThan(10_000);
  });
});
