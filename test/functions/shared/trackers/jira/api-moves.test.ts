import { TransientError } from "../../../../../functions/shared/platform/errors";
import { getJiraTransitions, moveJiraIssue } from "../../../../../functions/shared/trackers/jira/api";
import { type FakeJira, type FakeJiraTransition, startFakeJira } from "../../../../../simulators/jira";

const email = "qa-bot@acme.example";
const apiToken = "token-123";
const transitionsPath = "/rest/api/3/issue/PROJ-123/transitions";

/** A company-managed workflow: transitions named for what they do, each from some statuses. */
const WORKFLOW: { statuses: string[]; transitions: FakeJiraTransition[] } = {
  statuses: ["Open", "In Progress", "In Review", "Closed"],
  transitions: [
    { id: "4", name: "Start Progress", to: "In Progress", from: ["Open"] },
    { id: "5", name: "Send to review", to: "In Review", from: ["In Progress"] },
    { id: "6", name: "Reopen", to: "Open", from: ["In Progress", "In Review", "Closed"] },
    { id: "2", name: "Close Issue", to: "Closed", requiredFields: ["resolution"] },
  ],
};

let jira: FakeJira;
const auth = () => ({ baseUrl: jira.url, email, apiToken });
const move = (to: string, issueKey = "PROJ-123") => moveJiraIssue({ ...auth(), issueKey, to });
const posts = () => jira.requests.filter((r) => r.method === "POST");

async function start(options: Parameters<typeof startFakeJira>[0] = {}) {
  jira = await startFakeJira({
    email,
    apiToken,
    issues: { "PROJ-123": { id: "10123", summary: "Checkout" } },
    ...options,
  });
}
afterEach(() => jira.close());

describe("moveJiraIssue", () => {
  describe("with Jira's default workflow", () => {
    beforeEach(() => start());

    it("takes the transition named so, by the id Jira listed", async () => {
      await expect(move("In Progress")).resolves.toEqual({ moved: true, to: "In Progress" });

      expect(posts()).toEqual([
        expect.objectContaining({ path: transitionsPath, body: { transition: { id: "21" } } }),
      ]);
      expect(jira.status("PROJ-123")).toBe("In Progress");
      expect(jira.transitionsMade).toEqual([
        { issueKey: "PROJ-123", transitionId: "21", from: "To Do", to: "In Progress" },
      ]);
    });

    it("leaves an issue already in that status alone", async () => {
      await move("Done");

      await expect(move("done")).resolves.toEqual({ moved: true, to: "Done" });

      expect(posts()).toHaveLength(1);
    });

    it("throws Jira's outages and throttling as TransientError, for the workflow to retry", async () => {
      jira.failNext({ method: "GET", path: transitionsPath, fault: { status: 503 } });
      await expect(move("Done")).rejects.toBeInstanceOf(TransientError);

      jira.failNext({ method: "POST", path: transitionsPath, fault: { status: 502 } });
      await expect(move("Done")).rejects.toBeInstanceOf(TransientError);

      jira.failNext({
        method: "POST",
        path: transitionsPath,
        fault: { status: 429, headers: { "retry-after": "120" } },
      });
      await expect(move("Done")).rejects.toMatchObject({ name: "TransientError", retryAfterSeconds: 120 });

      jira.failNext({ method: "GET", path: transitionsPath, fault: { reset: true } });
      await expect(move("Done")).rejects.toBeInstanceOf(TransientError);
      expect(jira.status("PROJ-123")).toBe("To Do");
    });

    it("says so when Jira will not show the issue, or refuses the credentials", async () => {
      await expect(move("Done", "PROJ-404")).resolves.toMatchObject({
        moved: false,
        reason: expect.stringMatching(/^PROJ-404 was not moved to "Done": .*does not exist/),
      });
      await expect(
        moveJiraIssue({ ...auth(), apiToken: "wrong", issueKey: "PROJ-123", to: "Done" }),
      ).resolves.toMatchObject({ moved: false, reason: expect.stringContaining("401") });
    });
  });

  describe("with a workflow of named transitions", () => {
    beforeEach(() => start({ workflow: WORKFLOW }));

    it("takes a transition by its name, or by the status it leads to", async () => {
      await expect(move("start progress")).resolves.toEqual({ moved: true, to: "In Progress" });
      await expect(move("In Review")).resolves.toEqual({ moved: true, to: "In Review" });

      expect(posts().map((p) => p.body)).toEqual([{ transition: { id: "4" } }, { transition: { id: "5" } }]);
      expect(jira.status("PROJ-123")).toBe("In Review");
    });

    it("says which transitions the issue offers when none is named so, and posts nothing", async () => {
      const result = await move("Send to review");

      expect(result).toEqual({
        moved: false,
        reason:
          'Jira offers no transition named "Send to review" for PROJ-123 (available: Start Progress, Close Issue)',
      });
      expect(posts()).toEqual([]);
    });

    it("reports the field a transition's screen requires as the reason, never a retry", async () => {
      const result = await move("Closed");

      expect(result).toMatchObject({
        moved: false,
        reason: expect.stringMatching(/^PROJ-123 was not moved to "Closed": .*resolution is required/),
      });
      expect(jira.status("PROJ-123")).toBe("Open");
    });

    it("cuts a long list of transitions in the reason", async () => {
      await jira.close();
      const many = Array.from({ length: 30 }, (_, i) => ({
        id: String(100 + i),
        name: `Step ${i}`,
        to: "Open",
      }));
      await start({ workflow: { statuses: ["New", "Open"], transitions: many } });

      const result = await move("Shipped");

      expect(result).toMatchObject({ moved: false, reason: expect.stringContaining("Step 19 and 10 more)") });
    });
  });
});

describe("getJiraTransitions", () => {
  beforeEach(() => start({ workflow: WORKFLOW }));

  it("lists the transitions the issue offers from its status, with the status each leads to", async () => {
    await expect(getJiraTransitions({ ...auth(), issueKey: "PROJ-123" })).resolves.toEqual([
      { id: "4", name: "Start Progress", to: "In Progress" },
      { id: "2", name: "Close Issue", to: "Closed" },
    ]);
  });
});
