import { build } from "esbuild";
import { deployedOptions } from "../../../bench/bundles";

/**
 * The label webhooks' function is bundled as the stack bundles it (esbuild, minified, CommonJS, AWS SDK
 * included) and stays what its cold start needs: under 600 KB, without the Linear agent (its Agent API client,
 * tokens and Lambda client live in functions/linear-agent-webhook) and without @linear/sdk's client. A dynamic
 * import is still bundled, so one line in the webhooks' registry would be enough to pull them in.
 */
async function bundle(fn: string) {
  // As the stack bundles it; in memory.
  const { metafile, outputFiles } = await build({ ...deployedOptions(fn, "index.js"), write: false });
  const js = outputFiles.find((f) => f.path.endsWith(".js"));
  return { bytes: js?.contents.byteLength ?? 0, inputs: Object.keys(metafile?.inputs ?? {}) };
}

describe("the webhook function's bundle", () => {
  it("holds the label webhooks only: no agent code, no Linear client, under 600 KB", async () => {
    const { bytes, inputs } = await bundle("webhook");
    expect(inputs.some((p) => p.includes("trackers/linear/webhook.ts"))).toBe(true);
    expect(inputs.some((p) => p.includes("trackers/jira/webhook.ts"))).toBe(true);
    expect(inputs.filter((p) => p.includes("linear-agent"))).toEqual([]);
    expect(inputs.filter((p) => p.includes("@aws-sdk/client-lambda"))).toEqual([]);
    // The SDK's webhook verifier (dist/webhooks) is all of @linear/sdk this function may hold.
    const sdk = inputs.filter((p) => p.includes("node_modules/@linear/sdk/"));
    expect(sdk.filter((p) => !p.includes("/webhooks"))).toEqual([]);
    expect(bytes).toBeLessThan(600 * 1024);
  }, 60_000);

  it("leaves the agent's code to the agent's own webhook function", async () => {
    const { inputs } = await bundle("linear-agent-webhook");
    expect(inputs.some((p) => p.includes("trackers/linear-agent/webhook.ts"))).toBe(true);
  }, 60_000);
});
