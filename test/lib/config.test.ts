import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ORG_VARIABLE } from "../../functions/shared/platform/metrics";
import { SETTINGS_VARIABLE, settings } from "../../functions/shared/platform/settings";
import {
  LAMBDA_ENVIRONMENT_MAX_BYTES,
  STACK_VARIABLES_RESERVE_BYTES,
} from "../../functions/shared/platform/settings-schema";
import { ConfigFileError, functionEnvironment, loadOrgConfig, parseOrgConfig } from "../../lib/config";

const SOURCE = "config/acme.json";
const example = (): Record<string, unknown> =>
  JSON.parse(readFileSync(join(__dirname, "..", "..", "config", "example.json"), "utf8"));

/** The example config with some fields replaced (one level deep merge per section). */
function exampleWith(changes: Record<string, unknown>): Record<string, unknown> {
  const raw = example();
  for (const [key, value] of Object.entries(changes)) {
    const current = raw[key];
    raw[key] =
      typeof value === "object" && value !== null && !Array.isArray(value) && typeof current === "object"
        ? { ...(current as object), ...value }
        : value;
  }
  return raw;
}

/** The message parseOrgConfig fails with. */
function problem(raw: unknown, org = "acme"): string {
  try {
    parseOrgConfig(org, raw, SOURCE);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigFileError);
    return (error as Error).message;
  }
  throw new Error("expected the config to be refused");
}

describe("organisation config", () => {
  it("loads config/example.json with its settings and defaults", () => {
    const config = loadOrgConfig("example");

    expect(config).toMatchObject({
      org: "example",
      qatech: { apiUrl: "https://api.qa.tech", projectShortId: "proj_example" },
      linear: { enabled: true, triggerLabel: "needs test", apiUrl: "https://api.linear.app/graphql" },
      jira: { enabled: false },
      replyTimeoutMinutes: 60,
      pollSchedule: { minWaitSeconds: 3, fraction: 0.1, maxWaitSeconds: 120 },
      webhook: { rateLimitPerSecond: 20, burst: 40 },
      lambda: { architecture: "arm64", memorySizeMb: 256 },
      logRetentionDays: 30,
    });
  });

  it("fills defaults for everything left out", () => {
    const config = parseOrgConfig("acme", { qatech: {} }, SOURCE);

    expect(config.qatech.apiUrl).toBe("https://api.qa.tech");
    expect(config.qatech.gitlabHosts).toEqual([]);
    expect(config.linear).toEqual({
      enabled: true,
      triggerLabel: "needs test",
      apiUrl: "https://api.linear.app/graphql",
      agent: { enabled: false, sessionOnLabel: true, authorizeUrl: "https://linear.app/oauth/authorize" },
    });
    expect(config.replyTimeoutMinutes).toBe(60);
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      "a projectShortId that is not proj_...",
      { qatech: { projectShortId: "project-1" } },
      "qatech.projectShortId",
    ],
    ["a misspelt top-level setting", { replyTimeoutMinute: 30 }, "replyTimeoutMinute"],
    ["a misspelt setting in a section", { linear: { triggerLable: "qa" } }, "linear.triggerLable"],
    ["a negative reply timeout", { replyTimeoutMinutes: -5 }, "replyTimeoutMinutes"],
    ["a reply timeout given as text", { replyTimeoutMinutes: "60" }, "replyTimeoutMinutes"],
    ["jira enabled without its baseUrl", { jira: { enabled: true } }, "jira.baseUrl"],
    ["an http QA.tech url", { qatech: { apiUrl: "http://api.qa.tech" } }, "qatech.apiUrl"],
    ["a yes/no written as text", { linear: { enabled: "yes" } }, "linear.enabled"],
    [
      "an application override without applicationShortId",
      { qatech: { applicationOverrides: [{ environment: { url: "https://x.example" } }] } },
      "qatech.applicationOverrides[0]",
    ],
    [
      "a longest wait below the shortest",
      { pollSchedule: { maxWaitSeconds: 2 } },
      "pollSchedule.maxWaitSeconds",
    ],
    ["an unknown architecture", { lambda: { architecture: "arm" } }, "lambda.architecture"],
    ["a Jira label with a space", { jira: { triggerLabel: "needs test" } }, "jira.triggerLabel"],
    [
      "a GitLab host given as a URL",
      { qatech: { gitlabHosts: ["https://gitlab.acme.com"] } },
      "qatech.gitlabHosts[0]",
    ],
    [
      "a GitLab host with a path",
      { qatech: { gitlabHosts: ["gitlab.acme.com/group"] } },
      "qatech.gitlabHosts[0]",
    ],
    [
      "a GitLab host with a port",
      { qatech: { gitlabHosts: ["gitlab.acme.com:8443"] } },
      "qatech.gitlabHosts[0]",
    ],
    ["a GitLab host in capitals", { qatech: { gitlabHosts: ["GitLab.acme.com"] } }, "qatech.gitlabHosts[0]"],
    ["an empty GitLab host", { qatech: { gitlabHosts: ["gitlab.acme.com", ""] } }, "qatech.gitlabHosts[1]"],
    ["GitLab hosts given as text", { qatech: { gitlabHosts: "gitlab.acme.com" } }, "qatech.gitlabHosts"],
    [
      "a fractional concurrency",
      { qatech: { maxConcurrency: 2.5 } },
      "qatech.maxConcurrency must be a whole",
    ],
    [
      "a fractional wait",
      { pollSchedule: { minWaitSeconds: 1.5 } },
      "pollSchedule.minWaitSeconds must be a whole",
    ],
    ["a retention CloudWatch does not offer", { logRetentionDays: 10 }, "logRetentionDays must be one of"],
    ["an alarm email that is no address", { alarmEmail: "ops at acme" }, "alarmEmail"],
    [
      "an https alarm endpoint that is not https",
      { alarmEndpoints: [{ protocol: "https", endpoint: "http://hooks.acme.example/x" }] },
      "alarmEndpoints.0.endpoint must be an https URL",
    ],
    [
      "an alarm endpoint of a protocol the stack does not subscribe",
      { alarmEndpoints: [{ protocol: "sms", endpoint: "+15550100" }] },
      "alarmEndpoints[0].protocol",
    ],
  ])("refuses %s, naming the file and the field", (_what, changes, field) => {
    const message = problem(exampleWith(changes));

    expect(message).toContain(SOURCE);
    expect(message).toContain(field);
  });

  it("requires the qatech block", () => {
    expect(problem({ linear: { enabled: true } })).toContain("qatech is required");
  });

  it("refuses a config with neither tracker enabled", () => {
    const message = problem(exampleWith({ linear: { enabled: false }, jira: { enabled: false } }));

    expect(message).toContain(SOURCE);
    expect(message).toMatch(/linear\.enabled.*jira\.enabled/);
  });

  it("refuses an organisation name that cannot name a stack and its secrets", () => {
    for (const org of ["Acme", "acme corp", "acme/prod", "", "a".repeat(40)]) {
      expect(problem(example(), org)).toContain(`"${org}"`);
    }
  });

  it("refuses, naming the field, settings that would not fit in Lambda's 4 KB of environment", () => {
    const message = problem(
      exampleWith({ qatech: { instruction: "Test the change thoroughly. ".repeat(120) } }),
    );

    expect(message).toContain(SOURCE);
    expect(message).toMatch(/qatech\.instruction is too long/);
    expect(message).toMatch(/4 KB/);
  });

  it("accepts a long instruction that still fits, with room for the stack's own variables", () => {
    const config = parseOrgConfig("acme", exampleWith({ qatech: { instruction: "x".repeat(1800) } }), SOURCE);
    const env = functionEnvironment(config);
    const bytes = Object.entries(env).reduce((n, [k, v]) => n + Buffer.byteLength(k + v), 0);

    expect(bytes).toBeLessThanOrEqual(LAMBDA_ENVIRONMENT_MAX_BYTES - STACK_VARIABLES_RESERVE_BYTES);
  });

  it("refuses a bad organisation name before looking for its file", () => {
    // Telling the operator to create config/Acme Corp.json would only lead to the next error.
    expect(() => loadOrgConfig("Acme Corp")).toThrow(/lowercase/);
  });

  it("refuses a poll loop that would outgrow a Standard execution's 25,000-event history", () => {
    // One poll is a Wait, a Task and a Choice (about 9 history events); 24 h of 1 s waits is 86,400 polls.
    const message = problem(
      exampleWith({
        replyTimeoutMinutes: 24 * 60,
        pollSchedule: { minWaitSeconds: 1, fraction: 0, maxWaitSeconds: 1 },
      }),
    );

    expect(message).toContain(SOURCE);
  });

  describe("files", () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "qa-ticket-config-"));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("says which file to create, and from what, when the organisation has none", () => {
      expect(() => loadOrgConfig("globex", dir)).toThrow(ConfigFileError);
      expect(() => loadOrgConfig("globex", dir)).toThrow(join(dir, "globex.json"));
      expect(() => loadOrgConfig("globex", dir)).toThrow(/create .*example\.json/);
    });

    it("names the file that is not valid JSON", () => {
      writeFileSync(join(dir, "globex.json"), '{ "qatech": { ');

      expect(() => loadOrgConfig("globex", dir)).toThrow(`${join(dir, "globex.json")}: is not valid JSON`);
    });

    it("names the file in a field error", () => {
      writeFileSync(join(dir, "globex.json"), JSON.stringify({ qatech: {}, logRetentionDays: 0 }));

      expect(() => loadOrgConfig("globex", dir)).toThrow(`${join(dir, "globex.json")}: logRetentionDays`);
    });
  });
});

describe("functionEnvironment", () => {
  it("gives every function the validated settings as one value, which the functions read back unchanged", () => {
    const config = parseOrgConfig(
      "acme",
      exampleWith({
        qatech: { instruction: "Test the checkout on staging.", gitlabHosts: ["gitlab.acme.com"] },
        replyTimeoutMinutes: 90,
        alarmEmail: "ops@acme.example",
      }),
      SOURCE,
    );

    const env = functionEnvironment(config);

    // Where alarms go is the stack's business, not a function's; the org names the metrics.
    const {
      org: _,
      $schema: _schema,
      $comment: _comment,
      alarmEmail: _email,
      alarmEndpoints: _endpoints,
      ...expected
    } = config;
    expect(Object.keys(env)).toEqual([SETTINGS_VARIABLE, ORG_VARIABLE]);
    expect(env[ORG_VARIABLE]).toBe("acme");
    expect(settings(env)).toEqual(expected);
  });

  it("holds no credential", () => {
    const env = functionEnvironment(loadOrgConfig("example"));

    expect(env[SETTINGS_VARIABLE]).not.toMatch(/api_?key|secret|token|password/i);
  });
});
