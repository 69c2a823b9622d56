import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { withAnswer } from "../../functions/shared/trackers/linear-agent/tokens";
import { loadOrgConfig } from "../../lib/config";
import { QaTicketStack } from "../../lib/qa-ticket-stack";
import { type FakeLinear, startFakeLinear } from "../../simulators/linear";
import { FakeLinearAgent } from "../../simulators/linear-agent";
import { type FakeQaTech, startFakeQaTech } from "../../simulators/qatech";
import { type DoctorRow, runDoctor } from "../../tools/doctor/doctor";
import { noPrompter, type Prompter } from "../../tools/setup/prompt";
import {
  runSetup,
  SETUP_STEPS,
  type SetupAnswers,
  type SetupOptions,
  stepPrefix,
} from "../../tools/setup/setup";
import { FakeAws, SECRET_LOGICAL_IDS } from "../support/fake-aws";

const QATECH_KEY = "qa-org-key-1234";
const LINEAR_KEY = "lin_api_admin_key";
const CLIENT_SECRET = "lin_oauth_client_secret_acme";
const AGENT_WEBHOOK_SECRET = "lin_wh_agent_secret_acme";
const TOKENS = "qa-ticket/acme/linear-agent-tokens";
const AGENT_SECRET_IDS = [
  "LINEARAGENTCLIENTSECRETDFF15E86",
  "LINEARAGENTWEBHOOKSECRET34AB9430",
  "LINEARAGENTTOKENSF079FA08",
];

interface World {
  dir: string;
  aws: FakeAws;
  qatech: FakeQaTech;
  linear: FakeLinear;
  agent: FakeLinearAgent;
  lines: string[];
  setup(
    extra?: Partial<SetupAnswers> &
      Partial<Pick<SetupOptions, "dryRun" | "interactive" | "openUrl" | "prompter">>,
  ): ReturnType<typeof runSetup>;
  /** What a workspace admin's install leaves: the token set, written as the callback writes it. */
  install(): Promise<{ accessToken: string }>;
  url(output: string): string;
  close(): Promise<void>;
}

/**
 * QA.tech, and Linear with its agent platform (simulators), one fake AWS account, and config/acme.json with
 * the agent enabled: the operator wrote the OAuth app's client ID into it (docs/linear-agent.md, "Set it up", step 2). The
 * alarm email's subscription is confirmed, so doctor's verdict is the agent's.
 */
async function world(): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), "qa-ticket-setup-agent-"));
  const aws = new FakeAws(dir);
  await aws.startEndpoint("acme");
  const qatech = await startFakeQaTech({
    apiKey: QATECH_KEY,
    keyScope: "organization",
    projectShortId: "proj_acme",
  });
  const agent = new FakeLinearAgent({ clientSecret: CLIENT_SECRET, webhookSecret: AGENT_WEBHOOK_SECRET });
  const linear = await startFakeLinear({ apiKey: LINEAR_KEY, agent });
  writeFileSync(
    join(dir, "acme.json"),
    JSON.stringify({
      qatech: { apiUrl: qatech.url, projectShortId: "proj_acme" },
      linear: { enabled: true, apiUrl: linear.url, agent: { enabled: true, clientId: agent.clientId } },
      alarmEmail: "ops@acme.example",
    }),
  );
  aws.subscriptions.push({
    Protocol: "email",
    Endpoint: "ops@acme.example",
    SubscriptionArn: "arn:aws:sns:eu-west-1:123456789012:alarms:ops",
  });
  const lines: string[] = [];
  return {
    dir,
    aws,
    qatech,
    linear,
    agent,
    lines,
    setup: ({ dryRun, interactive, openUrl, prompter, ...extra } = {}) =>
      runSetup({
        org: "acme",
        clients: aws.clients,
        deployer: aws.deployer(),
        prompter: prompter ?? noPrompter(),
        answers: {
          qatechApiKey: QATECH_KEY,
          linearApiKey: LINEAR_KEY,
          linearAgentClientSecret: CLIENT_SECRET,
          linearAgentWebhookSecret: AGENT_WEBHOOK_SECRET,
          ...extra,
        },
        print: (line) => lines.push(line),
        dryRun,
        interactive,
        // Never the system's browser in a test: an opener that only records, unless the test gives one.
        openUrl: openUrl ?? (() => undefined),
        configDir: dir,
      }),
    async install() {
      const issued = agent.issueTokens();
      const tokens = withAnswer(
        {
          appUserId: agent.appUserId,
          organizationId: agent.organization.id,
          workspace: agent.organization.name,
        },
        { ...issued, scope: "read,write,app:assignable,app:mentionable" },
      );
      await aws.clients.secrets.send(
        new PutSecretValueCommand({ SecretId: TOKENS, SecretString: JSON.stringify(tokens) }),
      );
      return { accessToken: issued.accessToken };
    },
    url: (output) => {
      const url = aws.stack?.outputs[output];
      if (!url) throw new Error(`the fake stack has no output ${output}`);
      return url;
    },
    async close() {
      await Promise.all([aws.close(), qatech.close(), linear.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const writes = (w: World) => ({
  deploys: w.aws.deploys.length,
  imports: w.aws.imports.length,
  puts: w.aws.puts.length,
  linear: w.linear.requests.filter((r) =>
    ["createWebhook", "updateWebhook", "createIssueLabel"].includes(r.operation),
  ).length,
  grants: { ...w.agent.grants },
});

const progress = (w: World) => w.lines.filter((l) => /^\[\d+\/\d+\]/.test(l));
const agentStep = (w: World) => progress(w).filter((l) => l.startsWith(`${stepPrefix("linear-agent")}:`));
const row = (rows: DoctorRow[] | undefined, check: string) => rows?.find((r) => r.check === check);

/**
 * A prompter with a person at the keyboard: typed secrets, and yes to every confirmation, given once
 * `beforeConfirm` is done (what they do in the browser first).
 */
function person(
  typed: Record<string, string>,
  beforeConfirm: () => Promise<unknown> = async () => undefined,
) {
  const asked: string[] = [];
  const prompter: Prompter = {
    ask: async (question) => {
      throw new Error(`unexpected question: ${question}`);
    },
    secret: async (question) => {
      asked.push(question);
      const key = Object.keys(typed).find((k) => question.includes(k));
      if (!key) throw new Error(`unexpected secret question: ${question}`);
      return typed[key];
    },
    confirm: async (question) => {
      asked.push(question);
      await beforeConfirm();
      return true;
    },
  };
  return { prompter, asked };
}

describe("npm run setup with the Linear agent enabled", () => {
  let w: World;
  afterEach(() => w.close());

  it("from nothing: prints what to enter in Linear, stores both secrets, and, not installed, doctor names the link", async () => {
    w = await world();

    const result = await w.setup();

    const printed = w.lines.join("\n");
    const callback = w.url("LinearCallbackUrl");
    const webhookUrl = w.url("LinearAgentWebhookUrl");
    const installUrl = w.url("LinearInstallUrl");
    expect([callback, webhookUrl, installUrl]).toEqual([
      `${w.aws.endpointUrl}/linear/callback`,
      `${w.aws.endpointUrl}/webhooks/linear-agent`,
      `${w.aws.endpointUrl}/linear/install`,
    ]);
    expect(printed).toContain("Settings -> API -> Applications");
    expect(printed).toContain(`Client ID:     ${w.agent.clientId}`);
    expect(printed).toContain(`Callback URL:  ${callback}`);
    expect(printed).toContain('Webhooks:      on, category "Agent session events"');
    expect(printed).toContain(`Webhook URL:   ${webhookUrl}`);
    expect(w.aws.value("qa-ticket/acme/linear-agent-client-secret")).toBe(CLIENT_SECRET);
    expect(w.aws.value("qa-ticket/acme/linear-agent-webhook-secret")).toBe(AGENT_WEBHOOK_SECRET);
    // Nothing writes the tokens but the install: the secret still holds the stack's placeholder.
    expect(w.aws.secrets.get(TOKENS)?.versions).toHaveLength(1);
    expect(progress(w).map((l) => l.split(":")[0])).toEqual([
      ...SETUP_STEPS.map((step) => stepPrefix(step.id)),
    ]);
    expect(agentStep(w)).toEqual([
      `${stepPrefix("linear-agent")}: stored qa-ticket/acme/linear-agent-client-secret, qa-ticket/acme/linear-agent-webhook-secret; ` +
        `not installed yet: open ${installUrl} as a workspace admin (doctor checks it)`,
    ]);
    // Setup itself does not fail on the missing install; doctor's verdict does, with the link as the fix.
    const failed = result.doctor?.rows.filter((r) => r.status !== "ok");
    expect(failed).toEqual([
      {
        check: "Linear agent installed",
        status: "FAIL",
        detail: `not installed: ${TOKENS} still holds the stack's placeholder`,
        fix: `open ${installUrl} as a Linear workspace admin and press Authorize`,
      },
    ]);
    expect(result.ok).toBe(false);
    expect(row(result.doctor?.rows, "secrets set")?.detail).toBe("5 secrets filled");
    expect(row(result.doctor?.rows, "Linear agent endpoint answers")).toMatchObject({
      status: "ok",
      detail: "signed test request: 200 ignored",
    });
    expect(w.aws.started).toEqual([]);
  });

  it("after the install, a re-run changes nothing and doctor passes, having asked Linear with the app's token", async () => {
    w = await world();
    await w.setup();
    const { accessToken } = await w.install();
    const before = writes(w);
    w.lines.length = 0;

    const again = await w.setup();

    expect(writes(w)).toEqual(before);
    expect(again.changes).toEqual([]);
    expect(agentStep(w)).toEqual([`${stepPrefix("linear-agent")}: secrets unchanged; installed in Acme Inc`]);
    expect(again.doctor?.rows.filter((r) => r.status !== "ok")).toEqual([]);
    expect(again.ok).toBe(true);
    expect(row(again.doctor?.rows, "Linear agent installed")?.detail).toBe(
      `installed: workspace Acme Inc, app user qa-tech (${w.agent.appUserId})`,
    );
    // The check went to Linear as the app (an OAuth token is a Bearer token), and refreshed nothing.
    const asked = w.linear.requests.filter((r) => r.headers.authorization === `Bearer ${accessToken}`);
    expect(asked.map((r) => r.operation).sort()).toEqual(["organization", "viewer"]);
    expect(w.agent.grants.refresh_token).toBe(0);
  });

  it("doctor: an expired access token is fine (refreshed on first use) and is neither used nor refreshed", async () => {
    w = await world();
    await w.setup();
    const { accessToken } = await w.install();
    const expiresAt = JSON.parse(w.aws.value(TOKENS) ?? "{}").expiresAt as string;

    const { rows } = await runDoctor({
      org: "acme",
      clients: w.aws.clients,
      configDir: w.dir,
      now: () => Date.parse(expiresAt) + 1000,
    });

    expect(row(rows, "Linear agent installed")).toEqual({
      check: "Linear agent installed",
      status: "ok",
      detail: `installed in Acme Inc; the access token expired at ${expiresAt} and is refreshed on first use`,
    });
    expect(w.linear.requests.some((r) => r.headers.authorization === `Bearer ${accessToken}`)).toBe(false);
    expect(w.agent.grants.refresh_token).toBe(0);
  });

  it("doctor: an unexpired token Linear refuses (revoked, uninstalled) fails with the install link", async () => {
    w = await world();
    await w.setup();
    await w.install();
    w.agent.expireAccessTokens(); // Linear no longer accepts it, though the stored expiry is a day away

    const { rows, ok } = await runDoctor({ org: "acme", clients: w.aws.clients, configDir: w.dir });

    expect(ok).toBe(false);
    expect(row(rows, "Linear agent installed")).toEqual({
      check: "Linear agent installed",
      status: "FAIL",
      detail: "Linear refused the agent's access token (revoked, or the app was uninstalled)",
      fix: `install again: open ${w.url("LinearInstallUrl")} as a Linear workspace admin and press Authorize`,
    });
    expect(w.agent.grants.refresh_token).toBe(0);
  });

  it("doctor: the signed test request fails when the agent's function checks another secret than the stored one", async () => {
    w = await world();
    await w.setup();
    await w.install();
    // The stored secret was replaced less than 5 minutes ago: the function still verifies with the old one.
    w.aws.cachedSecrets.set("qa-ticket/acme/linear-agent-webhook-secret", AGENT_WEBHOOK_SECRET);
    await w.aws.clients.secrets.send(
      new PutSecretValueCommand({
        SecretId: "qa-ticket/acme/linear-agent-webhook-secret",
        SecretString: "lin_wh_pasted_wrong",
      }),
    );

    const { rows, ok } = await runDoctor({ org: "acme", clients: w.aws.clients, configDir: w.dir });

    expect(ok).toBe(false);
    expect(rows.filter((r) => r.status === "FAIL").map((r) => r.check)).toEqual([
      "Linear agent endpoint answers",
    ]);
    expect(row(rows, "Linear agent endpoint answers")).toMatchObject({
      detail: "signed test request: 401 unauthorized",
      fix: expect.stringContaining(
        "qa-ticket/acme/linear-agent-webhook-secret must hold the OAuth app's webhook signing secret",
      ),
    });
    expect(w.aws.started).toEqual([]);
  });

  it("on a terminal: asks the two secrets masked, opens the install link, waits for the admin, then sees the install", async () => {
    w = await world();
    const opened: string[] = [];
    let installing: Promise<unknown> = Promise.resolve();
    const { prompter, asked } = person(
      { "client secret": CLIENT_SECRET, "webhook signing secret": AGENT_WEBHOOK_SECRET },
      () => installing,
    );

    const result = await w.setup({
      linearAgentClientSecret: undefined,
      linearAgentWebhookSecret: undefined,
      prompter,
      interactive: true,
      openUrl: (url) => {
        opened.push(url);
        // The admin authorizes in the browser; the callback stores the tokens before they confirm.
        installing = w.install();
      },
    });

    expect(opened).toEqual([w.url("LinearInstallUrl")]);
    expect(asked).toEqual([
      "The OAuth app's client secret (LINEAR_AGENT_CLIENT_SECRET):",
      "The OAuth app's webhook signing secret (LINEAR_AGENT_WEBHOOK_SECRET):",
      "Authorized in Linear?",
    ]);
    expect(w.aws.value("qa-ticket/acme/linear-agent-client-secret")).toBe(CLIENT_SECRET);
    expect(w.aws.value("qa-ticket/acme/linear-agent-webhook-secret")).toBe(AGENT_WEBHOOK_SECRET);
    expect(agentStep(w)).toEqual([
      `${stepPrefix("linear-agent")}: stored qa-ticket/acme/linear-agent-client-secret, qa-ticket/acme/linear-agent-webhook-secret; ` +
        "installed in Acme Inc",
    ]);
    expect(result.ok).toBe(true);
  });

  it("on a terminal, says it is not installed when the admin confirms but the install stored nothing", async () => {
    w = await world();
    const opened: string[] = [];
    const { prompter } = person({});

    const result = await w.setup({ prompter, interactive: true, openUrl: (url) => opened.push(url) });

    expect(opened).toHaveLength(1);
    expect(agentStep(w)[0]).toMatch(
      /; the install stored no tokens: not installed yet: open http:\S+\/linear\/install/,
    );
    expect(row(result.doctor?.rows, "Linear agent installed")?.status).toBe("FAIL");
  });

  it("with --dry-run changes nothing, stores no secret and opens nothing, from nothing and when not installed", async () => {
    w = await world();
    const opened: string[] = [];
    const { prompter } = person({});

    const fresh = await w.setup({
      dryRun: true,
      prompter,
      interactive: true,
      openUrl: (u) => opened.push(u),
    });

    expect(writes(w)).toMatchObject({ deploys: 0, imports: 0, puts: 0, linear: 0 });
    expect(fresh.changes).toEqual(
      expect.arrayContaining([
        "store qa-ticket/acme/linear-agent-client-secret",
        "store qa-ticket/acme/linear-agent-webhook-secret",
      ]),
    );
    expect(w.lines.join("\n")).toContain("Callback URL:  <LinearCallbackUrl of the stack, once deployed>");
    expect(agentStep(w)[0]).toMatch(/would store .*; once deployed, install it: open <LinearInstallUrl/);

    await w.setup();
    const before = writes(w);
    w.lines.length = 0;
    const again = await w.setup({
      dryRun: true,
      prompter,
      interactive: true,
      openUrl: (u) => opened.push(u),
    });

    expect(writes(w)).toEqual(before);
    expect(again.changes).toEqual([]);
    expect(opened).toEqual([]);
    expect(agentStep(w)[0]).toMatch(/secrets unchanged; not installed yet: open http:\S+\/linear\/install/);
  });

  it("after cdk destroy, adopts the agent's retained secrets (tokens included) and keeps the install", async () => {
    w = await world();
    await w.setup();
    await w.install();
    w.aws.stack = null; // cdk destroy: the stack goes, the retained secrets stay
    const putsBefore = w.aws.puts.length;
    w.lines.length = 0;

    const result = await w.setup();

    const [mapping] = w.aws.imports;
    expect(w.aws.imports).toHaveLength(1);
    expect(mapping).toEqual(
      expect.objectContaining({
        LINEARAGENTCLIENTSECRETDFF15E86: {
          Id: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:qa-ticket/acme/linear-agent-client-secret-AbCdEf",
        },
        LINEARAGENTWEBHOOKSECRET34AB9430: {
          Id: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:qa-ticket/acme/linear-agent-webhook-secret-AbCdEf",
        },
        LINEARAGENTTOKENSF079FA08: {
          Id: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:qa-ticket/acme/linear-agent-tokens-AbCdEf",
        },
      }),
    );
    expect(Object.keys(mapping)).toHaveLength(7);
    // Two lines for the stack step, both numbered as the stack step.
    expect(progress(w).map((l) => l.split(":")[0])).toEqual([
      ...SETUP_STEPS.flatMap((step) =>
        step.id === "stack" ? [stepPrefix("stack"), stepPrefix("stack")] : [stepPrefix(step.id)],
      ),
    ]);
    expect(w.lines.join("\n")).toContain("adopt 7 secrets kept from an earlier deployment (cdk import)");
    expect(w.aws.deploys).toEqual(["acme", "acme"]);
    expect(w.aws.puts.length).toBe(putsBefore);
    // The install outlived the stack, but the new stack's URLs must be entered in the OAuth app by hand.
    expect(agentStep(w)).toEqual([
      `${stepPrefix("linear-agent")}: secrets unchanged; installed in Acme Inc; the stack is new, and so are its URLs: ` +
        "enter the callback and webhook URLs above in the OAuth app",
    ]);
    expect(result.ok).toBe(true);
  });
});

describe("the Linear agent's secrets in the stack", () => {
  it("are all retained on cdk destroy, under the logical ids setup adopts them with", () => {
    const dir = mkdtempSync(join(tmpdir(), "qa-ticket-agent-stack-"));
    try {
      writeFileSync(
        join(dir, "acme.json"),
        JSON.stringify({
          qatech: {},
          linear: { agent: { enabled: true, clientId: "qa_ticket_client_1234" } },
        }),
      );
      const config = loadOrgConfig("acme", dir);
      const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
      const template = Template.fromStack(new QaTicketStack(app, "QaTicket-acme", { config })).toJSON();
      const secrets = Object.entries(
        template.Resources as Record<
          string,
          {
            Type: string;
            DeletionPolicy?: string;
            UpdateReplacePolicy?: string;
            Properties: { Name: string };
          }
        >,
      ).filter(([, r]) => r.Type === "AWS::SecretsManager::Secret");

      expect(secrets.map(([id, r]) => [id, r.DeletionPolicy, r.UpdateReplacePolicy])).toEqual(
        secrets.map(([id]) => [id, "Retain", "Retain"]),
      );
      const ids = Object.fromEntries(secrets.map(([id, r]) => [r.Properties.Name, id]));
      expect(ids).toMatchObject({
        "qa-ticket/acme/linear-agent-client-secret": AGENT_SECRET_IDS[0],
        "qa-ticket/acme/linear-agent-webhook-secret": AGENT_SECRET_IDS[1],
        "qa-ticket/acme/linear-agent-tokens": AGENT_SECRET_IDS[2],
      });
      // The fake account's deployer tags its secrets with these same ids.
      for (const [name, id] of Object.entries(ids))
        expect([name, SECRET_LOGICAL_IDS[name.replace("qa-ticket/acme/", "")]]).toEqual([name, id]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
