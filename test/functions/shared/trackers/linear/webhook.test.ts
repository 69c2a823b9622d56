import fc from "fast-check";
import { PayloadError } from "../../../../../functions/shared/platform/errors";
import { detectLinearTrigger } from "../../../../../functions/shared/trackers/linear/webhook";
import { linearFixture } from "../../../../../simulators/signing";

const LABEL = "needs test";

/** A copy of a fixture with `data` (and optionally the envelope) changed. */
function withData(name: string, data: Record<string, unknown>, envelope: Record<string, unknown> = {}) {
  const payload = linearFixture(name);
  return { ...payload, ...envelope, data: { ...(payload.data as Record<string, unknown>), ...data } };
}

/** The characters Step Functions refuses in execution names (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html). */
const FORBIDDEN_IN_NAME = /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/;

function expectValidExecutionName(name: string) {
  expect(name.length).toBeGreaterThanOrEqual(1);
  expect(name.length).toBeLessThanOrEqual(80);
  expect(name).not.toMatch(FORBIDDEN_IN_NAME);
}

describe("detectLinearTrigger", () => {
  it("starts a run for the issue when the label is added", () => {
    const payload = linearFixture("Issue.update.label-added");

    const trigger = detectLinearTrigger(payload, LABEL);

    expect(trigger).toEqual({
      runId: expect.stringContaining("ENG-42"),
      ticket: {
        tracker: "linear",
        id: "539068e2-ae88-4d09-bd75-22eb4a59612f",
        key: "ENG-42",
        title: "Checkout crashes on empty cart",
        url: "https://linear.app/acme/issue/ENG-42/checkout-crashes-on-empty-cart",
        description: expect.stringContaining("Press **Checkout**"),
        teamId: "72b2a2dc-6f4f-4423-9d34-24b5bd10634a",
        labels: ["Bug", "Needs Test"],
      },
    });
  });

  it("carries the names of the labels the issue carries now (a label run always has them listed)", () => {
    const relabelled = withData("Issue.update.label-added", {
      labelIds: ["lbl-needs-test"],
      labels: [
        { id: "lbl-bug", name: "Bug" },
        { id: "lbl-needs-test", name: "Needs Test" },
      ],
    });
    const unlisted = withData("Issue.update.label-added", { labels: undefined });

    expect(detectLinearTrigger(relabelled, LABEL)?.ticket.labels).toEqual(["Needs Test"]);
    // The trigger label is found by name in `labels`: without them there is no label run at all.
    expect(detectLinearTrigger(unlisted, LABEL)).toBeNull();
  });

  it("carries the issue's team, from data.team when data.teamId is missing", () => {
    const payload = withData("Issue.update.label-added", {
      teamId: undefined,
      team: { id: "team-ops", key: "OPS", name: "Operations" },
    });

    expect(detectLinearTrigger(payload, LABEL)?.ticket.teamId).toBe("team-ops");
  });

  it("leaves an implausible team out (the labels step reads it back) rather than refusing the run", () => {
    const payload = withData("Issue.update.label-added", { teamId: `team\u0000${"x".repeat(500)}` });

    const trigger = detectLinearTrigger(payload, LABEL);

    expect(trigger?.ticket.key).toBe("ENG-42");
    expect(trigger?.ticket).not.toHaveProperty("teamId");
  });

  it("ignores another label being added while the trigger label was already there", () => {
    expect(detectLinearTrigger(linearFixture("Issue.update.other-label-added"), LABEL)).toBeNull();
  });

  it("ignores the label being removed", () => {
    expect(detectLinearTrigger(linearFixture("Issue.update.label-removed"), LABEL)).toBeNull();
  });

  it("ignores an edit of the title of a labelled issue", () => {
    expect(detectLinearTrigger(linearFixture("Issue.update.title-edited"), LABEL)).toBeNull();
  });

  it("starts a run for an issue created with the label", () => {
    const trigger = detectLinearTrigger(linearFixture("Issue.create.with-label"), LABEL);

    expect(trigger?.ticket).toMatchObject({
      key: "ENG-43",
      title: "Search ignores accents",
      description: "Searching for *café* finds nothing.",
    });
  });

  it("gives the creation and Linear's 'label added' update right after it the same run", () => {
    const created = detectLinearTrigger(linearFixture("Issue.create.with-label"), LABEL);
    const updated = detectLinearTrigger(linearFixture("Issue.update.label-added-at-creation"), LABEL);

    expect(created).not.toBeNull();
    expect(updated?.runId).toBe(created?.runId);
  });

  it("gives a label removed and added again soon after the creation a run of its own", () => {
    const created = detectLinearTrigger(linearFixture("Issue.create.with-label"), LABEL);
    const removed = detectLinearTrigger(
      linearFixture("Issue.update.label-removed-soon-after-creation"),
      LABEL,
    );
    const readded = detectLinearTrigger(
      linearFixture("Issue.update.label-re-added-soon-after-removal"),
      LABEL,
    );
    const redelivered = detectLinearTrigger(
      { ...linearFixture("Issue.update.label-re-added-soon-after-removal"), webhookTimestamp: Date.now() },
      LABEL,
    );

    expect(removed).toBeNull();
    expect(readded?.runId).toBeDefined();
    expect(readded?.runId).not.toBe(created?.runId);
    expect(redelivered?.runId).toBe(readded?.runId);
  });

  it("gives a redelivery of the same change the same run", () => {
    const first = detectLinearTrigger(linearFixture("Issue.update.label-added"), LABEL);
    const again = detectLinearTrigger(
      { ...linearFixture("Issue.update.label-added"), webhookTimestamp: Date.now() },
      LABEL,
    );

    expect(again?.runId).toBe(first?.runId);
  });

  it("starts a new run when the label is added again later, after being removed", () => {
    const first = detectLinearTrigger(linearFixture("Issue.update.label-added"), LABEL);
    const readded = withData("Issue.update.label-added", { updatedAt: "2026-11-22T09:30:00.000Z" });

    const second = detectLinearTrigger(readded, LABEL);

    expect(second).not.toBeNull();
    expect(second?.runId).not.toBe(first?.runId);
  });

  it("matches the label name case-insensitively", () => {
    // The fixture's label is named "Needs Test".
    expect(detectLinearTrigger(linearFixture("Issue.update.label-added"), "NEEDS TEST")).not.toBeNull();
    expect(detectLinearTrigger(linearFixture("Issue.update.label-added"), "needs test")).not.toBeNull();
  });

  it("uses the configured label and no other", () => {
    const payload = withData("Issue.update.label-added", {
      labelIds: ["lbl-bug", "lbl-qa"],
      labels: [
        { id: "lbl-bug", name: "Bug" },
        { id: "lbl-qa", name: "QA please" },
      ],
    });

    expect(detectLinearTrigger(payload, "qa please")?.ticket.key).toBe("ENG-42");
    expect(detectLinearTrigger(payload, LABEL)).toBeNull();
    expect(detectLinearTrigger(linearFixture("Issue.update.label-added"), "qa please")).toBeNull();
  });

  it("ignores comments", () => {
    expect(detectLinearTrigger(linearFixture("Comment.create"), LABEL)).toBeNull();
  });

  it("ignores an issue being removed", () => {
    expect(
      detectLinearTrigger({ ...linearFixture("Issue.create.with-label"), action: "remove" }, LABEL),
    ).toBeNull();
  });

  it.each([
    ["without data.id", withData("Issue.update.label-added", { id: undefined })],
    ["without data.identifier", withData("Issue.update.label-added", { identifier: 42 })],
    ["with labelIds that are not ids", withData("Issue.update.label-added", { labelIds: "lbl-needs-test" })],
    ["with labels that are not a list", withData("Issue.update.label-added", { labels: { id: "x" } })],
    [
      "with updatedFrom.labelIds that are not ids",
      withData("Issue.update.label-added", {}, { updatedFrom: { labelIds: [1, 2] } }),
    ],
    ["without data", { ...linearFixture("Issue.update.label-added"), data: null }],
  ])("refuses an Issue event %s with a PayloadError", (_what, payload) => {
    expect(() => detectLinearTrigger(payload, LABEL)).toThrow(PayloadError);
  });

  it("refuses a body that is not an object with a PayloadError", () => {
    expect(() => detectLinearTrigger(["Issue"], LABEL)).toThrow(PayloadError);
  });

  it("names the run so Step Functions accepts it, even for odd issue identifiers", () => {
    for (const name of [
      "Issue.update.label-added",
      "Issue.create.with-label",
      "Issue.update.label-added-at-creation",
    ]) {
      expectValidExecutionName(detectLinearTrigger(linearFixture(name), LABEL)?.runId ?? "");
    }
    fc.assert(
      fc.property(fc.string({ minLength: 0, maxLength: 200, unit: "grapheme-ascii" }), (identifier) => {
        const trigger = detectLinearTrigger(withData("Issue.update.label-added", { identifier }), LABEL);
        expectValidExecutionName(trigger?.runId ?? "");
      }),
    );
    const odd = withData("Issue.update.label-added", {
      identifier: `ENG 42/<x>: "a", b; c#${"Z".repeat(120)}`,
    });
    expectValidExecutionName(detectLinearTrigger(odd, LABEL)?.runId ?? "");
  });

  it("keeps two issues' runs apart even when their odd identifiers clean up alike", () => {
    const a = detectLinearTrigger(withData("Issue.update.label-added", { identifier: "ENG/42" }), LABEL);
    const b = detectLinearTrigger(
      withData("Issue.update.label-added", { identifier: "ENG:42", id: "another-issue-uuid" }),
      LABEL,
    );

    expect(a?.runId).not.toBe(b?.runId);
  });
});
