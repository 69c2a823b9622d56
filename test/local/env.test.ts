import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { SETTINGS_VARIABLE } from "../../functions/shared/platform/settings";
import { CONFIG_VARIABLE, configFromArgs } from "../../local/config-file";
import { checkLocalEnv, overridingVariables } from "../../local/env";
import { startLocalRunner } from "../../local/runner";

/** The secrets each tracker needs on the local runner (the stack keeps them in Secrets Manager). */
const QATECH = { QATECH_API_KEY: "qa-key-123456" };
const LINEAR = { LINEAR_API_KEY: "lin_api_123456", LINEAR_WEBHOOK_SECRET: "lin_wh_123456" };
const JIRA = { JIRA_EMAIL: "bot@acme.example", JIRA_API_TOKEN: "jira-token", JIRA_WEBHOOK_SECRET: "jira_wh" };

/** An organisation's config as `cdk deploy` takes it. */
const ACME = {
  qatech: { projectShortId: "proj_acme" },
  labels: { testing: "qa-running", tested: "qa-passed" },
  linear: { enabled: true, triggerLabel: "qa please" },
  jira: { enabled: true, baseUrl: "https://acme.atlassian.net", projectKeys: ["WEB", "OPS"] },
  replyTimeoutMinutes: 45,
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "qa-ticket-local-config-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `<dir>/<org>.json` (never into the repository's config/) and returns its path. */
function configFile(content: unknown, org = "acme"): string {
  const file = join(dir, `${org}.json`);
  writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
  return file;
}

describe("the local runner without a config file (the variables alone, as before)", () => {
  it("takes its settings from the variables, and serves each tracker whose variables are set", () => {
    const local = checkLocalEnv({
      ...QATECH,
      ...LINEAR,
      QATECH_PROJECT_SHORT_ID: "proj_demo",
      LABEL_TESTING: "testing",
      REPLY_TIMEOUT_SECONDS: "600",
      JIRA_PROJECT_KEYS: "WEB, OPS",
    });

    expect(local.configFile).toBeUndefined();
    expect(local.trackers).toEqual(["linear"]);
    expect(local.waitScale).toBe(1);
    expect(local.settings.qatech.projectShortId).toBe("proj_demo");
    expect(local.settings.labels.testing).toBe("testing");
    expect(local.settings.replyTimeoutMinutes).toBe(10);
    expect(local.settings.jira).toMatchObject({ enabled: false, projectKeys: ["WEB", "OPS"] });
    expect(local.settings.linear).toMatchObject({ enabled: true, triggerLabel: "needs test" });
  });

  it("serves Jira when its variables are set", () => {
    const local = checkLocalEnv({
      ...QATECH,
      ...JIRA,
      QATECH_PROJECT_SHORT_ID: "proj_demo",
      JIRA_BASE_URL: "https://acme.atlassian.net",
    });

    expect(local.trackers).toEqual(["jira"]);
    expect(local.settings.linear.enabled).toBe(false);
    expect(local.settings.jira).toMatchObject({ enabled: true, baseUrl: "https://acme.atlassian.net" });
  });

  it("names the missing variables (Linear's when no tracker's are set)", () => {
    expect(() => checkLocalEnv({})).toThrow(
      "Missing QATECH_API_KEY, LINEAR_API_KEY, LINEAR_WEBHOOK_SECRET: set them in the environment or .env",
    );
    expect(() => checkLocalEnv({ ...LINEAR })).toThrow(
      "Missing QATECH_API_KEY: set it in the environment or .env",
    );
  });

  it("names the variable next to the setting the schema refuses", () => {
    expect(() => checkLocalEnv({ ...QATECH, ...LINEAR, QATECH_MAX_CONCURRENCY: "1" })).toThrow(
      /^local environment: qatech\.maxConcurrency \(QATECH_MAX_CONCURRENCY\) must be 0/,
    );
    expect(() => checkLocalEnv({ ...QATECH, ...LINEAR, WAIT_SCALE: "2" })).toThrow(
      'WAIT_SCALE must be a number above 0 and at most 1, got "2"',
    );
  });
});

describe("the local runner with a config file (QA_TICKET_CONFIG)", () => {
  it("takes the file's settings, and which trackers it enables", () => {
    const file = configFile(ACME);

    const local = checkLocalEnv({ ...QATECH, ...LINEAR, ...JIRA, [CONFIG_VARIABLE]: file });

    expect(local.configFile).toBe(file);
    expect(local.trackers).toEqual(["linear", "jira"]);
    expect(local.settings.labels).toMatchObject({ testing: "qa-running", tested: "qa-passed" });
    expect(local.settings.replyTimeoutMinutes).toBe(45);
    expect(local.settings.jira).toMatchObject({
      enabled: true,
      baseUrl: "https://acme.atlassian.net",
      projectKeys: ["WEB", "OPS"],
    });
    expect(local.settings.linear.triggerLabel).toBe("qa please");
    expect(local.settings.qatech.projectShortId).toBe("proj_acme");
    // The schema's defaults fill what the file leaves out, as at synth.
    expect(local.settings.qatech.apiUrl).toBe("https://api.qa.tech");
  });

  it("a variable that is set overrides the file's value; the others keep it", () => {
    const file = configFile(ACME);
    const env = {
      ...QATECH,
      ...LINEAR,
      ...JIRA,
      [CONFIG_VARIABLE]: file,
      QATECH_API_URL: "http://127.0.0.1:4010",
      JIRA_BASE_URL: "http://127.0.0.1:4011",
      REPLY_TIMEOUT_SECONDS: "120",
      JIRA_PROJECT_KEYS: "QA",
      LABEL_TESTING: "qa-local",
    };

    const { settings } = checkLocalEnv(env);

    expect(settings.qatech).toMatchObject({ apiUrl: "http://127.0.0.1:4010", projectShortId: "proj_acme" });
    expect(settings.jira).toMatchObject({ baseUrl: "http://127.0.0.1:4011", projectKeys: ["QA"] });
    expect(settings.replyTimeoutMinutes).toBe(2);
    expect(settings.labels).toMatchObject({ testing: "qa-local", tested: "qa-passed" });
    expect(overridingVariables(env)).toEqual([
      "QATECH_API_URL",
      "LABEL_TESTING",
      "JIRA_BASE_URL",
      "JIRA_PROJECT_KEYS",
      "REPLY_TIMEOUT_SECONDS",
    ]);
  });

  it("serves only the trackers the file enables, whatever other variables are set", () => {
    const file = configFile({ ...ACME, jira: { enabled: false } });

    const local = checkLocalEnv({
      ...QATECH,
      ...LINEAR,
      ...JIRA,
      JIRA_BASE_URL: "https://acme.atlassian.net",
      [CONFIG_VARIABLE]: file,
    });

    expect(local.trackers).toEqual(["linear"]);
    expect(local.settings.jira.enabled).toBe(false);
  });

  it("the file's jira.baseUrl and linear.agent.clientId stand for JIRA_BASE_URL and LINEAR_AGENT_CLIENT_ID", () => {
    const file = configFile({
      ...ACME,
      linear: { enabled: true, agent: { enabled: true, clientId: "client_acme_1234" } },
    });

    const local = checkLocalEnv({
      ...QATECH,
      ...LINEAR,
      ...JIRA,
      LINEAR_AGENT_CLIENT_SECRET: "agent-secret",
      LINEAR_AGENT_WEBHOOK_SECRET: "agent-wh",
      [CONFIG_VARIABLE]: file,
    });

    expect(local.trackers).toEqual(["linear", "linear-agent", "jira"]);
    expect(local.settings.linear.agent.clientId).toBe("client_acme_1234");
  });

  it("refuses at start a tracker the file enables whose secrets are missing, naming them and the file", () => {
    const file = configFile(ACME);

    expect(() => checkLocalEnv({ ...QATECH, ...LINEAR, [CONFIG_VARIABLE]: file })).toThrow(
      `Missing JIRA_EMAIL, JIRA_API_TOKEN, JIRA_WEBHOOK_SECRET: set them in the environment or .env (${file} enables Linear, Jira)`,
    );
    expect(() => checkLocalEnv({ ...LINEAR, ...JIRA, [CONFIG_VARIABLE]: file })).toThrow(
      /^Missing QATECH_API_KEY: set it/,
    );
  });

  it.each<[string, unknown, RegExp]>([
    ["an unknown field", { ...ACME, labels: { testng: "x" } }, /: labels\.testng is not a known setting/],
    [
      "a field of the wrong type",
      { ...ACME, replyTimeoutMinutes: "45" },
      /: replyTimeoutMinutes Invalid input: expected number, received string/,
    ],
    [
      "a rule between fields",
      { ...ACME, jira: { enabled: true } },
      /: jira\.baseUrl is required when jira\.enabled is true/,
    ],
    ["text that is not JSON", "{ qatech: }", /: is not valid JSON/],
  ])("refuses a file with %s, naming the file and the field", (_what, content, message) => {
    const file = configFile(content);

    let error: Error | undefined;
    try {
      checkLocalEnv({ ...QATECH, ...LINEAR, ...JIRA, [CONFIG_VARIABLE]: file });
    } catch (e) {
      error = e as Error;
    }

    expect(error?.message).toMatch(message);
    expect(error?.message.startsWith(`${file}: `)).toBe(true);
  });

  it("refuses a file that does not exist, or is not named <org>.json, naming it", () => {
    const missing = join(dir, "nosuch.json");
    expect(() => checkLocalEnv({ ...QATECH, ...LINEAR, [CONFIG_VARIABLE]: missing })).toThrow(
      `No config for org "nosuch": create ${missing}`,
    );
    const odd = join(dir, "Acme Config.txt");
    writeFileSync(odd, JSON.stringify(ACME));
    expect(() => checkLocalEnv({ ...QATECH, ...LINEAR, [CONFIG_VARIABLE]: odd })).toThrow(
      `QA_TICKET_CONFIG=${odd}: must be an organisation's config file, <org>.json`,
    );
  });

  it("names the variable and the file when a variable makes the settings wrong", () => {
    const file = configFile(ACME);

    expect(() =>
      checkLocalEnv({ ...QATECH, ...LINEAR, ...JIRA, CHANGE_REVIEW: "always", [CONFIG_VARIABLE]: file }),
    ).toThrow(
      `${file} with the local environment: qatech.changeReview (CHANGE_REVIEW) is always, but a change review needs qatech.applicationOverrides`,
    );
    expect(() =>
      checkLocalEnv({ ...QATECH, ...LINEAR, ...JIRA, LABEL_TESTING: "qa running", [CONFIG_VARIABLE]: file }),
    ).toThrow(`${file} with the local environment: labels.testing (LABEL_TESTING) "qa running" has a space`);
  });

  it("reads a path relative to the working directory, as `QA_TICKET_CONFIG=config/<org>.json npm start` does", () => {
    const file = relative(process.cwd(), configFile(ACME));

    expect(checkLocalEnv({ ...QATECH, ...LINEAR, ...JIRA, [CONFIG_VARIABLE]: file }).configFile).toBe(file);
  });
});

describe("npm start -- --org <org>", () => {
  it("reads <config dir>/<org>.json, the file cdk deploy -c org=<org> takes", () => {
    const file = configFile(ACME);

    const added = configFromArgs(["--org", "acme"], {}, dir);

    expect(added).toEqual({ [CONFIG_VARIABLE]: file });
    const local = checkLocalEnv({ ...QATECH, ...LINEAR, ...JIRA, ...added });
    expect(local.settings.jira.projectKeys).toEqual(["WEB", "OPS"]);
  });

  it("defaults to the repository's config/", () => {
    expect(configFromArgs(["--org", "example"], {})).toEqual({
      [CONFIG_VARIABLE]: join(__dirname, "..", "..", "config", "example.json"),
    });
  });

  it("adds nothing without --org", () => {
    expect(configFromArgs([], { [CONFIG_VARIABLE]: "config/acme.json" }, dir)).toEqual({});
  });

  it("refuses an unknown argument, a bad org name, and an --org that disagrees with QA_TICKET_CONFIG", () => {
    expect(() => configFromArgs(["--orgs", "acme"], {}, dir)).toThrow(
      /Unknown option '--orgs'.*usage: npm start/,
    );
    expect(() => configFromArgs(["--org", "../acme"], {}, dir)).toThrow(
      /--org "\.\.\/acme" must be lowercase/,
    );
    expect(() =>
      configFromArgs(["--org", "acme"], { [CONFIG_VARIABLE]: join(dir, "other.json") }, dir),
    ).toThrow(/--org acme reads .*acme\.json, but QA_TICKET_CONFIG names .*other\.json: give one of them/);
    // The same file twice is no conflict.
    const file = configFile(ACME);
    expect(configFromArgs(["--org", "acme"], { [CONFIG_VARIABLE]: file }, dir)).toEqual({
      [CONFIG_VARIABLE]: file,
    });
  });
});

describe("the local runner started with a config file", () => {
  it("runs with the file's settings and serves the trackers it enables", async () => {
    const file = configFile({ ...ACME, jira: { enabled: false } });
    const runner = await startLocalRunner({
      port: 0,
      env: { ...QATECH, ...LINEAR, ...JIRA, [CONFIG_VARIABLE]: file, REPLY_TIMEOUT_SECONDS: "300" },
    });
    try {
      const settings = JSON.parse(process.env[SETTINGS_VARIABLE] ?? "{}");
      expect(settings.labels).toMatchObject({ testing: "qa-running", tested: "qa-passed" });
      expect(settings.linear.triggerLabel).toBe("qa please");
      expect(settings.replyTimeoutMinutes).toBe(5);
      // Jira is off in the file: its route is not served, though its secrets are set.
      const jira = await fetch(`${runner.url}/webhooks/jira`, { method: "POST", body: "{}" });
      expect(jira.status).toBe(404);
      const linear = await fetch(`${runner.url}/webhooks/linear`, { method: "POST", body: "{}" });
      expect(linear.status).not.toBe(404);
    } finally {
      await runner.close();
    }
  });
});
