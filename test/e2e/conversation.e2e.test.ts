import { markdownToAdf } from "../../functions/shared/trackers/jira/adf";
import { adfToText } from "../../functions/shared/trackers/jira/adf-text";
import { type Harness, jiraFixture, startHarness } from "../../simulators/harness";
import { linearFixture } from "../../simulators/signing";
import { adfText } from "../support/adf-text";
import { JANE, LINEAR_ISSUE, replyOnLinear } from "../support/linear-thread";
import { waitFor } from "../support/wait-for";

const OVERRIDES = JSON.stringify([
  { applicationShortId: "app_shop", environment: { url: "https://preview.example" } },
]);

/** A Jira comment_created webhook for `body` written by `accountId`. */
function jiraCommentEvent(id: string, body: string, accountId: string) {
  const base = jiraFixture("comment_created");
  return { ...base, comment: { ...(base.comment as object), id, body, author: { accountId } } };
}

/** Runs a labelled Linear ticket to its reply and returns the acknowledgement (the thread's root). */
async function labelledLinearTicket(h: Harness) {
  await h.sendLinear("Issue.update.label-added");
  await h.runner.settled();
  const [ack] = h.linearAcks();
  return ack;
}

describe("the ticket as a conversation", () => {
  let h: Harness;
  // Closing stops whatever still runs (a failed assertion may leave a long run behind).
  afterEach(() => h.close());

  describe("acknowledgement", () => {
    it.each(["linear", "jira"] as const)(
      "comes right after the conversation opens, with the link, before QA.tech is even polled (%s)",
      async (tracker) => {
        h = await startHarness({
          qatech: { plan: () => ({ pollsUntilFinal: 40 }) },
          env: { WAIT_SCALE: "1" },
        });
        // The raw comment (markdown, or ADF as JSON) holds the link's URL either way.
        const acks = () =>
          tracker === "linear"
            ? h.linearAcks().map((c) => c.body)
            : h.jiraAcks().map((c) => JSON.stringify(c.body));
        const polls = () => h.qatech.requests.filter((r) => r.method === "GET").length;

        if (tracker === "linear") await h.sendLinear("Issue.update.label-added");
        else await h.sendJira("jira-issue_updated.label-added");
        // However slow this machine, the acknowledgement does not wait for the reply: it is posted before
        // the first poll, which comes after a real 3 s wait (WAIT_SCALE 1).
        await waitFor(() => acks().length > 0);
        const pollsWhenAcknowledged = polls();

        expect(pollsWhenAcknowledged).toBe(0);
        expect(acks()).toHaveLength(1);
        expect(acks()[0]).toContain(h.qatech.conversations()[0].url);
        expect(tracker === "linear" ? h.linearReplies() : h.jiraReplies()).toHaveLength(0);
        // The reply would take minutes at WAIT_SCALE 1: stop here; closing (afterEach) stops the run.
      },
    );

    it("replaces its own text with the reply when REPLY_MODE is replace", async () => {
      h = await startHarness({ env: { REPLY_MODE: "replace" } });

      await h.sendLinear("Issue.update.label-added");
      await h.runner.settled();

      expect(h.linear.comments).toHaveLength(1);
      const [comment] = h.linear.comments;
      expect(comment.edits?.length).toBe(1);
      expect(comment.body).toContain(h.qatech.conversations()[0].messages[0].text);
    });
  });

  describe("follow-ups in the thread", () => {
    it("Linear: a reply in our thread is sent to the same conversation and answered in the thread", async () => {
      h = await startHarness({
        qatech: { plan: (m) => (m.includes("mobile") ? { text: "On mobile it works." } : {}) },
      });
      const ack = await labelledLinearTicket(h);

      const res = await replyOnLinear(h, "And on mobile?", ack.id);

      expect(res.body.outcome).toBe("started");
      const [conversation] = h.qatech.conversations();
      expect(h.qatech.conversations()).toHaveLength(1);
      expect(conversation.messages.filter((m) => m.role === "user").map((m) => m.text)).toContain(
        "And on mobile?",
      );
      const answers = h.linearReplies().filter((c) => c.body.includes("On mobile it works."));
      expect(answers).toHaveLength(1);
      expect(answers[0].parentId).toBe(ack.id);
    });

    it("Linear: a follow-up QA.tech does not show yet is not answered with the previous reply", async () => {
      h = await startHarness({
        qatech: {
          // The follow-up stays out of the first reads, while the ticket's own exchange is final.
          visibleAfterGets: 4,
          plan: (m) => ({ text: m.includes("mobile") ? "On mobile it works." : "The ticket's reply." }),
        },
      });
      const ack = await labelledLinearTicket(h);

      await replyOnLinear(h, "And on mobile?", ack.id);

      const replies = h.linearReplies().map((c) => c.body);
      expect(replies.filter((body) => body.includes("The ticket's reply."))).toHaveLength(1);
      expect(replies.filter((body) => body.includes("On mobile it works."))).toHaveLength(1);
    });

    it("Linear: with messages listed oldest first, a follow-up gets its own reply and status the latest", async () => {
      h = await startHarness({
        qatech: {
          order: "oldest-first",
          plan: (m) =>
            m.includes("mobile")
              ? { text: "On mobile it fails.", status: "FAILED" }
              : { text: "The ticket's reply." },
        },
      });
      const ack = await labelledLinearTicket(h);

      await replyOnLinear(h, "And on mobile?", ack.id);
      await replyOnLinear(h, "@qa status", ack.id);

      const replies = h.linearReplies().map((c) => c.body);
      expect(replies.filter((body) => body.includes("The ticket's reply."))).toHaveLength(1);
      expect(replies.filter((body) => body.includes("On mobile it fails."))).toHaveLength(1);
      expect(replies.at(-1)).toContain("QA.tech's latest reply is failed.");
    });

    it("Linear: our own comments and replies in threads that are not ours trigger nothing", async () => {
      h = await startHarness();
      const ack = await labelledLinearTicket(h);
      const othersRoot = h.linear.addComment({ issueId: LINEAR_ISSUE, body: "Deploy notes", userId: JANE });
      const before = { requests: h.qatech.requests.length, comments: h.linear.comments.length };

      await replyOnLinear(h, "A note from the bot itself", ack.id, "user-qa-bot");
      await replyOnLinear(h, "What about staging?", othersRoot.id);

      expect(h.qatech.requests.slice(before.requests).filter((r) => r.method === "POST")).toHaveLength(0);
      // Only the two comments the people (and the bot, by hand) wrote: the integration said nothing.
      expect(h.linear.comments).toHaveLength(before.comments + 2);
      const statuses = [...h.runner.executions.values()].map((e) => e.output?.thread?.action).filter(Boolean);
      expect(statuses).toEqual(["ignore", "ignore"]);
    });

    it("Jira: a comment starting with @qa is sent to the same conversation and answered", async () => {
      h = await startHarness({
        qatech: { plan: (m) => (m.includes("Safari") ? { text: "Safari passes too." } : {}) },
      });
      await h.sendJira("jira-issue_updated.label-added");
      await h.runner.settled();
      const human = h.jira.addComment("PROJ-123", {
        body: "@qa does it pass on Safari?",
        authorAccountId: "jane",
      });

      const res = await h.sendJira(jiraCommentEvent(human.id, "@qa does it pass on Safari?", "jane"));
      await h.runner.settled();

      expect(res.body.outcome).toBe("started");
      expect(h.qatech.conversations()).toHaveLength(1);
      const userTexts = h.qatech
        .conversations()[0]
        .messages.filter((m) => m.role === "user")
        .map((m) => m.text);
      expect(userTexts).toContain("does it pass on Safari?");
      const answers = h.jiraReplies().filter((c) => adfText(c.body).includes("Safari passes too."));
      expect(answers).toHaveLength(1);
    });

    it("Jira: comments without the prefix, and the integration's own, trigger nothing", async () => {
      h = await startHarness();
      await h.sendJira("jira-issue_updated.label-added");
      await h.runner.settled();
      const before = h.qatech.requests.length;

      const plain = await h.sendJira(jiraCommentEvent("20001", "Looks good to me", "jane"));
      const own = await h.sendJira(jiraCommentEvent("20002", "@qa status", "jira-bot-account"));
      await h.runner.settled();

      expect(plain.body.outcome).toBe("ignored");
      expect(h.qatech.requests.slice(before)).toHaveLength(0);
      expect(own.body.outcome).toBe("started");
      expect([...h.runner.executions.values()].at(-1)?.output?.thread?.action).toBe("ignore");
    });
  });

  describe("a thread's conversation comes only from our signed marker, never from echoed text", () => {
    it("Linear: ticket B's PR link naming ticket A's conversation does not route B's thread to it", async () => {
      h = await startHarness({ env: { QATECH_APPLICATION_OVERRIDES: OVERRIDES } });
      const ackA = await labelledLinearTicket(h);
      const [chatA] = h.qatech.conversations();
      // A merge request URL whose path holds "/chat/<A's conversation>": the acknowledgement echoes it.
      const ticketB = linearFixture("Issue.update.label-added");
      const ISSUE_B = "539068e2-ae88-4d09-bd75-0000000000b2";
      ticketB.data = {
        ...(ticketB.data as object),
        id: ISSUE_B,
        identifier: "ENG-77",
        description: `Fix: https://gitlab.com/evil/chat/${chatA.shortId}/-/merge_requests/1`,
      };
      await h.sendLinear(ticketB);
      await h.runner.settled();
      const ackB = h.linearAcks().find((c) => c.issueId === ISSUE_B);
      expect(ackB?.body).toContain(`/chat/${chatA.shortId}/-/merge_requests/1`);
      const chatB = h.qatech.conversations()[1];

      const question = h.linear.addComment({
        issueId: ISSUE_B,
        body: "And on mobile?",
        userId: JANE,
        parentId: ackB?.id,
      });
      await h.sendLinear({
        ...linearFixture("Comment.create"),
        data: { ...question, issue: { id: ISSUE_B, identifier: "ENG-77", title: "B" } },
      });
      await h.runner.settled();

      const userTexts = (id: string) =>
        (h.qatech.conversations().find((c) => c.shortId === id)?.messages ?? [])
          .filter((m) => m.role === "user")
          .map((m) => m.text);
      expect(userTexts(chatA.shortId)).not.toContain("And on mobile?");
      expect(userTexts(chatB.shortId)).toContain("And on mobile?");
      expect(h.linear.comments.filter((c) => c.parentId === ackA.id && c.issueId !== LINEAR_ISSUE)).toEqual(
        [],
      );
      const answers = h.linearReplies().filter((c) => c.parentId === ackB?.id);
      expect(answers.every((c) => c.issueId === ISSUE_B && !c.body.includes(chatA.url))).toBe(true);
    });

    it("Jira: a reply that quotes ticket A's link and genuine marker does not route B's follow-ups to A", async () => {
      let quoted = "";
      h = await startHarness({
        qatech: { plan: (m) => (m.includes("PROJ-124") ? { text: quoted } : {}) },
      });
      await h.sendJira("jira-issue_updated.label-added");
      await h.runner.settled();
      const [chatA] = h.qatech.conversations();
      // A's own last line, marker and all, and a link to A's conversation, in B's reply.
      const lastLineOfA = adfToText(h.jiraAcks()[0].body).split("\n").at(-1) ?? "";
      quoted = `See ${chatA.url} for the older run.\n\n${lastLineOfA}`;
      const b = jiraFixture("jira-issue_updated.label-added");
      b.issue = { ...(b.issue as object), id: "10003", key: "PROJ-124" };
      await h.sendJira(b);
      await h.runner.settled();
      const chatB = h.qatech.conversations()[1];
      expect(JSON.stringify(h.jiraReplies().find((c) => c.issueKey === "PROJ-124")?.body)).toContain(
        chatA.url,
      );

      const human = h.jira.addComment("PROJ-124", { body: "@qa and on Safari?", authorAccountId: "jane" });
      const event = jiraCommentEvent(human.id, "@qa and on Safari?", "jane");
      const issueB = { ...(jiraFixture("comment_created").issue as object), id: "10003", key: "PROJ-124" };
      await h.sendJira({ ...event, issue: issueB });
      await h.runner.settled();

      const userTexts = (id: string) =>
        (h.qatech.conversations().find((c) => c.shortId === id)?.messages ?? [])
          .filter((m) => m.role === "user")
          .map((m) => m.text);
      expect(userTexts(chatA.shortId)).not.toContain("and on Safari?");
      expect(userTexts(chatB.shortId)).toContain("and on Safari?");
      expect(h.jira.comments.filter((c) => c.issueKey === "PROJ-123")).toHaveLength(2);
    });
  });

  describe("commands", () => {
    it("@qa help answers in the thread with what it can do and the configuration in force", async () => {
      h = await startHarness();
      const ack = await labelledLinearTicket(h);

      await replyOnLinear(h, "@qa help", ack.id);

      const help = h.linearReplies().find((c) => c.body.includes("retry"));
      expect(help?.parentId).toBe(ack.id);
      expect(help?.body).toContain("`needs test`");
      expect(help?.body).toContain("change reviews of linked pull requests: auto");
    });

    it("Jira: @qa help is answered in a comment that links the acknowledgement", async () => {
      h = await startHarness();
      await h.sendJira("jira-issue_updated.label-added");
      await h.runner.settled();
      const human = h.jira.addComment("PROJ-123", { body: "@qa help", authorAccountId: "jane" });

      await h.sendJira(jiraCommentEvent(human.id, "@qa help", "jane"));
      await h.runner.settled();

      const help = h.jiraReplies().find((c) => adfText(c.body).includes("retry"));
      expect(adfText(help?.body)).toContain("needs-test");
      expect(adfText(help?.body)).toContain("Start a comment with @qa");
      expect(JSON.stringify(help?.body)).toContain(`focusedCommentId=${h.jiraAcks()[0].id}`);
    });

    it("@qa status tells where the conversation stands", async () => {
      h = await startHarness();
      const ack = await labelledLinearTicket(h);

      await replyOnLinear(h, "@qa status", ack.id);

      const status = h.linearReplies().find((c) => c.body.includes("latest reply"));
      expect(status?.body).toContain("QA.tech's latest reply is completed.");
      expect(status?.parentId).toBe(ack.id);
    });

    it("@qa retry starts a new conversation, with the issue's text read back, its own acknowledgement and reply", async () => {
      const issue = linearFixture("Issue.update.label-added").data as Record<string, string>;
      h = await startHarness({ linear: { issues: { [LINEAR_ISSUE]: issue as never } } });
      const ack = await labelledLinearTicket(h);

      await replyOnLinear(h, "@qa retry", ack.id);

      expect(h.qatech.conversations()).toHaveLength(2);
      const retried = String((h.qatech.conversations()[1].body as { message: string }).message);
      expect(retried).toContain("ENG-42: Checkout crashes on empty cart");
      expect(retried).toContain("Open the shop with an empty cart");
      expect(h.linearAcks()).toHaveLength(2);
      expect(h.linearAcks()[1].body).toContain(h.qatech.conversations()[1].url);
    });
    it("Jira: @qa retry reads the issue back (comment_created carries no description) for the new conversation", async () => {
      const description = markdownToAdf("Steps: open the login page on a **narrow** screen.");
      h = await startHarness({
        jira: { issues: { "PROJ-123": { id: "10002", summary: "Login button is misaligned", description } } },
      });
      await h.sendJira("jira-issue_updated.label-added");
      await h.runner.settled();
      const human = h.jira.addComment("PROJ-123", { body: "@qa retry", authorAccountId: "jane" });

      await h.sendJira(jiraCommentEvent(human.id, "@qa retry", "jane"));
      await h.runner.settled();

      expect(h.qatech.conversations()).toHaveLength(2);
      const retried = String((h.qatech.conversations()[1].body as { message: string }).message);
      expect(retried).toContain("PROJ-123: Login button is misaligned");
      expect(retried).toContain("Steps: open the login page on a narrow screen.");
      expect(retried).not.toContain("(no description)");
      expect(
        h.jira.requests.some((r) => r.method === "GET" && r.path.startsWith("/rest/api/3/issue/PROJ-123?")),
      ).toBe(true);
    });
  });

  describe("change reviews of linked pull requests", () => {
    it("Linear: a ticket linking a GitHub PR starts a change review with the ticket as context", async () => {
      h = await startHarness({ env: { QATECH_APPLICATION_OVERRIDES: OVERRIDES } });
      const payload = linearFixture("Issue.update.label-added");
      const data = payload.data as Record<string, unknown>;
      payload.data = {
        ...data,
        description: `${data.description}\n\nFix: https://github.com/acme/shop/pull/42`,
      };

      await h.sendLinear(payload);
      await h.runner.settled();

      const review = h.qatech.requests.find((r) => r.path === "/v1/chat/change-review");
      expect(review?.body).toMatchObject({
        mode: "pr",
        prUrl: "https://github.com/acme/shop/pull/42",
        vcsProviderId: "github",
        applicationOverrides: JSON.parse(OVERRIDES),
      });
      expect((review?.body as { context?: string } | undefined)?.context).toContain(
        "ENG-42: Checkout crashes",
      );
      expect(h.linearAcks()[0].body).toContain("is reviewing https://github.com/acme/shop/pull/42");
      expect(h.linearReplies()).toHaveLength(1);
    });

    it("Linear: a ticket whose GitHub PR is attached, not in its text, starts a change review of it", async () => {
      const attachments = {
        [LINEAR_ISSUE]: [
          { url: "https://acme.sentry.io/issues/4711/", title: "TypeError: cart is undefined" },
          { url: "https://github.com/acme/shop/pull/51", title: "Fix empty cart", sourceType: "github" },
        ],
      };
      h = await startHarness({ env: { QATECH_APPLICATION_OVERRIDES: OVERRIDES }, linear: { attachments } });

      await h.sendLinear("Issue.update.label-added");
      await h.runner.settled();

      const review = h.qatech.requests.find((r) => r.path === "/v1/chat/change-review");
      expect(review?.body).toMatchObject({
        mode: "pr",
        prUrl: "https://github.com/acme/shop/pull/51",
        vcsProviderId: "github",
      });
      expect(h.linearAcks()[0].body).toContain("is reviewing https://github.com/acme/shop/pull/51");
      expect(h.linearReplies()).toHaveLength(1);
    });

    it("Jira: a ticket whose GitHub PR is a remote link, not in its text, starts a change review of it", async () => {
      const remoteLinks = {
        "PROJ-123": [
          { url: "javascript:alert(1)", title: "not a link" },
          { url: "https://github.com/acme/shop/pull/52", title: "Fix the login button" },
        ],
      };
      h = await startHarness({ env: { QATECH_APPLICATION_OVERRIDES: OVERRIDES }, jira: { remoteLinks } });

      await h.sendJira("jira-issue_updated.label-added");
      await h.runner.settled();

      const review = h.qatech.requests.find((r) => r.path === "/v1/chat/change-review");
      expect(review?.body).toMatchObject({ mode: "pr", prUrl: "https://github.com/acme/shop/pull/52" });
      expect(h.jira.requests.filter((r) => r.path.endsWith("/remotelink"))).toHaveLength(1);
    });

    it("Linear: an outage while reading the attachments is retried, then the attached MR is reviewed", async () => {
      const mr = "https://gitlab.com/acme/shop/-/merge_requests/7";
      h = await startHarness({
        env: { QATECH_APPLICATION_OVERRIDES: OVERRIDES },
        linear: { attachments: { [LINEAR_ISSUE]: [{ url: mr, title: "Fix empty cart" }] } },
      });
      h.linear.failNext({ operation: "issue_attachments", fault: { status: 503 } });

      await h.sendLinear("Issue.update.label-added");
      await h.runner.settled();

      expect(h.linear.requests.filter((r) => r.operation === "issue_attachments")).toHaveLength(2);
      const review = h.qatech.requests.find((r) => r.path === "/v1/chat/change-review");
      expect(review?.body).toMatchObject({ prUrl: mr, vcsProviderId: "gitlab" });
      expect(h.linearReplies()).toHaveLength(1);
    });

    it("Linear: when Linear refuses to list the attachments, the conversation starts from the text", async () => {
      h = await startHarness({
        env: { QATECH_APPLICATION_OVERRIDES: OVERRIDES },
        linear: { attachments: { [LINEAR_ISSUE]: [{ url: "https://github.com/acme/shop/pull/51" }] } },
      });
      const forbidden = { errors: [{ message: "Forbidden", extensions: { type: "forbidden" } }] };
      h.linear.failNext({ operation: "issue_attachments", fault: { status: 400, body: forbidden } });

      await h.sendLinear("Issue.update.label-added");
      await h.runner.settled();

      // Refused once, not retried: a refusal is no outage.
      expect(h.linear.requests.filter((r) => r.operation === "issue_attachments")).toHaveLength(1);
      expect(h.qatech.requests.some((r) => r.path === "/v1/chat/change-review")).toBe(false);
      expect(h.qatech.conversations()).toHaveLength(1);
      expect(h.linearReplies()).toHaveLength(1);
    });

    it("Linear: reads no attachments when no change review could start (no application overrides)", async () => {
      h = await startHarness({
        linear: { attachments: { [LINEAR_ISSUE]: [{ url: "https://github.com/acme/shop/pull/51" }] } },
      });

      await h.sendLinear("Issue.update.label-added");
      await h.runner.settled();

      expect(h.linear.requests.map((r) => r.operation)).not.toContain("issue_attachments");
      expect(h.qatech.requests.some((r) => r.path === "/v1/chat/change-review")).toBe(false);
    });

    it("Jira: a ticket linking a GitHub PR starts a change review", async () => {
      h = await startHarness({ env: { QATECH_APPLICATION_OVERRIDES: OVERRIDES } });
      const payload = jiraFixture("jira-issue_updated.label-added");
      const issue = payload.issue as { fields: Record<string, unknown> };
      issue.fields.description = "See https://github.com/acme/shop/pull/7 for the fix.";

      await h.sendJira(payload);
      await h.runner.settled();

      const review = h.qatech.requests.find((r) => r.path === "/v1/chat/change-review");
      expect(review?.body).toMatchObject({
        prUrl: "https://github.com/acme/shop/pull/7",
        vcsProviderId: "github",
      });
      expect(h.jiraReplies()).toHaveLength(1);
    });

    it("Linear: a merge request on a GitLab host named in GITLAB_HOSTS starts a change review", async () => {
      h = await startHarness({
        env: { QATECH_APPLICATION_OVERRIDES: OVERRIDES, GITLAB_HOSTS: "gitlab.acme.com" },
      });
      const payload = linearFixture("Issue.update.label-added");
      payload.data = {
        ...(payload.data as object),
        description: "Fix: https://gitlab.acme.com/shop/web/-/merge_requests/9",
      };

      await h.sendLinear(payload);
      await h.runner.settled();

      const review = h.qatech.requests.find((r) => r.path === "/v1/chat/change-review");
      expect(review?.body).toMatchObject({
        prUrl: "https://gitlab.acme.com/shop/web/-/merge_requests/9",
        vcsProviderId: "gitlab",
      });
    });

    it("opens a plain chat for a merge request URL on any other host", async () => {
      h = await startHarness({
        env: { QATECH_APPLICATION_OVERRIDES: OVERRIDES, GITLAB_HOSTS: "gitlab.acme.com" },
      });
      const payload = linearFixture("Issue.update.label-added");
      payload.data = {
        ...(payload.data as object),
        description: "See https://169.254.169.254/latest/-/merge_requests/1",
      };

      await h.sendLinear(payload);
      await h.runner.settled();

      expect(h.qatech.requests.some((r) => r.path === "/v1/chat/change-review")).toBe(false);
      expect(h.qatech.requests.filter((r) => r.method === "POST" && r.path === "/v1/chat")).toHaveLength(1);
    });

    it("opens a plain chat when CHANGE_REVIEW is never", async () => {
      h = await startHarness({ env: { QATECH_APPLICATION_OVERRIDES: OVERRIDES, CHANGE_REVIEW: "never" } });
      const payload = linearFixture("Issue.update.label-added");
      payload.data = { ...(payload.data as object), description: "https://github.com/acme/shop/pull/42" };

      await h.sendLinear(payload);
      await h.runner.settled();

      expect(h.qatech.requests.some((r) => r.path === "/v1/chat/change-review")).toBe(false);
      expect(h.qatech.requests.filter((r) => r.method === "POST" && r.path === "/v1/chat")).toHaveLength(1);
    });
  });

  describe("label lifecycle", () => {
    // "test failed" has a space, which only a Linear-only deployment may use (Jira labels cannot have one).
    const LINEAR_ONLY = { JIRA_BASE_URL: "", JIRA_EMAIL: "", JIRA_API_TOKEN: "", JIRA_WEBHOOK_SECRET: "" };
    const LABELS = {
      LABEL_TESTING: "testing",
      LABEL_TESTED: "tested",
      LABEL_TEST_FAILED: "test failed",
      LABEL_REMOVE_TRIGGER: "true",
    };
    // QA.tech's reply links a run in which every test passed: the verdict is "passed".
    const PASSES = { plan: () => ({ runs: [{ tests: [{ name: "Checkout", result: "PASSED" as const }] }] }) };

    it("Linear: swaps the trigger for 'testing' while it runs, then sets 'tested'", async () => {
      // An earlier run failed: the issue still has "test failed" next to the trigger label.
      h = await startHarness({
        qatech: PASSES,
        env: { ...LABELS, ...LINEAR_ONLY },
        linear: { issueLabelIds: { [LINEAR_ISSUE]: ["lbl-needs-test", "lbl-test-failed"] } },
      });

      await h.sendLinear("Issue.update.label-added");
      await h.runner.settled();

      expect(h.linear.labelChanges).toEqual([
        { issueId: LINEAR_ISSUE, added: ["lbl-testing"], removed: ["lbl-needs-test"] },
        // The other outcomes' labels go too: a re-run that passes clears an earlier "test failed".
        { issueId: LINEAR_ISSUE, added: ["lbl-tested"], removed: ["lbl-testing", "lbl-test-failed"] },
      ]);
    });

    it("Linear: a reply that fails is 'unverified', never 'test failed' (an integration failure is no test's)", async () => {
      h = await startHarness({
        env: { ...LABELS, ...LINEAR_ONLY, LABEL_UNVERIFIED: "unverified" },
        qatech: { plan: () => ({ status: "FAILED" }) },
      });

      await h.sendLinear("Issue.update.label-added");
      await h.runner.settled();

      expect(h.linear.labelChanges.at(-1)).toEqual({
        issueId: LINEAR_ISSUE,
        added: ["lbl-unverified"],
        removed: ["lbl-testing"],
      });
    });

    it("Linear: sets 'test failed' when a test QA.tech ran failed on the product", async () => {
      h = await startHarness({
        env: { ...LABELS, ...LINEAR_ONLY },
        qatech: { plan: () => ({ runs: [{ tests: [{ name: "Checkout", result: "FAILED" as const }] }] }) },
      });

      await h.sendLinear("Issue.update.label-added");
      await h.runner.settled();

      expect(h.linear.labelChanges.at(-1)).toEqual({
        issueId: LINEAR_ISSUE,
        added: ["lbl-test-failed"],
        removed: ["lbl-testing"],
      });
    });

    it("Linear: uses the labels of the issue's team where each team has its own, also on @qa retry", async () => {
      const ENG = String((linearFixture("Issue.update.label-added").data as { teamId: string }).teamId);
      const teamLabels = (prefix: string, teamId: string) => [
        { id: `${prefix}-testing`, name: "testing", teamId },
        { id: `${prefix}-tested`, name: "tested", teamId },
        { id: `${prefix}-failed`, name: "test failed", teamId },
      ];
      // The other team's labels come first: picking the first label by name would pick theirs.
      const labels = [
        { id: "lbl-needs-test", name: "needs test" },
        ...teamLabels("ops", "team-ops"),
        ...teamLabels("eng", ENG),
      ];
      h = await startHarness({
        qatech: PASSES,
        env: { ...LABELS, ...LINEAR_ONLY },
        linear: { labels, issueTeamIds: { [LINEAR_ISSUE]: ENG } },
      });

      const ack = await labelledLinearTicket(h);
      await replyOnLinear(h, "@qa retry", ack.id);

      expect(h.linear.labelChanges).toEqual([
        { issueId: LINEAR_ISSUE, added: ["eng-testing"], removed: ["lbl-needs-test"] },
        { issueId: LINEAR_ISSUE, added: ["eng-tested"], removed: ["eng-testing"] },
        // The retry: the Comment webhook carries no team; it is read back with the issue's text.
        { issueId: LINEAR_ISSUE, added: ["eng-testing"], removed: [] },
        { issueId: LINEAR_ISSUE, added: ["eng-tested"], removed: ["eng-testing"] },
      ]);
      expect(h.linear.issueLabelIds(LINEAR_ISSUE)).toEqual(["eng-tested"]);
    });

    it("Jira: ends with 'tested' and without the trigger label; re-adding the label starts a fresh run", async () => {
      h = await startHarness({ qatech: PASSES, env: { ...LABELS, LABEL_TEST_FAILED: "test-failed" } });

      await h.sendJira("jira-issue_updated.label-added");
      await h.runner.settled();
      const readded = jiraFixture("jira-issue_updated.label-added");
      readded.changelog = { ...(readded.changelog as object), id: "10036" };
      const again = await h.sendJira(readded);
      await h.runner.settled();

      expect(h.jira.labels("PROJ-123")).toContain("tested");
      expect(h.jira.labels("PROJ-123")).not.toContain("needs-test");
      expect(h.jira.labels("PROJ-123")).not.toContain("testing");
      expect(again.body.outcome).toBe("started");
      expect(h.qatech.conversations()).toHaveLength(2);
    });
  });
});
