import { jsonBytes } from "../../../../functions/shared/domain/limits";
import {
  byName,
  MOVE_REASON_MAX_BYTES,
  moveFor,
  nameList,
  notMoved,
} from "../../../../functions/shared/domain/moves";

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

describe("byName", () => {
  const states = [{ name: "In review" }, { name: "In Review" }, { name: "Done" }];
  const name = (s: { name: string }) => s.name;

  it("prefers the exact name, then takes the first in any case", () => {
    expect(byName(states, "In Review", name)).toBe(states[1]);
    expect(byName(states, "IN REVIEW", name)).toBe(states[0]);
    expect(byName(states, "done", name)).toBe(states[2]);
    expect(byName(states, "Shipped", name)).toBeUndefined();
  });

  it("skips candidates without a name", () => {
    expect(byName([{ to: undefined }, { to: "Done" }], "done", (t) => t.to)).toEqual({ to: "Done" });
  });
});

describe("notMoved", () => {
  it("keeps a reason within its budget, its control characters shown", () => {
    const long = notMoved(`Jira offers no transition named "x" (available: ${"Step\u0000, ".repeat(2000)})`);

    expect(long.moved).toBe(false);
    const reason = (long as { reason: string }).reason;
    expect(jsonBytes(reason)).toBeLessThanOrEqual(MOVE_REASON_MAX_BYTES + 2);
    expect(reason).toMatch(/\[cut\]$/);
    expect(reason).not.toContain("\u0000");
    expect(notMoved('Linear has no workflow state named "X" in team ENG')).toEqual({
      moved: false,
      reason: 'Linear has no workflow state named "X" in team ENG',
    });
  });
});

describe("nameList", () => {
  it("lists the names, at most `max`, then how many more", () => {
    expect(nameList([])).toBe("none");
    expect(nameList(["To Do", "Done"])).toBe("To Do, Done");
    expect(nameList(["a", "b", "c", "d"], 2)).toBe("a, b and 2 more");
  });
});
