import { existsSync } from "node:fs";
import { join } from "node:path";
import { TRACKERS } from "../../../../functions/shared/trackers";
import { TRACKER_CATALOG, TRACKER_NAMES } from "../../../../functions/shared/trackers/catalog";

const ROOT = join(__dirname, "..", "..", "..", "..");
const facts = Object.values(TRACKER_CATALOG);

describe("the tracker catalog", () => {
  it("has an entry for every tracker the loader knows, and no other", () => {
    expect([...TRACKER_NAMES].sort()).toEqual(Object.keys(TRACKERS).sort());
  });

  it.each(TRACKER_NAMES)("gives %s every fact, none empty", (tracker) => {
    const f = TRACKER_CATALOG[tracker];
    for (const text of [f.displayName, f.stackName, f.webhookEntry, f.webhookDescription, f.settingsKey])
      expect(text.trim()).not.toBe("");
    expect(f.webhookPath).toMatch(/^\/webhooks\/[a-z][a-z-]*$/);
    expect(f.stackName).toMatch(/^[A-Z][A-Za-z]*$/);
    expect(f.webhookSecrets).toContain(f.signingSecret);
    expect(f.localVariables.length).toBeGreaterThan(0);
  });

  it("keeps the deployed paths and stack names: a tracker's URL and function never change", () => {
    expect(Object.fromEntries(TRACKER_NAMES.map((t) => [t, TRACKER_CATALOG[t].webhookPath]))).toEqual({
      linear: "/webhooks/linear",
      jira: "/webhooks/jira",
      "linear-agent": "/webhooks/linear-agent",
    });
    expect(Object.fromEntries(TRACKER_NAMES.map((t) => [t, TRACKER_CATALOG[t].stackName]))).toEqual({
      linear: "Linear",
      jira: "Jira",
      "linear-agent": "LinearAgent",
    });
  });

  it("gives each tracker its own path, stack name, entry and signing secret", () => {
    for (const key of ["webhookPath", "stackName", "webhookEntry", "signingSecret"] as const)
      expect(new Set(facts.map((f) => f[key])).size).toBe(facts.length);
  });

  it.each(TRACKER_NAMES)("points %s at a webhook entry that exists on disk", (tracker) => {
    expect(existsSync(join(ROOT, "functions", TRACKER_CATALOG[tracker].webhookEntry, "index.ts"))).toBe(true);
  });

  it("has exactly one agent; every other tracker is a label tracker", () => {
    expect(facts.filter((f) => f.kind === "agent")).toHaveLength(1);
    expect(facts.every((f) => f.kind === "agent" || f.kind === "label")).toBe(true);
  });
});
