import { startFakeLinear } from "../../simulators/linear";

const ISSUE_ID = "539068e2-ae88-4d09-bd75-22eb4a59612f";

describe("fake Linear labels", () => {
  it("has the default lifecycle labels and supports issueAddLabel / issueRemoveLabel", async () => {
    const linear = await startFakeLinear();
    try {
      const { LinearClient } = await import("@linear/sdk");
      const client = new LinearClient({ apiKey: "lin_api_test", apiUrl: linear.url });

      const all = await client.issueLabels();
      await client.issueAddLabel(ISSUE_ID, "lbl-testing");
      await client.issueAddLabel(ISSUE_ID, "lbl-tested");
      await client.issueRemoveLabel(ISSUE_ID, "lbl-testing");

      expect(all.nodes.map((l) => l.name)).toEqual([
        "needs test",
        "testing",
        "tested",
        "test failed",
        "unverified",
      ]);
      expect(linear.issueLabelIds(ISSUE_ID)).toEqual(["lbl-tested"]);
      expect(linear.labelChanges).toHaveLength(3);
      await expect(client.issueAddLabel(ISSUE_ID, "lbl-missing")).rejects.toThrow(/not found/i);
    } finally {
      await linear.close();
    }
  });
});
