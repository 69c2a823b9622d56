import { bundleContents } from "../../../bench/bundles";

/** The agent's webhook holds the agent's code, which the label webhooks leave to it; and no Jira code. */
describe("the Linear agent webhook's bundle", () => {
  it("holds the agent's webhook, and no Jira code", async () => {
    const { inputs } = await bundleContents("linear-agent-webhook");
    expect(inputs.some((p) => p.includes("trackers/linear-agent/webhook.ts"))).toBe(true);
    expect(inputs.filter((p) => p.includes("trackers/jira/"))).toEqual([]);
  }, 60_000);
});
