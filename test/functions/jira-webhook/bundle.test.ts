import { bundleContents } from "../../../bench/bundles";

/**
 * Jira's label webhook is bundled as the stack bundles it and stays what its cold start needs: under 600 KB,
 * with Jira's webhook only: no Linear code at all (neither its webhook nor any of @linear/sdk), no agent code,
 * and of Jira's own code not the Markdown-to-ADF converter (marklassian), which only posting a comment needs.
 */
describe("the Jira webhook's bundle", () => {
  it("holds Jira's webhook only: no Linear code, no agent code, no marklassian, under 600 KB", async () => {
    const { bytes, inputs } = await bundleContents("jira-webhook");
    expect(inputs.some((p) => p.includes("trackers/jira/webhook.ts"))).toBe(true);
    expect(inputs.filter((p) => p.includes("trackers/linear"))).toEqual([]);
    expect(inputs.filter((p) => p.includes("@linear/sdk"))).toEqual([]);
    expect(inputs.filter((p) => p.includes("linear-agent"))).toEqual([]);
    expect(inputs.filter((p) => p.includes("marklassian"))).toEqual([]);
    expect(inputs.filter((p) => p.includes("@aws-sdk/client-lambda"))).toEqual([]);
    expect(bytes).toBeLessThan(600 * 1024);
  }, 60_000);
});
