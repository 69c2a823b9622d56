import { bundleContents } from "../../../bench/bundles";

/**
 * Linear's label webhook is bundled as the stack bundles it (esbuild, minified, CommonJS, AWS SDK included)
 * and stays what its cold start needs: under 600 KB, with Linear's webhook only. No Jira code (its webhook,
 * the ADF converters, marklassian), no Linear agent (its Agent API client, tokens and Lambda client live in
 * functions/linear-agent-webhook) and no @linear/sdk client. An import, dynamic or not, is bundled, so one
 * line in the entry would be enough to pull them in.
 */
describe("the Linear webhook's bundle", () => {
  it("holds Linear's webhook only: no Jira or ADF code, no agent code, no Linear client, under 600 KB", async () => {
    const { bytes, inputs } = await bundleContents("linear-webhook");
    expect(inputs.some((p) => p.includes("trackers/linear/webhook.ts"))).toBe(true);
    expect(inputs.filter((p) => p.includes("trackers/jira/"))).toEqual([]);
    expect(inputs.filter((p) => /adf|marklassian/.test(p))).toEqual([]);
    expect(inputs.filter((p) => p.includes("linear-agent"))).toEqual([]);
    expect(inputs.filter((p) => p.includes("@aws-sdk/client-lambda"))).toEqual([]);
    // The SDK's webhook verifier (dist/webhooks) is all of @linear/sdk this function may hold.
    const sdk = inputs.filter((p) => p.includes("node_modules/@linear/sdk/"));
    expect(sdk.filter((p) => !p.includes("/webhooks"))).toEqual([]);
    expect(bytes).toBeLessThan(600 * 1024);
  }, 60_000);
});
