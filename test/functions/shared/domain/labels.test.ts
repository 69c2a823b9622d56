import { labelChanges } from "../../../../functions/shared/domain/labels";

const ALL = {
  testing: "testing",
  tested: "tested",
  testFailed: "test failed",
  unverified: "unverified",
  removeTrigger: true,
};

describe("labelChanges", () => {
  it("swaps the trigger label for 'testing' when a run starts", () => {
    expect(labelChanges("started", ALL, "needs test")).toEqual({ add: ["testing"], remove: ["needs test"] });
  });

  it.each([
    ["passed", "tested", ["test failed", "unverified"]],
    ["failed", "test failed", ["tested", "unverified"]],
    ["unverified", "unverified", ["tested", "test failed"]],
  ] as const)("sets the label of a %s verdict and clears the other two", (stage, label, others) => {
    const { add, remove } = labelChanges(stage, ALL, "needs test");

    expect(add).toEqual([label]);
    expect(remove.sort()).toEqual(["testing", ...others].sort());
  });

  it("sets nothing for 'could not verify' unless the organisation named a label for it (the default)", () => {
    const { unverified: _, ...withoutUnverified } = ALL;

    expect(labelChanges("unverified", withoutUnverified, "needs test")).toEqual({
      add: [],
      remove: ["testing", "tested", "test failed"],
    });
  });

  it("changes nothing an organisation did not configure", () => {
    expect(labelChanges("failed", { removeTrigger: false }, "needs test")).toEqual({ add: [], remove: [] });
    expect(labelChanges("started", { removeTrigger: false }, "needs test")).toEqual({ add: [], remove: [] });
  });
});
