import { PermanentError, TransientError } from "../../../../../functions/shared/platform/errors";
import {
  clearLinearViewerCache,
  getLinearAttachmentUrls,
  getLinearComment,
  getLinearIssue,
  linearViewerId,
  postLinearComment,
  setLinearLabels,
  updateLinearComment,
} from "../../../../../functions/shared/trackers/linear/issues";
import { type FakeLinear, ratelimitedFault, startFakeLinear } from "../../../../../simulators/linear";

const ISSUE_ID = "539068e2-ae88-4d09-bd75-22eb4a59612f";
const COMMENT_ID = "0b6c4d8e-1f2a-4b3c-8d4e-5f6a7b8c9d0e";
describe("Linear tracker API", () => {
  let linear: FakeLinear;
  const auth = () => ({ apiKey: "lin_api_test", apiUrl: linear.url });

  beforeEach(async () => {
    clearLinearViewerCache();
    linear = await startFakeLinear({
      viewerId: "user-qa-bot",
      labels: [
        { id: "lbl-needs-test", name: "needs test" },
        { id: "lbl-testing", name: "Testing" },
        { id: "lbl-tested-ws", name: "tested" },
        { id: "lbl-tested-eng", name: "Tested", teamId: "team-eng" },
        { id: "lbl-tested-ops", name: "tested", teamId: "team-ops" },
        { id: "lbl-group", name: "QA", isGroup: true },
        { id: "lbl-staging-ops", name: "staging", teamId: "team-ops" },
      ],
      issues: {
        [ISSUE_ID]: { identifier: "ENG-42", title: "Checkout", url: "https://linear.app/acme/ENG-42" },
      },
      issueTeamIds: { [ISSUE_ID]: "team-eng" },
      issueLabelIds: { [ISSUE_ID]: ["lbl-needs-test"] },
      attachments: {
        [ISSUE_ID]: [
          { url: "https://sentry.io/organizations/acme/issues/1", title: "TypeError" },
          { url: "https://github.com/acme/shop/pull/42", title: "Fix checkout", sourceType: "github" },
        ],
      },
    });
  });
  afterEach(() => linear.close());

  async function botComment(body = "Testing...") {
    await postLinearComment({ ...auth(), issueId: ISSUE_ID, body, commentId: COMMENT_ID, trailer: "-" });
  }

  describe("linearViewerId", () => {
    it("returns the API key's user id and asks Linear once per key", async () => {
      const first = await linearViewerId(auth());
      const second = await linearViewerId(auth());

      expect([first, second]).toEqual(["user-qa-bot", "user-qa-bot"]);
      expect(linear.requests.filter((r) => r.operation === "viewer")).toHaveLength(1);
    });

    it("does not cache a failure, and maps a rejected key to PermanentError", async () => {
      const wrong = { apiKey: "lin_api_wrong", apiUrl: linear.url };
      await expect(linearViewerId(wrong)).rejects.toBeInstanceOf(PermanentError);
      linear.failNext({ operation: "viewer", fault: { status: 503 } });
      await expect(linearViewerId(auth())).rejects.toBeInstanceOf(TransientError);

      await expect(linearViewerId(auth())).resolves.toBe("user-qa-bot");
    });
  });

  describe("getLinearComment", () => {
    it("reads the bot's comment with its author and issue", async () => {
      await botComment("Hello");

      const comment = await getLinearComment({ ...auth(), id: COMMENT_ID });

      expect(comment).toEqual({ id: COMMENT_ID, body: "Hello", userId: "user-qa-bot", issueId: ISSUE_ID });
    });

    it("reads a human reply in a thread with its parent", async () => {
      await botComment();
      const reply = linear.addComment({
        issueId: ISSUE_ID,
        body: "Also try an empty cart",
        userId: "user-jane",
        parentId: COMMENT_ID,
      });

      const comment = await getLinearComment({ ...auth(), id: reply.id });

      expect(comment).toEqual({
        id: reply.id,
        body: "Also try an empty cart",
        userId: "user-jane",
        parentId: COMMENT_ID,
        issueId: ISSUE_ID,
      });
    });

    it("returns null for a comment that does not exist", async () => {
      await expect(getLinearComment({ ...auth(), id: COMMENT_ID })).resolves.toBeNull();
    });

    it("maps rate limiting to TransientError with the retry delay, auth failure to PermanentError", async () => {
      linear.failNext({ operation: "comment", fault: ratelimitedFault({ retryAfterSeconds: 7 }) });
      const limited = await getLinearComment({ ...auth(), id: COMMENT_ID }).catch((e: unknown) => e);
      const denied = await getLinearComment({
        apiKey: "lin_api_wrong",
        apiUrl: linear.url,
        id: COMMENT_ID,
      }).catch((e: unknown) => e);

      expect(limited).toBeInstanceOf(TransientError);
      expect((limited as TransientError).retryAfterSeconds).toBe(7);
      expect(denied).toBeInstanceOf(PermanentError);
    });
  });

  describe("updateLinearComment", () => {
    it("replaces the body and keeps the edit history", async () => {
      await botComment("Testing...");

      await updateLinearComment({ ...auth(), id: COMMENT_ID, body: "Step 1 passed" });
      await updateLinearComment({ ...auth(), id: COMMENT_ID, body: "All passed" });

      expect(linear.comments[0]).toMatchObject({
        body: "All passed",
        edits: ["Step 1 passed", "All passed"],
      });
    });

    it("fails permanently for a missing comment and transiently on a 500", async () => {
      await expect(updateLinearComment({ ...auth(), id: COMMENT_ID, body: "x" })).rejects.toBeInstanceOf(
        PermanentError,
      );
      await botComment();
      linear.failNext({ operation: "updateComment", fault: { status: 500 } });

      await expect(updateLinearComment({ ...auth(), id: COMMENT_ID, body: "x" })).rejects.toBeInstanceOf(
        TransientError,
      );
      expect(linear.comments[0].edits).toBeUndefined();
    });

    it("cannot edit someone else's comment", async () => {
      const human = linear.addComment({ issueId: ISSUE_ID, body: "mine", userId: "user-jane" });

      await expect(updateLinearComment({ ...auth(), id: human.id, body: "x" })).rejects.toBeInstanceOf(
        PermanentError,
      );
      expect(human.body).toBe("mine");
    });
  });

  describe("getLinearIssue", () => {
    it("reads the issue's text back with its team, whose labels it may carry", async () => {
      const issue = await getLinearIssue({ ...auth(), id: ISSUE_ID });

      expect(issue).toEqual({
        identifier: "ENG-42",
        title: "Checkout",
        description: "",
        url: "https://linear.app/acme/ENG-42",
        teamId: "team-eng",
        labels: ["needs test"],
      });
    });
  });

  describe("getLinearAttachmentUrls", () => {
    it("lists the URLs of the issue's attachments, where Linear's GitHub integration puts linked PRs", async () => {
      const urls = await getLinearAttachmentUrls({ ...auth(), issueId: ISSUE_ID });

      expect(urls).toEqual([
        "https://sentry.io/organizations/acme/issues/1",
        "https://github.com/acme/shop/pull/42",
      ]);
    });

    it("maps a Linear outage to TransientError and an unknown issue to PermanentError", async () => {
      linear.failNext({ operation: "issue_attachments", fault: { status: 503 } });
      const outage = await getLinearAttachmentUrls({ ...auth(), issueId: ISSUE_ID }).catch((e: unknown) => e);
      const unknown = await getLinearAttachmentUrls({
        ...auth(),
        issueId: "9a1c0b6e-0000-4000-8000-000000000000",
      }).catch((e: unknown) => e);

      expect(outage).toBeInstanceOf(TransientError);
      expect(unknown).toBeInstanceOf(PermanentError);
    });
  });

  describe("setLinearLabels", () => {
    it("swaps labels by name, case-insensitively, in one updateIssue", async () => {
      const result = await setLinearLabels({
        ...auth(),
        issueId: ISSUE_ID,
        add: ["TESTING"],
        remove: ["Needs Test"],
      });

      expect(result).toEqual({ skipped: [] });
      expect(linear.labelChanges).toEqual([
        { issueId: ISSUE_ID, added: ["lbl-testing"], removed: ["lbl-needs-test"] },
      ]);
      expect(linear.issueLabelIds(ISSUE_ID)).toEqual(["lbl-testing"]);
      expect(linear.requests.filter((r) => r.operation === "updateIssue")).toHaveLength(1);
    });

    it("skips names that match no label (or only a group) and does not create them", async () => {
      const result = await setLinearLabels({
        ...auth(),
        issueId: ISSUE_ID,
        add: ["testing", "qa passed", "QA"],
        remove: ["no such label"],
      });

      expect(result).toEqual({ skipped: ["qa passed", "QA", "no such label"] });
      expect(linear.issueLabelIds(ISSUE_ID)).toEqual(["lbl-needs-test", "lbl-testing"]);
      expect(linear.requests.map((r) => r.operation)).not.toContain("createIssueLabel");
    });

    it("sends no update when no name matches", async () => {
      const result = await setLinearLabels({ ...auth(), issueId: ISSUE_ID, add: ["nope"], remove: [] });

      expect(result).toEqual({ skipped: ["nope"] });
      expect(linear.labelChanges).toEqual([]);
    });

    it("adds the issue's team label rather than the workspace's or another team's", async () => {
      await setLinearLabels({
        ...auth(),
        issueId: ISSUE_ID,
        teamId: "team-eng",
        add: ["tested"],
        remove: [],
      });

      expect(linear.labelChanges).toEqual([{ issueId: ISSUE_ID, added: ["lbl-tested-eng"], removed: [] }]);
    });

    it("reads the issue's team when it is not given, instead of taking any team's label", async () => {
      const result = await setLinearLabels({
        ...auth(),
        issueId: ISSUE_ID,
        add: ["tested", "staging"],
        remove: [],
      });

      // "staging" exists only in another team: adding it would make Linear refuse the whole update.
      expect(result).toEqual({ skipped: ["staging"] });
      expect(linear.issueLabelIds(ISSUE_ID)).toEqual(["lbl-needs-test", "lbl-tested-eng"]);
    });

    it("uses the issue's current team when the one it was given is out of date (the issue moved)", async () => {
      await setLinearLabels({
        ...auth(),
        issueId: ISSUE_ID,
        teamId: "team-ops",
        add: ["tested"],
        remove: [],
      });

      expect(linear.issueLabelIds(ISSUE_ID)).toEqual(["lbl-needs-test", "lbl-tested-eng"]);
    });

    it("removes only the labels by that name that the issue has", async () => {
      await setLinearLabels({
        ...auth(),
        issueId: ISSUE_ID,
        teamId: "team-eng",
        add: ["tested"],
        remove: [],
      });

      const result = await setLinearLabels({
        ...auth(),
        issueId: ISSUE_ID,
        teamId: "team-eng",
        add: ["testing"],
        remove: ["tested", "needs test"],
      });

      expect(result).toEqual({ skipped: [] });
      expect(linear.labelChanges.at(-1)).toEqual({
        issueId: ISSUE_ID,
        added: ["lbl-testing"],
        removed: ["lbl-tested-eng", "lbl-needs-test"],
      });
    });

    it("sends no update when the issue has none of the labels to remove", async () => {
      const result = await setLinearLabels({
        ...auth(),
        issueId: ISSUE_ID,
        teamId: "team-eng",
        add: [],
        remove: ["tested"],
      });

      expect(result).toEqual({ skipped: [] });
      expect(linear.labelChanges).toEqual([]);
    });

    it("maps errors: ratelimited is transient, an unknown issue is permanent", async () => {
      linear.failNext({ operation: "issueLabels", fault: ratelimitedFault() });
      await expect(
        setLinearLabels({ ...auth(), issueId: ISSUE_ID, add: ["testing"], remove: [] }),
      ).rejects.toBeInstanceOf(TransientError);

      linear.failNext({ operation: "updateIssue", fault: { status: 502 } });
      await expect(
        setLinearLabels({ ...auth(), issueId: ISSUE_ID, add: ["testing"], remove: [] }),
      ).rejects.toBeInstanceOf(TransientError);

      await expect(
        setLinearLabels({
          apiKey: "lin_api_wrong",
          apiUrl: linear.url,
          issueId: ISSUE_ID,
          add: ["x"],
          remove: [],
        }),
      ).rejects.toBeInstanceOf(PermanentError);
      expect(linear.issueLabelIds(ISSUE_ID)).toEqual(["lbl-needs-test"]);
    });
  });
});
