import { validateAdf } from "../../simulators/adf-schema";
import { type Harness, jiraFixture, startHarness } from "../../simulators/harness";
import { adfText } from "../support/adf-text";

/** A `comment_created` delivery for a comment already in the fake, written by `accountId`. */
function commentEvent(id: string, body: string, accountId: string) {
  const base = jiraFixture("comment_created");
  return { ...base, comment: { ...(base.comment as object), id, body, author: { accountId } } };
}

const ISSUE = { "PROJ-123": { id: "10002", summary: "Login button is misaligned" } };

describe("Jira ticket labelled 'needs-test', end to end through the local runner", () => {
  let h: Harness;
  afterEach(async () => {
    await h.runner.settled();
    await h.close();
  });

  it("acknowledges, then posts one schema-valid ADF reply linking the acknowledgement and the conversation", async () => {
    h = await startHarness({
      qatech: {
        plan: () => ({ text: "## Tested\n\n- login works\n- **button** overlaps\n\n```ts\nexpect(x)\n```" }),
      },
    });

    const res = await h.sendJira("jira-issue_updated.label-added");
    await h.runner.settled();

    expect(res).toMatchObject({ status: 200, body: { outcome: "started" } });
    const [conversation] = h.qatech.conversations();
    expect(h.qatech.conversations()).toHaveLength(1);
    const userMessage = conversation.messages[conversation.messages.length - 1].text;
    expect(userMessage).toContain("PROJ-123: Login button is misaligned");
    expect(userMessage).toContain("/browse/PROJ-123");
    expect(userMessage).not.toContain("attacker.example");
    const [ack] = h.jiraAcks();
    expect(h.jira.comments.map((c) => c.id)).toEqual([ack.id, h.jiraReplies()[0].id]);
    expect(adfText(ack.body)).toContain(`<${conversation.url}>`);
    expect(h.jiraReplies()).toHaveLength(1);
    const [comment] = h.jiraReplies();
    expect(comment.issueKey).toBe("PROJ-123");
    for (const posted of h.jira.comments) expect(validateAdf(posted.body)).toEqual([]);
    const text = adfText(comment.body);
    expect(text).toContain(`focusedCommentId=${ack.id}`);
    expect(text).toContain("login works");
    expect(text).toContain("expect(x)");
    expect(text).toContain(`<${conversation.url}>`);
  });

  it("keeps the start of a reply that is one line longer than Jira's comment limit", async () => {
    const line = `Checked the login flow. ${"All steps passed. ".repeat(6_000)}`.slice(0, 100_000);
    h = await startHarness({ qatech: { plan: () => ({ text: line }) } });

    await h.sendJira("jira-issue_updated.label-added");
    await h.runner.settled();

    const [comment] = h.jiraReplies();
    expect(h.jiraReplies()).toHaveLength(1);
    expect(validateAdf(comment.body)).toEqual([]);
    const text = adfText(comment.body);
    expect(text).toContain(`focusedCommentId=${h.jiraAcks()[0].id}`);
    expect(text).toContain("Checked the login flow. All steps passed. All steps passed.");
    // Measured, not compared: a failure printing 20,000 characters would hide what went wrong.
    expect(text.length).toBeGreaterThan(20_000);
    expect(text).toContain("The reply was cut to fit Jira's comment limit");
    expect(text).toContain(`<${h.qatech.conversations()[0].url}>`);
  });

  it("posts the reply's javascript: and data: links as text, not link marks", async () => {
    h = await startHarness({
      qatech: { plan: () => ({ text: "Try [click](javascript:alert(1)) or <data:text/html,x>." }) },
    });

    await h.sendJira("jira-issue_updated.label-added");
    await h.runner.settled();

    const [comment] = h.jiraReplies();
    const text = adfText(comment.body);
    expect(validateAdf(comment.body)).toEqual([]);
    expect(text).toContain("click");
    expect(text).toContain("data:text/html,x");
    expect(text).not.toMatch(/<javascript:|<data:/);
    expect(text).toContain(`<${h.qatech.conversations()[0].url}>`);
  });

  it("does not start a second conversation when Jira retries the delivery", async () => {
    h = await startHarness();

    const first = await h.sendJira("jira-issue_updated.label-added");
    await h.runner.settled();
    const retry = await h.sendJira("jira-issue_updated.label-added");
    await h.runner.settled();

    expect(first.body.outcome).toBe("started");
    expect(retry).toMatchObject({ status: 200, body: { outcome: "duplicate" } });
    expect(h.qatech.conversations()).toHaveLength(1);
    expect(h.jiraReplies()).toHaveLength(1);
  });

  it("starts nothing for unsigned, wrongly signed or unrelated events", async () => {
    h = await startHarness();

    const unsigned = await h.sendJira("jira-issue_updated.label-added", {
      headers: { "x-hub-signature": null },
    });
    const forged = await h.sendJira("jira-issue_updated.label-added", { secret: "wrong" });
    const comment = await h.sendJira("comment_created");
    const edit = await h.sendJira("jira-issue_updated.summary-edited");
    const removed = await h.sendJira("jira-issue_updated.label-removed");
    await h.runner.settled();

    expect([unsigned.status, forged.status]).toEqual([401, 401]);
    expect([comment, edit, removed].map((r) => [r.status, r.body.outcome])).toEqual([
      [200, "ignored"],
      [200, "ignored"],
      [200, "ignored"],
    ]);
    expect(h.qatech.requests).toHaveLength(0);
    expect(h.jira.comments).toHaveLength(0);
  });

  it("comments once even when the first comment landed but Jira's answer was lost", async () => {
    h = await startHarness();
    h.jira.failNext({ method: "POST", path: /\/comment$/, fault: { afterCommit: { status: 503 } } });

    await h.sendJira("jira-issue_updated.label-added");
    await h.runner.settled();

    expect(h.jiraReplies()).toHaveLength(1);
    expect([...h.runner.executions.values()][0].status).toBe("SUCCEEDED");
  });

  it("ignores @qa retry on a ticket that was never labelled and has no conversation of ours", async () => {
    // A service-desk customer, say: anyone who may comment could otherwise start runs on any ticket.
    h = await startHarness({ jira: { issues: ISSUE } });
    const customer = h.jira.addComment("PROJ-123", { body: "@qa retry", authorAccountId: "customer-7" });

    const res = await h.sendJira(commentEvent(customer.id, "@qa retry", "customer-7"));
    await h.runner.settled();

    expect(res.status).toBe(200);
    expect(h.qatech.conversations()).toHaveLength(0);
    expect(h.jira.comments.map((c) => c.id)).toEqual([customer.id]);
    expect(h.jira.labelChanges).toEqual([]);
  });

  it("starts afresh on @qa retry where the trigger label is on the ticket, even before any conversation", async () => {
    h = await startHarness({ jira: { issues: ISSUE, labels: { "PROJ-123": ["needs-test"] } } });
    const human = h.jira.addComment("PROJ-123", { body: "@qa retry", authorAccountId: "jane" });

    await h.sendJira(commentEvent(human.id, "@qa retry", "jane"));
    await h.runner.settled();

    expect(h.qatech.conversations()).toHaveLength(1);
    expect(h.jiraAcks()).toHaveLength(1);
  });

  it("moves the ticket through the transition named so, with the run's Jira credentials", async () => {
    h = await startHarness({ jira: { issues: ISSUE } });
    const { trackerOf } = await import("../../functions/shared/trackers");
    const jira = await trackerOf("jira");
    const ticket = {
      tracker: "jira" as const,
      id: "10002",
      key: "PROJ-123",
      title: "",
      url: "",
      description: "",
    };

    await expect(jira.moveTicket(ticket, "In Progress")).resolves.toEqual({ moved: true, to: "In Progress" });
    await expect(jira.moveTicket(ticket, "Shipped")).resolves.toEqual({
      moved: false,
      reason: 'Jira offers no transition named "Shipped" for PROJ-123 (available: To Do, Done)',
    });

    expect(h.jira.status("PROJ-123")).toBe("In Progress");
  });
});
