import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { PutSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { parseOrgConfig } from "../../lib/config";
import { type FakeJira, startFakeJira } from "../../simulators/jira";
import { type FakeLinear, startFakeLinear } from "../../simulators/linear";
import { type FakeQaTech, startFakeQaTech } from "../../simulators/qatech";
import { runDoctor } from "../../tools/doctor/doctor";
import { secretLogicalIds } from "../../tools/setup/import-mapping";
import { noPrompter, terminalPrompter } from "../../tools/setup/prompt";
import { runSetup, SETUP_STEPS, type SetupAnswers, stepPrefix } from "../../tools/setup/setup";
import { FakeAws } from "../support/fake-aws";

const QATECH_KEY = "qa-org-key-1234";
const LINEAR_KEY = "lin_api_admin_key";
const JIRA_EMAIL = "qa-bot@acme.example";
const JIRA_TOKEN = "jira-token-5678";

interface World {
  dir: string;
  aws: FakeAws;
  qatech: FakeQaTech;
  linear: FakeLinear;
  jira: FakeJira;
  lines: string[];
  answers: SetupAnswers;
  setup(extra?: Partial<SetupAnswers> & { dryRun?: boolean }): ReturnType<typeof runSetup>;
  close(): Promise<void>;
}

/** Simulators of QA.tech, Linear and Jira, one fake AWS account, an empty config folder. */
async function world(
  options: {
    jiraAdmin?: boolean;
    linearLabels?: Array<{ id: string; name: string }>;
    qatechKeyScope?: "organization" | "project";
    qatechRunsAccess?: "read" | "none";
  } = {},
): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), "qa-ticket-setup-"));
  const aws = new FakeAws(dir);
  await aws.startEndpoint("acme");
  // An organisation-scoped key: it must name its project on every POST, as the Chat API reference says.
  const qatech = await startFakeQaTech({
    apiKey: QATECH_KEY,
    keyScope: options.qatechKeyScope ?? "organization",
    projectShortId: "proj_acme",
    runsAccess: options.qatechRunsAccess,
  });
  const linear = await startFakeLinear({ apiKey: LINEAR_KEY, labels: options.linearLabels });
  const jira = await startFakeJira({
    email: JIRA_EMAIL,
    apiToken: JIRA_TOKEN,
    admin: options.jiraAdmin ?? true,
  });
  const lines: string[] = [];
  const answers: SetupAnswers = {
    qatechProject: "proj_acme",
    alarmEmail: "ops@acme.example",
    linear: true,
    jiraBaseUrl: jira.url,
    jiraProjectKeys: ["PROJ"],
    qatechApiUrl: qatech.url,
    linearApiUrl: linear.url,
    qatechApiKey: QATECH_KEY,
    linearApiKey: LINEAR_KEY,
    jiraEmail: JIRA_EMAIL,
    jiraApiToken: JIRA_TOKEN,
  };
  return {
    dir,
    aws,
    qatech,
    linear,
    jira,
    lines,
    answers,
    setup: ({ dryRun, ...extra } = {}) =>
      runSetup({
        org: "acme",
        clients: aws.clients,
        deployer: aws.deployer(),
        prompter: noPrompter(),
        answers: { ...answers, ...extra },
        print: (line) => lines.push(line),
        dryRun,
        configDir: dir,
      }),
    async close() {
      await Promise.all([aws.close(), qatech.close(), linear.close(), jira.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A peer that answers every request with `status` and a body echoing the request's headers, as a debugging
 * proxy or a misconfigured gateway in front of QA.tech or Jira may: the Authorization header comes back.
 */
async function startEchoPeer(status: number): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify({ message: `refused; request headers: ${JSON.stringify(req.headers)}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const JIRA_BASIC = Buffer.from(`${JIRA_EMAIL}:${JIRA_TOKEN}`).toString("base64");

const writes = (w: World) => ({
  deploys: w.aws.deploys.length,
  puts: w.aws.puts.length,
  linear: w.linear.requests.filter((r) =>
    ["createWebhook", "updateWebhook", "createIssueLabel"].includes(r.operation),
  ).length,
  jira: w.jira.requests.filter((r) => r.path.startsWith("/rest/webhooks") && r.method !== "GET").length,
});

describe("npm run setup, end to end (simulators, mocked AWS, injected deployer)", () => {
  let w: World;
  afterEach(() => w.close());

  it("goes live from nothing: config, checked keys, one deploy, secrets, webhooks signed with the stored secrets", async () => {
    w = await world({ linearLabels: [] });

    const result = await w.setup();

    const config = JSON.parse(readFileSync(join(w.dir, "acme.json"), "utf8"));
    expect(config).toMatchObject({
      qatech: { projectShortId: "proj_acme" },
      linear: { enabled: true },
      jira: { enabled: true, projectKeys: ["PROJ"] },
      alarmEmail: "ops@acme.example",
    });
    expect(w.aws.deploys).toEqual(["acme"]);
    expect(w.aws.value("qa-ticket/acme/qatech-api-key")).toBe(QATECH_KEY);
    expect(w.aws.value("qa-ticket/acme/linear-api-key")).toBe(LINEAR_KEY);
    expect(w.aws.value("qa-ticket/acme/jira-api-token")).toBe(JIRA_TOKEN);
    // The Linear webhook carries exactly the secret that was stored, and was stored before it was registered.
    const [webhook] = w.linear.webhooks;
    expect(w.linear.webhooks).toHaveLength(1);
    expect(webhook).toMatchObject({
      url: `${w.aws.endpointUrl}/webhooks/linear`,
      resourceTypes: ["Issue", "Comment"],
      enabled: true,
      label: "qa-ticket acme",
    });
    const linearSecret = w.aws.value("qa-ticket/acme/linear-webhook-secret");
    expect(linearSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(webhook.secret).toBe(linearSecret);
    const storedAt = w.aws.puts.indexOf("qa-ticket/acme/linear-webhook-secret");
    expect(storedAt).toBeGreaterThanOrEqual(0);
    // The trigger label, missing in this workspace, now exists (a workspace label).
    expect(w.linear.labels.map((l) => [l.name, l.teamId])).toEqual([["needs test", undefined]]);
    // Jira: the admin webhook, same secret as stored, the configured project's JQL, our three events.
    expect(w.jira.webhooks).toEqual([
      expect.objectContaining({
        url: `${w.aws.endpointUrl}/webhooks/jira`,
        jql: "project in (PROJ)",
        events: ["jira:issue_created", "jira:issue_updated", "comment_created"],
        secret: w.aws.value("qa-ticket/acme/jira-webhook-secret"),
      }),
    ]);
    // doctor ran last: everything holds but the alarm email, which a person has to confirm.
    const failed = result.doctor?.rows.filter((r) => r.status !== "ok").map((r) => r.check);
    expect(failed).toEqual(["alarms reach someone"]);
    expect(result.ok).toBe(false);
    expect(w.lines.join("\n")).toMatch(/awaiting confirmation: email ops@acme.example/);
    // Signed test requests reached the deployed handler and started nothing.
    expect(w.aws.started).toEqual([]);
    // No key and no signing secret is printed (SECURITY.md: only a non-admin Jira account gets its secret shown).
    const printed = w.lines.join("\n");
    // Setup stored a Jira signing secret: without one, the check below would pass vacuously.
    const jiraSecret = w.aws.value("qa-ticket/acme/jira-webhook-secret");
    expect(jiraSecret).toEqual(expect.stringMatching(/./));
    for (const secret of [QATECH_KEY, LINEAR_KEY, JIRA_TOKEN, linearSecret, jiraSecret as string])
      expect(printed).not.toContain(secret);
    expect(w.lines.slice(0, 9).map((l) => l.split(":")[0])).toEqual([
      ...SETUP_STEPS.map((step) => stepPrefix(step.id)),
    ]);

    w.aws.confirmSubscriptions();
    const doctor = await runDoctor({ org: "acme", clients: w.aws.clients, configDir: w.dir });
    expect(doctor.rows.filter((r) => r.status !== "ok")).toEqual([]);
    expect(doctor.ok).toBe(true);
  });

  it("changes nothing when run again", async () => {
    w = await world();
    await w.setup();
    w.aws.confirmSubscriptions();
    const configBefore = readFileSync(join(w.dir, "acme.json"), "utf8");
    const before = writes(w);
    const secretBefore = w.linear.webhooks[0].secret;
    w.lines.length = 0;

    const again = await w.setup();

    expect(writes(w)).toEqual(before);
    expect(again.changes).toEqual([]);
    expect(again.ok).toBe(true);
    expect(readFileSync(join(w.dir, "acme.json"), "utf8")).toBe(configBefore);
    expect(w.linear.webhooks).toHaveLength(1);
    expect(w.linear.webhooks[0].secret).toBe(secretBefore);
    expect(w.jira.webhooks).toHaveLength(1);
    // In this order, after the first run's lines.
    const progressText = w.lines.filter((l) => /^\[\d+\/\d+\]/.test(l)).join("\n");
    let from = 0;
    for (const expected of [
      `${stepPrefix("stack")}: QaTicket-acme is up to date`,
      `${stepPrefix("secrets")}: unchanged`,
      `${stepPrefix("linear-webhook")}: unchanged`,
      `${stepPrefix("linear-labels")}: unchanged`,
      `${stepPrefix("jira-webhook")}: unchanged`,
    ]) {
      const at = progressText.indexOf(expected, from);
      expect(at).toBeGreaterThanOrEqual(0);
      from = at;
    }
  });

  it("finds its own webhook and brings it back in line instead of adding a second", async () => {
    w = await world();
    await w.setup();
    Object.assign(w.linear.webhooks[0], {
      enabled: false,
      resourceTypes: ["Issue"],
      secret: "someone-rotated-it",
    });

    await w.setup();

    expect(w.linear.webhooks).toHaveLength(1);
    expect(w.linear.webhooks[0]).toMatchObject({
      enabled: true,
      resourceTypes: ["Issue", "Comment"],
      secret: w.aws.value("qa-ticket/acme/linear-webhook-secret"),
    });
  });

  it("enables again a Jira webhook someone disabled, instead of saying it updated it", async () => {
    w = await world();
    await w.setup();
    w.jira.webhooks[0].enabled = false;

    const again = await w.setup();

    expect(again.changes).toEqual([expect.stringMatching(/^update admin webhook 1: /)]);
    expect(w.jira.webhooks).toHaveLength(1);
    expect(w.jira.webhooks[0]).toMatchObject({
      enabled: true,
      secret: w.aws.value("qa-ticket/acme/jira-webhook-secret"),
    });
  });

  it.each<[string, Partial<SetupAnswers>, RegExp]>([
    ["QA.tech key", { qatechApiKey: "wrong-key" }, /QA\.tech: QA\.tech refused the API key \(401\)/],
    ["Linear key", { linearApiKey: "lin_api_wrong" }, /Linear: Linear refused the API key/],
    ["Jira token", { jiraApiToken: "expired" }, /Jira: Jira refused the email and API token \(401\)/],
  ])("names a bad %s, and deploys and stores nothing", async (_what, bad, message) => {
    w = await world();

    await expect(w.setup(bad)).rejects.toThrow(message);

    expect(writes(w)).toEqual({ deploys: 0, puts: 0, linear: 0, jira: 0 });
  });

  it("names a project the QA.tech key may not use", async () => {
    w = await world({ qatechKeyScope: "project" });

    await expect(w.setup({ qatechProject: "proj_other_one" })).rejects.toThrow(
      /QA\.tech refused project proj_other_one for this key \(403/,
    );
    expect(writes(w)).toEqual({ deploys: 0, puts: 0, linear: 0, jira: 0 });
  });

  it("names an organisation-scoped key without a project", async () => {
    w = await world();

    await expect(w.setup({ qatechProject: "" })).rejects.toThrow(/organisation-scoped and needs a project/);
  });

  it("with --dry-run says what it would do and does none of it", async () => {
    w = await world({ linearLabels: [] });

    const result = await w.setup({ dryRun: true });

    expect(writes(w)).toEqual({ deploys: 0, puts: 0, linear: 0, jira: 0 });
    expect(() => readFileSync(join(w.dir, "acme.json"))).toThrow();
    expect(result.changes).toEqual(
      expect.arrayContaining([
        "write config/acme.json",
        "deploy QaTicket-acme (cdk deploy)",
        'create label "needs test"',
      ]),
    );
    expect(w.lines.join("\n")).toMatch(/would deploy QaTicket-acme/);
  });

  it("prints what to paste into Jira when the account is no Jira admin, with the secret it stored", async () => {
    w = await world({ jiraAdmin: false });
    await w.setup({ dryRun: true });
    // A dry run stores nothing, so it shows no secret that would not be the one used.
    expect(w.lines.join("\n")).toContain("Secret:  (generated and stored when run without --dry-run)");
    w.lines.length = 0;

    await expect(w.setup()).rejects.toThrow(/run setup again with --jira-webhook-done/);
    const printed = w.lines.join("\n");
    const secret = w.aws.value("qa-ticket/acme/jira-webhook-secret");
    expect(printed).toContain(`URL:     ${w.aws.endpointUrl}/webhooks/jira`);
    expect(printed).toContain("JQL:     project in (PROJ)");
    expect(printed).toContain("Issue: created, updated; Comment: created");
    expect(printed).toContain(`Secret:  ${secret}`);

    const done = await w.setup({ jiraWebhookDone: true });
    expect(w.aws.value("qa-ticket/acme/jira-webhook-secret")).toBe(secret);
    expect(w.lines.join("\n")).toContain(`${stepPrefix("jira-webhook")}: created by hand`);
    expect(done.doctor?.rows.find((r) => r.check === "Jira endpoint answers")?.status).toBe("ok");
  });

  it("shows the Jira webhook secret only on the run that generated it, never in a later run or dry run", async () => {
    w = await world({ jiraAdmin: false });
    await expect(w.setup()).rejects.toThrow(/run setup again with --jira-webhook-done/);
    const secret = w.aws.value("qa-ticket/acme/jira-webhook-secret") ?? "missing";
    expect(w.lines.join("\n")).toContain(`Secret:  ${secret}`);

    for (const dryRun of [false, true]) {
      w.lines.length = 0;
      if (dryRun) await w.setup({ dryRun });
      else await expect(w.setup()).rejects.toThrow(/--jira-webhook-done/);
      const printed = w.lines.join("\n");
      expect(printed).not.toContain(secret);
      // Still there for an admin who lost it, by the one command that reads it with the operator's own access.
      expect(printed).toContain(
        "aws secretsmanager get-secret-value --secret-id qa-ticket/acme/jira-webhook-secret",
      );
    }
    expect(w.aws.value("qa-ticket/acme/jira-webhook-secret")).toBe(secret);
  });

  it("redacts the QA.tech key a peer echoes back in its refusal", async () => {
    w = await world();
    const echo = await startEchoPeer(403);
    try {
      const error = await w.setup({ qatechApiUrl: echo.url }).catch((e: Error) => e);

      expect(error).toBeInstanceOf(Error);
      const message = (error as Error).message;
      expect(message).toMatch(/QA\.tech refused the API key \(403/);
      expect(message).toContain("[redacted]");
      expect(message).not.toContain(QATECH_KEY);
    } finally {
      await echo.close();
    }
  });

  it("redacts the Jira token and its Basic form a peer echoes back in its error", async () => {
    w = await world();
    const echo = await startEchoPeer(500);
    try {
      const error = await w.setup({ jiraBaseUrl: echo.url }).catch((e: Error) => e);

      const message = (error as Error).message;
      expect(message).toMatch(/Jira answered 500/);
      expect(message).toContain("[redacted]");
      expect(message).not.toContain(JIRA_BASIC);
      expect(message).not.toContain(JIRA_TOKEN);
    } finally {
      await echo.close();
    }
  });

  it("adopts the secrets a destroyed stack left behind before deploying the same org again", async () => {
    w = await world();
    await w.setup();
    w.aws.stack = null; // cdk destroy: the stack goes, the retained secrets stay
    const putsBefore = w.aws.puts.length;

    await w.setup();

    const [mapping] = w.aws.imports;
    expect(
      Object.values(mapping)
        .map((m) => m.Id.split(":secret:")[1])
        .sort(),
    ).toEqual(
      [
        "jira-api-token",
        "jira-email",
        "jira-webhook-secret",
        "linear-api-key",
        "linear-webhook-secret",
        "marker-key",
        "qatech-api-key",
      ].map((n) => `qa-ticket/acme/${n}-AbCdEf`),
    );
    expect(Object.keys(mapping)).toEqual(
      expect.arrayContaining(["QATECHAPIKEY8AA2D3FF", "MARKERKEY5019EC53"]),
    );
    expect(w.aws.deploys).toEqual(["acme", "acme"]);
    expect(w.aws.puts.length).toBe(putsBefore);
  });
});

describe("npm run doctor, end to end", () => {
  let w: World;
  afterEach(() => w.close());

  it("fails, each with its fix, on a stale stack, a disabled webhook, failed deliveries and a placeholder secret", async () => {
    w = await world();
    await w.setup();
    w.aws.confirmSubscriptions();
    const file = join(w.dir, "acme.json");
    writeFileSync(
      file,
      JSON.stringify({ ...JSON.parse(readFileSync(file, "utf8")), replyTimeoutMinutes: 30 }),
    );
    w.linear.webhooks[0].enabled = false;
    w.linear.addWebhookFailure(w.linear.webhooks[0].id, {
      executionId: "exec-1",
      httpStatus: 401,
      responseOrError: '{"outcome":"unauthorized"}',
    });
    w.aws.secrets.get("qa-ticket/acme/jira-email")?.versions.splice(1);

    const { rows, ok } = await runDoctor({ org: "acme", clients: w.aws.clients, configDir: w.dir });

    const failed = Object.fromEntries(rows.filter((r) => r.status === "FAIL").map((r) => [r.check, r]));
    expect(ok).toBe(false);
    expect(Object.keys(failed).sort()).toEqual([
      "Linear failed deliveries",
      "Linear webhook",
      "secrets set",
      "stack matches config",
    ]);
    expect(failed["stack matches config"].fix).toBe("npx cdk diff -c org=acme && npx cdk deploy -c org=acme");
    expect(failed["Linear webhook"].detail).toMatch(/disabled/);
    expect(failed["Linear failed deliveries"].detail).toMatch(
      /1 failed attempts of 1 deliveries in 24 h; last: 401/,
    );
    expect(failed["secrets set"].detail).toContain("qa-ticket/acme/jira-email (still the placeholder)");
    expect(rows.find((r) => r.check === "Jira credentials")?.status).toBe("warn");
  });

  it("fails the signed test request when the stored secret is not the one the endpoint checks with", async () => {
    w = await world();
    await w.setup();
    w.aws.confirmSubscriptions();
    // Someone replaced the stored secret by hand; the doctor's request is signed with the stored one, but the
    // webhook registered in Linear still carries the old one: both are reported.
    const old = w.aws.value("qa-ticket/acme/linear-webhook-secret");
    await w.aws.clients.secrets.send(
      new PutSecretValueCommand({ SecretId: "qa-ticket/acme/linear-webhook-secret", SecretString: "typo" }),
    );

    const { rows } = await runDoctor({ org: "acme", clients: w.aws.clients, configDir: w.dir });

    expect(rows.find((r) => r.check === "Linear webhook")?.detail).toMatch(
      /signing secret is not the stored one/,
    );
    expect(w.linear.webhooks[0].secret).toBe(old);
  });

  it("redacts the stored keys a peer echoes back in its rows", async () => {
    w = await world();
    await w.setup();
    const echo = await startEchoPeer(500);
    try {
      // QA.tech and Jira behind a gateway that echoes the request: the stored keys go out in its headers.
      const file = join(w.dir, "acme.json");
      const config = JSON.parse(readFileSync(file, "utf8"));
      config.qatech.apiUrl = echo.url;
      config.jira.baseUrl = echo.url;
      writeFileSync(file, JSON.stringify(config));

      const { rows } = await runDoctor({ org: "acme", clients: w.aws.clients, configDir: w.dir });

      const byCheck = Object.fromEntries(rows.map((r) => [r.check, r]));
      expect(byCheck["QA.tech key"].detail).toMatch(/QA\.tech answered 500 to a read: .*\[redacted\]/);
      expect(byCheck["Jira credentials"].detail).toMatch(/Jira answered 500: .*\[redacted\]/);
      const table = JSON.stringify(rows);
      for (const secret of [QATECH_KEY, JIRA_TOKEN, JIRA_BASIC]) expect(table).not.toContain(secret);
    } finally {
      await echo.close();
    }
  });

  it("says so when the stack does not exist", async () => {
    w = await world();
    writeFileSync(join(w.dir, "acme.json"), JSON.stringify({ qatech: { projectShortId: "proj_acme" } }));

    const { rows, ok } = await runDoctor({ org: "acme", clients: w.aws.clients, configDir: w.dir });

    expect(ok).toBe(false);
    expect(rows.at(-1)).toMatchObject({
      check: "stack deployed",
      status: "FAIL",
      fix: "npm run setup -- --org acme",
    });
  });

  it("warns, without failing, when the QA.tech key may not read test runs, in setup and in doctor", async () => {
    w = await world({ qatechRunsAccess: "none" });

    const result = await w.setup();
    w.aws.confirmSubscriptions();
    const { rows, ok } = await runDoctor({ org: "acme", clients: w.aws.clients, configDir: w.dir });

    expect(result.doctor?.rows.filter((r) => r.status === "FAIL").map((r) => r.check)).toEqual([
      "alarms reach someone",
    ]);
    expect(w.lines.find((l) => l.startsWith(stepPrefix("credentials")))).toMatch(
      /warning: QA\.tech answered 401 to a read of test runs: this key may not read them/,
    );
    expect(ok).toBe(true);
    expect(rows.filter((r) => r.status !== "ok")).toEqual([
      {
        check: "QA.tech key can read test runs",
        status: "warn",
        detail: expect.stringContaining('every verdict will say "Could not verify"'),
        fix: expect.stringContaining("a QA.tech API key that may read test runs"),
      },
    ]);
  });

  it("checks every route's project with the key, as the default project's, naming the route", async () => {
    w = await world({ qatechKeyScope: "project" });
    await w.setup();
    w.aws.confirmSubscriptions();
    const config = JSON.parse(readFileSync(join(w.dir, "acme.json"), "utf8"));
    const routes = [
      { name: "ios", match: { labels: ["ios"] }, projectShortId: "proj_mobile" },
      { name: "web", match: { labels: ["web"] }, projectShortId: "proj_acme" },
    ];
    writeFileSync(join(w.dir, "acme.json"), JSON.stringify({ ...config, routes }));

    const { rows } = await runDoctor({ org: "acme", clients: w.aws.clients, configDir: w.dir });

    expect(rows.filter((r) => r.check.startsWith("QA.tech project"))).toEqual([
      {
        check: "QA.tech project proj_mobile",
        status: "FAIL",
        detail: expect.stringMatching(
          /^route "ios": QA\.tech refused project proj_mobile for this key \(403/,
        ),
        fix: expect.stringContaining('set the projectShortId of route "ios"'),
      },
    ]);
  });

  it("refuses the example's placeholder project for a real org", async () => {
    w = await world();
    writeFileSync(join(w.dir, "acme.json"), JSON.stringify({ qatech: { projectShortId: "proj_example" } }));

    const { rows } = await runDoctor({ org: "acme", clients: w.aws.clients, configDir: w.dir });

    expect(rows[0]).toMatchObject({ check: "config", status: "FAIL" });
    expect(rows[0].detail).toMatch(/placeholder "proj_example"/);
  });
});

describe("setup's prompts on a terminal", () => {
  it("masks a secret as it is typed and returns it", async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let shown = "";
    output.on("data", (chunk) => {
      shown += chunk.toString();
    });
    const prompter = terminalPrompter(input, output);

    const answer = prompter.secret("QA.tech API key:");
    input.write("s3cret-key\n");

    expect(await answer).toBe("s3cret-key");
    expect(shown).toContain("QA.tech API key:");
    expect(shown).not.toContain("s3cret");
  });

  it("takes the default on Enter", async () => {
    const input = new PassThrough();
    const prompter = terminalPrompter(input, new PassThrough());

    const answer = prompter.ask("Email for alarms:", "ops@acme.example");
    input.write("\n");

    expect(await answer).toBe("ops@acme.example");
  });

  it("names what to pass when it may not ask, and takes the defaults it has", async () => {
    const w = await world();
    try {
      await expect(w.setup({ qatechApiKey: undefined })).rejects.toThrow(
        /QA.tech API key: \(not interactive: pass it as a flag or environment variable\)/,
      );
      expect(await noPrompter().confirm("Serve Linear?", true)).toBe(true);
      await expect(noPrompter().ask("Jira site:")).rejects.toThrow(/Jira site: \(not interactive/);
    } finally {
      await w.close();
    }
  });
});

describe("secretLogicalIds", () => {
  it("gives the logical ids the stack declares, for secrets CloudFormation did not tag", () => {
    const config = parseOrgConfig(
      "acme",
      { qatech: {}, jira: { enabled: true, baseUrl: "https://acme.atlassian.net" } },
      "test",
    );

    expect(secretLogicalIds(config)).toEqual({
      "qa-ticket/acme/qatech-api-key": "QATECHAPIKEY8AA2D3FF",
      "qa-ticket/acme/linear-api-key": "LINEARAPIKEYA26A3637",
      "qa-ticket/acme/linear-webhook-secret": "LINEARWEBHOOKSECRET4863BB11",
      "qa-ticket/acme/jira-email": "JIRAEMAIL0671FD0D",
      "qa-ticket/acme/jira-api-token": "JIRAAPITOKEN77E68414",
      "qa-ticket/acme/jira-webhook-secret": "JIRAWEBHOOKSECRET1CB3981F",
      "qa-ticket/acme/marker-key": "MARKERKEY5019EC53",
    });
  });
});
