import type { Ticket } from "../../../../../functions/shared/domain/ticket";
import { TransientError } from "../../../../../functions/shared/platform/errors";
import {
  linearIssueOperations,
  moveLinearIssue,
} from "../../../../../functions/shared/trackers/linear/issues";
import { type FakeLinear, ratelimitedFault, startFakeLinear } from "../../../../../simulators/linear";

const ISSUE_ID = "539068e2-ae88-4d09-bd75-22eb4a59612f";

describe("moveLinearIssue", () => {
  let linear: FakeLinear;
  const auth = () => ({ apiKey: "lin_api_test", apiUrl: linear.url });
  const move = (to: string, teamId: string | undefined = "team-eng") =>
    moveLinearIssue({ ...auth(), issueId: ISSUE_ID, teamId, key: "ENG-42", to });
  const operations = () => linear.requests.map((r) => r.operation);

  beforeEach(async () => {
    linear = await startFakeLinear({
      issues: {
        [ISSUE_ID]: { identifier: "ENG-42", title: "Checkout", url: "https://linear.app/acme/ENG-42" },
      },
      issueTeamIds: { [ISSUE_ID]: "team-eng" },
      teamId: "team-ops",
    });
  });
  afterEach(() => linear.close());

  it("moves the issue to its team's state by name, with one issueUpdate", async () => {
    expect(linear.issueStateId(ISSUE_ID)).toBe("state-team-eng-todo");

    await expect(move("In Progress")).resolves.toEqual({ moved: true, to: "In Progress" });

    expect(linear.issueStateId(ISSUE_ID)).toBe("state-team-eng-in-progress");
    expect(linear.stateChanges).toEqual([
      { issueId: ISSUE_ID, from: "state-team-eng-todo", to: "state-team-eng-in-progress" },
    ]);
    expect(operations().sort()).toEqual(["issue", "updateIssue", "workflowStates"]);
    const read = linear.requests.find((r) => r.operation === "workflowStates");
    expect(read?.variables).toMatchObject({ filter: { team: { id: { eq: "team-eng" } } } });
    expect(linear.requests.find((r) => r.operation === "updateIssue")?.variables).toEqual({
      id: ISSUE_ID,
      input: { stateId: "state-team-eng-in-progress" },
    });
  });

  it("matches the exact name first, then the name in any case", async () => {
    await linear.close();
    linear = await startFakeLinear({
      issues: {
        [ISSUE_ID]: { identifier: "ENG-42", title: "Checkout", url: "https://linear.app/acme/ENG-42" },
      },
      issueTeamIds: { [ISSUE_ID]: "team-eng" },
      workflowStates: [
        { id: "s-todo", name: "Todo", type: "unstarted", teamId: "team-eng", position: 0 },
        { id: "s-review-lower", name: "In review", type: "started", teamId: "team-eng", position: 1 },
        { id: "s-review", name: "In Review", type: "started", teamId: "team-eng", position: 2 },
      ],
    });

    await expect(move("In Review")).resolves.toEqual({ moved: true, to: "In Review" });
    expect(linear.issueStateId(ISSUE_ID)).toBe("s-review");

    await expect(move("  IN REVIEW ")).resolves.toEqual({ moved: true, to: "In review" });
    expect(linear.issueStateId(ISSUE_ID)).toBe("s-review-lower");
  });

  it("leaves an issue already in that state alone", async () => {
    await move("Done");
    linear.requests.length = 0;

    await expect(move("done")).resolves.toEqual({ moved: true, to: "Done" });

    expect(operations()).not.toContain("updateIssue");
    expect(linear.stateChanges).toHaveLength(1);
  });

  it("says so when the team has no state by that name, and changes nothing", async () => {
    const result = await move("Shipped");

    expect(result).toEqual({
      moved: false,
      reason:
        'Linear has no workflow state named "Shipped" in team ENG (its states: Backlog, Todo, In Progress, ' +
        "Done, Canceled, Duplicate)",
    });
    expect(operations()).not.toContain("updateIssue");
    expect(linear.stateChanges).toEqual([]);
  });

  it("looks in the issue's team now when it moved since the webhook, or when the ticket has no team", async () => {
    await expect(move("In Progress", "team-ops")).resolves.toEqual({ moved: true, to: "In Progress" });
    expect(linear.issueStateId(ISSUE_ID)).toBe("state-team-eng-in-progress");
    const teams = linear.requests
      .filter((r) => r.operation === "workflowStates")
      .map((r) => (r.variables as { filter: { team: { id: { eq: string } } } }).filter.team.id.eq);
    expect(teams).toEqual(["team-ops", "team-eng"]);

    await expect(move("Done", undefined)).resolves.toEqual({ moved: true, to: "Done" });
    expect(linear.issueStateId(ISSUE_ID)).toBe("state-team-eng-done");
  });

  it("throws Linear's outages and rate limits as TransientError, for the workflow to retry", async () => {
    linear.failNext({ operation: "workflowStates", fault: { status: 503 } });
    await expect(move("In Progress")).rejects.toBeInstanceOf(TransientError);

    linear.failNext({ operation: "updateIssue", fault: ratelimitedFault({ retryAfterSeconds: 30 }) });
    await expect(move("In Progress")).rejects.toMatchObject({
      name: "TransientError",
      retryAfterSeconds: 30,
    });

    linear.failNext({ operation: "issue", fault: { reset: true } });
    await expect(move("In Progress")).rejects.toBeInstanceOf(TransientError);
    expect(linear.issueStateId(ISSUE_ID)).toBe("state-team-eng-todo");
  });

  it("turns Linear's refusal into a reason, never a retry", async () => {
    const forbidden = {
      status: 400,
      body: {
        errors: [
          {
            message: "Forbidden",
            extensions: { type: "forbidden", userPresentableMessage: "You cannot edit this issue." },
          },
        ],
      },
    };
    linear.failNext({ operation: "updateIssue", fault: forbidden });

    const result = await move("In Progress");

    expect(result.moved).toBe(false);
    expect(result).toMatchObject({
      reason: expect.stringMatching(/^ENG-42 was not moved to "In Progress": Linear refused updateIssue/),
    });
  });

  it("says so when Linear will not show the issue", async () => {
    const result = await moveLinearIssue({
      ...auth(),
      issueId: "00000000-0000-4000-8000-000000000000",
      key: "ENG-7",
      to: "Done",
    });

    expect(result).toMatchObject({
      moved: false,
      reason: expect.stringContaining('ENG-7 was not moved to "Done"'),
    });
  });

  it("is the issue operations' moveTicket, with the auth they were built with", async () => {
    const ticket: Ticket = {
      tracker: "linear",
      id: ISSUE_ID,
      key: "ENG-42",
      title: "Checkout",
      url: "https://linear.app/acme/ENG-42",
      description: "",
      teamId: "team-eng",
    };
    const issues = linearIssueOperations(async () => auth());

    await expect(issues.moveTicket(ticket, "In Progress")).resolves.toEqual({
      moved: true,
      to: "In Progress",
    });
    expect(linear.issueStateId(ISSUE_ID)).toBe("state-team-eng-in-progress");
  });
});
