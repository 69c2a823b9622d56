import { parseSettings } from "../../../../functions/shared/platform/settings-schema";
import { settingsProblem } from "../../../support/settings";

const JIRA = { enabled: true, baseUrl: "https://acme.atlassian.net" };

const problem = settingsProblem;

describe("settings: ticket moves", () => {
  it("are off by default", () => {
    const s = parseSettings({ qatech: {}, jira: JIRA }, "test settings");

    expect(s.linear.moves).toBeUndefined();
    expect(s.jira.moves).toBeUndefined();
  });

  it("take a name per verdict, each optional", () => {
    const s = parseSettings(
      {
        qatech: {},
        linear: { moves: { failed: "In Progress", passed: "Ready for release" } },
        jira: { ...JIRA, moves: { unverified: "Needs triage" } },
      },
      "test settings",
    );

    expect(s.linear.moves).toEqual({ failed: "In Progress", passed: "Ready for release" });
    expect(s.jira.moves).toEqual({ unverified: "Needs triage" });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ["an unknown verdict", { linear: { moves: { skipped: "Done" } } }, "linear.moves.skipped"],
    ["an empty name", { jira: { ...JIRA, moves: { failed: "" } } }, "jira.moves.failed must not be empty"],
    ["a blank name", { linear: { moves: { passed: "   " } } }, "linear.moves.passed must not be empty"],
    ["an id where a name belongs", { linear: { moves: { failed: 42 } } }, "linear.moves.failed"],
    ["moves given as a name", { jira: { ...JIRA, moves: "In Progress" } }, "jira.moves"],
  ])("refuse %s, naming the field", (_what, raw, field) => {
    expect(problem(raw)).toContain(field);
  });
});
