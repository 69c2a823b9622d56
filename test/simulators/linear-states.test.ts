import { defaultFakeLinearStates, type FakeLinear, startFakeLinear } from "../../simulators/linear";

const ISSUE_ID = "539068e2-ae88-4d09-bd75-22eb4a59612f";

describe("fake Linear workflow states", () => {
  let linear: FakeLinear;
  const client = async () => {
    const { LinearClient } = await import("@linear/sdk");
    return new LinearClient({ apiKey: "lin_api_test", apiUrl: linear.url });
  };

  beforeEach(async () => {
    linear = await startFakeLinear({
      issues: {
        [ISSUE_ID]: { identifier: "ENG-42", title: "Checkout", url: "https://linear.app/acme/ENG-42" },
      },
      issueTeamIds: { [ISSUE_ID]: "team-eng" },
      labels: [{ id: "lbl-tested", name: "tested" }],
    });
  });
  afterEach(() => linear.close());

  it("gives every known team Linear's default states, and each issue its team's first unstarted one", async () => {
    const sdk = await client();

    const eng = await sdk.workflowStates({ filter: { team: { id: { eq: "team-eng" } } } });
    const issue = await sdk.issue(ISSUE_ID);

    expect(eng.nodes.map((s) => [s.name, s.type, s.teamId])).toEqual(
      defaultFakeLinearStates("team-eng").map((s) => [s.name, s.type, "team-eng"]),
    );
    expect(eng.nodes.map((s) => s.name)).toEqual([
      "Backlog",
      "Todo",
      "In Progress",
      "Done",
      "Canceled",
      "Duplicate",
    ]);
    expect(issue.stateId).toBe("state-team-eng-todo");
    const all = await sdk.workflowStates();
    expect(new Set(all.nodes.map((s) => s.teamId))).toEqual(new Set(["team-default", "team-eng"]));
  });

  it("filters states by name in any case, and refuses a filter it does not know", async () => {
    const sdk = await client();

    const found = await sdk.workflowStates({
      filter: { and: [{ team: { id: { eq: "team-eng" } } }, { name: { eqIgnoreCase: "in progress" } }] },
    });

    expect(found.nodes.map((s) => s.id)).toEqual(["state-team-eng-in-progress"]);
    await expect(sdk.workflowStates({ filter: { position: { gt: 1 } } })).rejects.toThrow(/cannot filter/);
  });

  it("moves an issue with issueUpdate stateId, and the issue reads back in its new state", async () => {
    const sdk = await client();

    const payload = await sdk.updateIssue(ISSUE_ID, { stateId: "state-team-eng-done" });

    expect(payload.success).toBe(true);
    expect((await sdk.issue(ISSUE_ID)).stateId).toBe("state-team-eng-done");
    expect(linear.stateChanges).toEqual([
      { issueId: ISSUE_ID, from: "state-team-eng-todo", to: "state-team-eng-done" },
    ]);
    expect(linear.labelChanges).toEqual([]);
  });

  it("refuses, as Linear does, a state id it does not know or another team's state, and applies nothing", async () => {
    const sdk = await client();

    await expect(
      sdk.updateIssue(ISSUE_ID, { stateId: "state-missing", addedLabelIds: ["lbl-tested"] }),
    ).rejects.toThrow(/Entity not found/);
    await expect(sdk.updateIssue(ISSUE_ID, { stateId: "state-team-default-done" })).rejects.toThrow(
      /does not belong to the issue's team/,
    );

    expect(linear.issueStateId(ISSUE_ID)).toBe("state-team-eng-todo");
    expect(linear.issueLabelIds(ISSUE_ID)).toEqual([]);
    expect(linear.stateChanges).toEqual([]);
  });

  it("takes a state and labels in one update", async () => {
    const sdk = await client();

    await sdk.updateIssue(ISSUE_ID, { stateId: "state-team-eng-in-progress", addedLabelIds: ["lbl-tested"] });

    expect(linear.issueStateId(ISSUE_ID)).toBe("state-team-eng-in-progress");
    expect(linear.issueLabelIds(ISSUE_ID)).toEqual(["lbl-tested"]);
  });
});
