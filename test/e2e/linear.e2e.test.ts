import { type Harness, startHarness } from "../../simulators/harness";

/** Everything a run can leave behind: conversations opened, comments posted, executions and their states. */
function outcome(h: Harness) {
  const executions = [...h.runner.executions.values()];
  return {
    conversations: h.qatech.conversations(),
    acks: h.linearAcks(),
    comments: h.linearReplies(),
    executions,
    statesVisited: (name: string) =>
      executions.flatMap((e) => e.events).filter((e) => e.type === "StateEntered" && e.state.name === name)
        .length,
  };
}

describe("Linear ticket labelled 'needs test', end to end through the local runner", () => {
  let h: Harness;
  afterEach(async () => {
    await h.runner.settled();
    await h.close();
  });

  it("acknowledges with the link, then comments the assistant's reply in that comment's thread", async () => {
    h = await startHarness();

    const res = await h.sendLinear("Issue.update.label-added");
    await h.runner.settled();

    expect(res).toMatchObject({ status: 200, body: { outcome: "started" } });
    const { conversations, comments, acks } = outcome(h);
    expect(acks).toHaveLength(1);
    expect(acks[0].parentId).toBeUndefined();
    expect(acks[0].body).toContain("QA.tech is on it");
    expect(acks[0].body).toContain(`(${conversations[0].url})`);
    expect(h.linear.comments[0]).toBe(acks[0]);
    expect(comments[0].parentId).toBe(acks[0].id);
    expect(conversations).toHaveLength(1);
    const [conversation] = conversations;
    expect(conversation.messages[conversation.messages.length - 1].text).toContain(
      "ENG-42: Checkout crashes",
    );
    expect(comments).toHaveLength(1);
    expect(comments[0].issueId).toBe("539068e2-ae88-4d09-bd75-22eb4a59612f");
    expect(comments[0].body).toContain(conversation.messages[0].text);
    expect(comments[0].body).toContain(`[Open the conversation in QA.tech](${conversation.url})`);
  });

  it("posts the reply's javascript: and data: links as text, not links", async () => {
    h = await startHarness({
      qatech: { plan: () => ({ text: "Try [click](javascript:alert(1)) or <data:text/html,x>." }) },
    });

    await h.sendLinear("Issue.update.label-added");
    await h.runner.settled();

    const [comment] = outcome(h).comments;
    expect(comment.body).toContain("Try click or data:text/html,x.");
    expect(comment.body).not.toMatch(/javascript:|<data:/);
    expect(comment.body).toContain(`[Open the conversation in QA.tech](${outcome(h).conversations[0].url})`);
  });

  it("waits out short waits inside one poll invocation and leaves long ones to the state machine", async () => {
    // Final on the 12th read: polls at 3, 6, ... 36 s, all waits of 3 s, so one invocation does them all.
    h = await startHarness({ qatech: { plan: () => ({ pollsUntilFinal: 11 }) } });

    await h.sendLinear("Issue.update.label-added");
    await h.runner.settled();

    const { comments, statesVisited } = outcome(h);
    expect(comments).toHaveLength(1);
    expect(h.qatech.requests.filter((r) => r.method === "GET")).toHaveLength(12);
    expect(statesVisited("PollConversation")).toBe(1);
    expect(statesVisited("WaitForReply")).toBe(1);
  });

  it("ignores an issue that already had the label when another label is added", async () => {
    h = await startHarness();

    const res = await h.sendLinear("Issue.update.other-label-added");
    await h.runner.settled();

    expect(res).toMatchObject({ status: 200, body: { outcome: "ignored" } });
    expect(outcome(h).conversations).toHaveLength(0);
    expect(outcome(h).comments).toHaveLength(0);
  });

  it("ignores the label being removed and a title edit", async () => {
    h = await startHarness();

    const removed = await h.sendLinear("Issue.update.label-removed");
    const edited = await h.sendLinear("Issue.update.title-edited");
    await h.runner.settled();

    expect([removed.body.outcome, edited.body.outcome]).toEqual(["ignored", "ignored"]);
    expect(outcome(h).conversations).toHaveLength(0);
  });

  it("starts one conversation for an issue created with the label, delivered as a create and as an update", async () => {
    h = await startHarness();

    const created = await h.sendLinear("Issue.create.with-label");
    const updated = await h.sendLinear("Issue.update.label-added-at-creation");
    await h.runner.settled();

    expect(created.body.outcome).toBe("started");
    expect(updated.status).toBe(200);
    expect(updated.body.runId).toBe(created.body.runId);
    expect(outcome(h).conversations).toHaveLength(1);
    expect(outcome(h).comments).toHaveLength(1);
    expect(outcome(h).comments[0].issueId).toBe("8a1f3c55-0c1e-4b6e-9f57-0d7d1e7b2a10");
  });

  it("starts nothing for a forged signature or a replayed (stale) delivery", async () => {
    h = await startHarness();

    const forged = await h.sendLinear("Issue.update.label-added", { secret: "not-the-secret" });
    const stale = await h.sendLinear("Issue.update.label-added", { timestamp: Date.now() - 5 * 60_000 });
    const unsigned = await h.sendLinear("Issue.update.label-added", { headers: { "linear-signature": "" } });

    expect([forged.status, stale.status, unsigned.status]).toEqual([401, 401, 401]);
    expect(h.runner.executions.size).toBe(0);
    expect(h.qatech.requests).toHaveLength(0);
  });

  it("posts exactly one comment however often the webhook is redelivered, during and after the run", async () => {
    h = await startHarness();

    const first = await Promise.all([1, 2, 3].map(() => h.sendLinear("Issue.update.label-added")));
    await h.runner.settled();
    const late = await h.sendLinear("Issue.update.label-added");
    await h.runner.settled();

    expect(first.every((r) => r.status === 200)).toBe(true);
    expect(late).toMatchObject({ status: 200, body: { outcome: "duplicate" } });
    expect(outcome(h).conversations).toHaveLength(1);
    expect(outcome(h).comments).toHaveLength(1);
  });

  it("says so on the ticket, with the link, when the assistant's reply fails", async () => {
    h = await startHarness({ qatech: { plan: () => ({ status: "FAILED", pollsUntilFinal: 1 }) } });

    await h.sendLinear("Issue.update.label-added");
    await h.runner.settled();

    const [comment] = outcome(h).comments;
    expect(comment.body).toContain("QA.tech's reply failed before it was complete");
    expect(comment.body).toContain("the application did not load");
    expect(comment.body).toContain(outcome(h).conversations[0].url);
  });

  it("stops waiting at the reply deadline and says so on the ticket", async () => {
    h = await startHarness({
      qatech: { plan: () => ({ status: "NEVER" }) },
      env: { REPLY_TIMEOUT_SECONDS: "60" },
    });

    await h.sendLinear("Issue.update.label-added");
    await h.runner.settled();

    const { comments, executions, conversations } = outcome(h);
    expect(comments).toHaveLength(1);
    expect(comments[0].body).toContain("has not finished its reply after 1 minute");
    expect(comments[0].body).toContain(conversations[0].url);
    expect(executions[0].status).toBe("FAILED");
    expect(executions[0].error).toMatchObject({
      name: "ReplyDeadline",
      message: expect.stringContaining("in time"),
    });
  });

  it("retries QA.tech's 500 and still delivers the reply, in one conversation", async () => {
    h = await startHarness();
    h.qatech.failNext({ method: "POST", path: "/v1/chat", fault: { status: 500 } });
    h.qatech.failNext({ method: "GET", path: /^\/v1\/chat\//, fault: { status: 503 } });

    await h.sendLinear("Issue.update.label-added");
    await h.runner.settled();

    const { comments, conversations, executions, statesVisited } = outcome(h);
    expect(conversations).toHaveLength(1);
    expect(comments).toHaveLength(1);
    expect(comments[0].body).toContain(conversations[0].url);
    expect(executions[0].status).toBe("SUCCEEDED");
    expect(statesVisited("PostFailure")).toBe(0);
    expect(executions[0].events.filter((e) => e.type === "StateRetried")).toHaveLength(2);
  });

  it("explains a permanent QA.tech refusal (bad API key) on the ticket instead of retrying", async () => {
    h = await startHarness({ qatech: { apiKey: "a-different-key" } });

    await h.sendLinear("Issue.update.label-added");
    await h.runner.settled();

    const { comments, executions } = outcome(h);
    expect(h.qatech.requests).toHaveLength(1);
    expect(comments).toHaveLength(1);
    expect(comments[0].body).toContain("QA.tech could not take this ticket: QA.tech answered 401");
    expect(comments[0].body).toContain("Remove and re-add the label");
    expect(executions[0].status).toBe("FAILED");
  });

  it("runs again when the label is removed and added back within a minute of the issue's creation", async () => {
    h = await startHarness();

    const created = await h.sendLinear("Issue.create.with-label");
    const echo = await h.sendLinear("Issue.update.label-added-at-creation");
    await h.sendLinear("Issue.update.label-removed-soon-after-creation");
    const readded = await h.sendLinear("Issue.update.label-re-added-soon-after-removal");
    const redelivered = await h.sendLinear("Issue.update.label-re-added-soon-after-removal");
    await h.runner.settled();

    expect([created.body.outcome, echo.body.outcome, readded.body.outcome]).toEqual([
      "started",
      expect.stringMatching(/^(started|duplicate)$/),
      "started",
    ]);
    expect(echo.body.runId).toBe(created.body.runId);
    expect(redelivered.body.runId).toBe(readded.body.runId);
    expect(h.runner.executions.size).toBe(2);
    expect(h.qatech.conversations()).toHaveLength(2);
    expect(h.linearAcks()).toHaveLength(2);
  });
});
