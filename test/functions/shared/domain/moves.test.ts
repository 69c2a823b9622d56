import { moveFor } from "../../../../functions/shared/domain/moves";

describe("moveFor", () => {
  it("is the configured name for the outcome", () => {
    const moves = { passed: "Done", failed: "In Progress", unverified: "Triage" };

    expect(moveFor("passed", moves)).toBe("Done");
    expect(moveFor("failed", moves)).toBe("In Progress");
    expect(moveFor("unverified", moves)).toBe("Triage");
  });

  it("is no move when moves are off or the outcome has none", () => {
    expect(moveFor("failed")).toBeUndefined();
    expect(moveFor("failed", {})).toBeUndefined();
    expect(moveFor("passed", { failed: "In Progress" })).toBeUndefined();
  });

  it("trims the name and treats a blank one as no move", () => {
    expect(moveFor("failed", { failed: "  In Progress " })).toBe("In Progress");
    expect(moveFor("failed", { failed: "   " })).toBeUndefined();
  });
});
