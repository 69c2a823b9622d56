import { readFileSync } from "node:fs";
import path from "node:path";
import { DESCRIPTION_MAX_BYTES, jsonBytes } from "../../../../../functions/shared/domain/limits";
import { detectJiraTrigger, JiraPayloadError } from "../../../../../functions/shared/trackers/jira/webhook";

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(__dirname, "../../../../fixtures/jira", `${name}.json`), "utf8"));
}

const config = { triggerLabel: "needs-test", siteUrl: "https://acme.atlassian.net/" };

describe("detectJiraTrigger", () => {
  it.each([
    "jira-issue_updated.label-added",
    "jira-issue_updated.label-added-among-others",
    "jira-issue_updated.from-null",
    "jira-issue_created.with-label",
  ])("triggers on %s", (name) => {
    const trigger = detectJiraTrigger(fixture(name), config);

    expect(trigger?.ticket).toEqual({
      tracker: "jira",
      id: "10002",
      key: "PROJ-123",
      title: "Login button is misaligned",
      url: "https://acme.atlassian.net/browse/PROJ-123",
      description: "The login button overlaps the password field on narrow screens.",
      // What routing matches on: the labels the issue carries now, the trigger among them.
      labels: expect.arrayContaining(["needs-test"]),
    });
    expect(trigger?.runId).toMatch(/^jira-PROJ-123-[0-9a-f]{16}$/);
  });

  it.each([
    "jira-issue_updated.other-label-removed",
    "jira-issue_updated.longer-label",
    "jira-issue_updated.label-removed",
    "jira-issue_updated.summary-edited",
    "comment_created",
  ])("ignores %s", (name) => {
    expect(detectJiraTrigger(fixture(name), config)).toBeNull();
  });

  it("matches the label case-sensitively", () => {
    const payload = fixture("jira-issue_updated.label-added");

    expect(detectJiraTrigger(payload, { ...config, triggerLabel: "Needs-Test" })).toBeNull();
  });

  it("ignores an issue_updated without a changelog (Jira sends those for comments)", () => {
    const { changelog: _, ...payload } = fixture("jira-issue_updated.label-added");

    expect(detectJiraTrigger(payload, config)).toBeNull();
  });

  it("gives a redelivery of the same change the same runId, and another change another one", () => {
    const first = detectJiraTrigger(fixture("jira-issue_updated.label-added"), config);
    const retry = detectJiraTrigger(fixture("jira-issue_updated.label-added"), config);
    const readded = fixture("jira-issue_updated.label-added");
    (readded.changelog as { id: string }).id = "10099";
    const created = detectJiraTrigger(fixture("jira-issue_created.with-label"), config);

    expect(retry?.runId).toBe(first?.runId);
    expect(detectJiraTrigger(readded, config)?.runId).not.toBe(first?.runId);
    expect(created?.runId).not.toBe(first?.runId);
  });

  it("only acts on the configured projects", () => {
    const payload = fixture("jira-issue_updated.label-added");

    expect(detectJiraTrigger(payload, { ...config, projectKeys: ["OTHER"] })).toBeNull();
    expect(detectJiraTrigger(payload, { ...config, projectKeys: ["OTHER", "PROJ"] })).not.toBeNull();
    expect(detectJiraTrigger(payload, { ...config, projectKeys: [] })).not.toBeNull();
  });

  it("builds the link from the configured site, never from issue.self", () => {
    const trigger = detectJiraTrigger(fixture("jira-issue_updated.label-added"), {
      ...config,
      siteUrl: "https://acme.atlassian.net",
    });

    expect(trigger?.ticket.url).toBe("https://acme.atlassian.net/browse/PROJ-123");
  });

  it("turns an ADF description into readable text", () => {
    const trigger = detectJiraTrigger(fixture("jira-issue_updated.adf-description"), config);

    expect(trigger?.ticket.description).toContain("## Steps to reproduce");
    expect(trigger?.ticket.description).toContain("1. Open [the login page](https://acme.example/login)");
    expect(trigger?.ticket.description).toContain("```css\n.login button {");
  });

  it("gives an empty description when the issue has none", () => {
    const payload = fixture("jira-issue_created.with-label");
    (payload.issue as { fields: Record<string, unknown> }).fields.description = null;

    expect(detectJiraTrigger(payload, config)?.ticket.description).toBe("");
  });

  it.each([
    ["long", "x".repeat(50_000)],
    ["NUL characters (6 bytes each in JSON)", "\u0000".repeat(50_000)],
  ])("caps a %s description by its size in JSON", (_name, text) => {
    const payload = fixture("jira-issue_created.with-label");
    (payload.issue as { fields: Record<string, unknown> }).fields.description = text;

    const description = detectJiraTrigger(payload, config)?.ticket.description ?? "";

    expect(jsonBytes(description)).toBeLessThanOrEqual(DESCRIPTION_MAX_BYTES + 2);
    expect(description).toMatch(/description cut at/);
  });

  it.each([
    ["a string", "hello"],
    ["null", null],
    ["an array", []],
    ["an object without webhookEvent", { issue: {} }],
    ["an issue event without issue", { webhookEvent: "jira:issue_updated" }],
    [
      "an issue event without issue.key",
      { webhookEvent: "jira:issue_created", issue: { id: "1", fields: {} } },
    ],
    [
      "an issue event without fields.summary",
      { webhookEvent: "jira:issue_created", issue: { id: "1", key: "P-1", fields: {} } },
    ],
  ])("rejects %s as a bad payload", (_, payload) => {
    expect(() => detectJiraTrigger(payload, config)).toThrow(JiraPayloadError);
  });

  it("rejects a label change without a changelog id", () => {
    const payload = fixture("jira-issue_updated.label-added");
    delete (payload.changelog as { id?: string }).id;

    expect(() => detectJiraTrigger(payload, config)).toThrow(
      expect.objectContaining({ name: "JiraPayloadError" }),
    );
  });
});
