import { STATE_MAX_BYTES } from "../../functions/shared/domain/limits";
import { adfToText } from "../../functions/shared/trackers/jira/adf-text";
import { type Harness, jiraFixture, startHarness } from "../../simulators/harness";
import { linearFixture } from "../../simulators/signing";

/**
 * Replies that are large in the way Step Functions counts (bytes of JSON, where a NUL is 6) end in a cut
 * reply comment on both trackers, and the run succeeds: no state of the execution passes 256 KiB (the
 * local runner fails a run that does, with States.DataLimitExceeded, as AWS would).
 */
const REPLIES: Array<[string, string, string]> = [
  ["100,000 NULs", "\u0000".repeat(100_000), "␀␀␀"],
  [
    "300 KB of text",
    "The checkout test passed on every device we tried.\n".repeat(6_000),
    "The checkout test",
  ],
  ["100,000 characters on one line", "x".repeat(100_000), "xxxxxxxx"],
];

describe("oversized replies from QA.tech", () => {
  let h: Harness;
  afterEach(async () => {
    await h.runner.settled();
    await h.close();
  });

  it.each(REPLIES)("Linear: a reply of %s ends in a cut reply comment", async (_name, text, start) => {
    h = await startHarness({ qatech: { plan: () => ({ text }) } });

    await h.sendLinear("Issue.update.label-added");
    await h.runner.settled();

    const [execution] = h.runner.executions.values();
    expect([execution.status, execution.error]).toEqual(["SUCCEEDED", undefined]);
    const [reply] = h.linearReplies();
    expect(reply.body).toContain(start);
    expect(reply.body).toContain("[The reply was cut; read it in full in QA.tech.]");
    expect(reply.body).toContain(h.qatech.conversations()[0].url);
    expect(Buffer.byteLength(JSON.stringify(execution.output))).toBeLessThan(STATE_MAX_BYTES);
  });

  it.each(REPLIES)("Jira: a reply of %s ends in a cut reply comment", async (_name, text, start) => {
    h = await startHarness({ qatech: { plan: () => ({ text }) } });

    await h.sendJira("jira-issue_updated.label-added");
    await h.runner.settled();

    const [execution] = h.runner.executions.values();
    expect([execution.status, execution.error]).toEqual(["SUCCEEDED", undefined]);
    const [reply] = h.jiraReplies();
    const shown = adfToText(reply.body);
    expect(shown).toContain(start);
    expect(shown).toMatch(/The reply was cut/);
    expect(JSON.stringify(reply.body)).toContain(h.qatech.conversations()[0].url);
  });
});

describe("large genuine deliveries", () => {
  let h: Harness;
  afterEach(async () => {
    await h.runner.settled();
    await h.close();
  });

  it.each(["linear", "jira"] as const)(
    "%s: a signed 1.5 MB delivery (a huge description) starts its run, with the description cut",
    async (tracker) => {
      h = await startHarness();
      const huge = "Steps to reproduce, in painful detail. ".repeat(40_000);
      let res: { status: number; body: Record<string, unknown> };
      if (tracker === "linear") {
        const payload = linearFixture("Issue.update.label-added");
        payload.data = { ...(payload.data as object), description: huge };
        res = await h.sendLinear(payload);
      } else {
        const payload = jiraFixture("jira-issue_updated.label-added");
        (payload.issue as { fields: Record<string, unknown> }).fields.description = huge;
        res = await h.sendJira(payload);
      }
      await h.runner.settled();

      expect(res).toMatchObject({ status: 200, body: { outcome: "started" } });
      const message = String((h.qatech.conversations()[0].body as { message: string }).message);
      expect(message).toContain("[description cut at 24 KiB]");
      expect(Buffer.byteLength(message)).toBeLessThan(30 * 1024);
      expect(tracker === "linear" ? h.linearReplies() : h.jiraReplies()).toHaveLength(1);
    },
  );
});
