import { type Harness, startHarness } from "../support/harness";

describe("Linear ticket labelled 'needs test', end to end through the local runner", () => {
  let h: Harness;
  afterEach(async () => {
    await h.runner.settled();
    await h.close();
  });

  it("comments the assistant's reply and the conversation link on the issue", async () => {
    h = await startHarness();

    const res = await h.sendLinear("Issue.update.label-added");
    await h.runner.settled();

    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe("started");
    const [conversation] = h.qatech.conversations();
    expect(h.linear.comments).toHaveLength(1);
    const comment = h.linear.comments[0];
    expect(comment.issueId).toBe("539068e2-ae88-4d09-bd75-22eb4a59612f");
    expect(comment.body).toContain(conversation.url);
    expect(comment.body).toContain(conversation.messages[0].text);
  });
});
