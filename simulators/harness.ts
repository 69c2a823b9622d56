import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { adfToText } from "../functions/shared/trackers/jira/adf-text";
import { type LocalRunner, startLocalRunner } from "../local/runner";
import { type FakeJira, type FakeJiraComment, type FakeJiraOptions, startFakeJira } from "./jira";
import { type FakeLinear, type FakeLinearComment, type FakeLinearOptions, startFakeLinear } from "./linear";
import { FakeLinearAgent, type FakeLinearAgentOptions } from "./linear-agent";
import { type FakeQaTech, type FakeQaTechOptions, startFakeQaTech } from "./qatech";
import { linearFixture, signedLinearDelivery } from "./signing";

export const LINEAR_WEBHOOK_SECRET = "lin_wh_test_secret";
export const QATECH_API_KEY = "qa-test-key";
export const LINEAR_API_KEY = "lin_api_test";
export const JIRA_WEBHOOK_SECRET = "jira_wh_test_secret";
export const JIRA_EMAIL = "qa-bot@example.com";
export const JIRA_API_TOKEN = "jira-api-token";

/** Reads a Jira webhook fixture (test/fixtures/jira/<name>.json). */
export function jiraFixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(__dirname, "..", "test", "fixtures", "jira", `${name}.json`), "utf8"));
}

/** The headers Jira sends with a delivery signed with `secret` (X-Hub-Signature: sha256=<hex>). */
export function signedJiraHeaders(body: string, secret: string): Record<string, string> {
  return {
    "content-type": "application/json",
    "x-atlassian-webhook-identifier": "1234-5678",
    "x-hub-signature": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
  };
}

/**
 * The issues of the Linear webhook fixtures as the fake workspace holds them when their webhook arrives:
 * their text, their team, and the trigger label.
 */
function fixtureIssues(): Required<Pick<FakeLinearOptions, "issues" | "issueTeamIds" | "issueLabelIds">> {
  const workspace = { issues: {}, issueTeamIds: {}, issueLabelIds: {} } as ReturnType<typeof fixtureIssues>;
  for (const name of ["Issue.update.label-added", "Issue.create.with-label"]) {
    const data = linearFixture(name).data as Record<string, string>;
    const { identifier, title, description, url } = data;
    workspace.issues[data.id] = { identifier, title, description, url };
    workspace.issueTeamIds[data.id] = data.teamId;
    workspace.issueLabelIds[data.id] = ["lbl-needs-test"];
  }
  return workspace;
}

type Sent = { status: number; body: Record<string, unknown> };

export interface Harness {
  runner: LocalRunner;
  qatech: FakeQaTech;
  linear: FakeLinear;
  jira: FakeJira;
  /** Linear as an agent platform, when started with `agent`. */
  agent: FakeLinearAgent;
  /** Linear comments that open a thread: the acknowledgements. */
  linearAcks(): FakeLinearComment[];
  /** Linear comments that end a run (reply, command answer or failure), without the acknowledgements. */
  linearReplies(): FakeLinearComment[];
  jiraAcks(): FakeJiraComment[];
  jiraReplies(): FakeJiraComment[];
  /** Sends a Linear fixture (or payload) as a signed delivery to the runner; returns status and JSON body. */
  sendLinear(
    fixture: string | Record<string, unknown>,
    options?: { secret?: string; timestamp?: number; headers?: Record<string, string> },
  ): Promise<Sent>;
  /** Sends a Jira fixture (or payload) signed with X-Hub-Signature; headers given as null are left out. */
  sendJira(
    fixture: string | Record<string, unknown>,
    options?: { secret?: string; headers?: Record<string, string | null> },
  ): Promise<Sent>;
  close(): Promise<void>;
}

/**
 * The whole product on one machine: the local runner against the QA.tech, Linear and Jira simulators.
 * WAIT_SCALE 0.01 turns the 3 s first wait into 30 ms; the schedule itself is unchanged.
 */
export async function startHarness(
  options: {
    qatech?: FakeQaTechOptions;
    linear?: FakeLinearOptions;
    jira?: FakeJiraOptions;
    env?: Record<string, string>;
    /** QA.tech as a Linear agent: the simulator's agent platform, and the runner's agent variables. */
    agent?: FakeLinearAgentOptions & { installed?: boolean };
  } = {},
): Promise<Harness> {
  // An organisation-scoped key, the kind the README has operators create: every POST must name its project
  // (QATECH_PROJECT_SHORT_ID below).
  const qatech = await startFakeQaTech({
    apiKey: QATECH_API_KEY,
    keyScope: "organization",
    ...options.qatech,
  });
  const fixtures = fixtureIssues();
  const agent = new FakeLinearAgent(options.agent);
  const linear = await startFakeLinear({
    apiKey: LINEAR_API_KEY,
    ...(options.agent ? { agent } : {}),
    ...options.linear,
    issues: { ...fixtures.issues, ...options.linear?.issues },
    issueTeamIds: { ...fixtures.issueTeamIds, ...options.linear?.issueTeamIds },
    issueLabelIds: { ...fixtures.issueLabelIds, ...options.linear?.issueLabelIds },
  });
  const jira = await startFakeJira({ email: JIRA_EMAIL, apiToken: JIRA_API_TOKEN, ...options.jira });
  const runner = await startLocalRunner({
    port: 0,
    env: {
      QATECH_API_KEY,
      QATECH_API_URL: qatech.url,
      QATECH_PROJECT_SHORT_ID: "proj_demo",
      LINEAR_API_KEY,
      LINEAR_API_URL: linear.url,
      LINEAR_WEBHOOK_SECRET,
      JIRA_BASE_URL: jira.url,
      JIRA_EMAIL,
      JIRA_API_TOKEN,
      JIRA_WEBHOOK_SECRET,
      WAIT_SCALE: "0.01",
      ...(options.agent ? agentEnv(agent, linear.url, options.agent.installed ?? true) : {}),
      ...options.env,
    },
  });
  agent.webhookUrl = `${runner.url}/webhooks/linear-agent`;
  agent.redirectUris.add(`${runner.url}/linear/callback`);
  const post = async (path: string, headers: Record<string, string>, body: string): Promise<Sent> => {
    const res = await fetch(`${runner.url}${path}`, { method: "POST", headers, body });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : {} };
  };
  const isAck = (text: string) => /^QA\.tech is (on it|reviewing)/.test(text);
  return {
    runner,
    qatech,
    linear,
    jira,
    agent,
    linearAcks: () => linear.comments.filter((c) => isAck(c.body)),
    linearReplies: () => linear.comments.filter((c) => !isAck(c.body)),
    jiraAcks: () => jira.comments.filter((c) => isAck(adfToText(c.body))),
    jiraReplies: () => jira.comments.filter((c) => !isAck(adfToText(c.body))),
    async sendLinear(fixture, opts = {}) {
      const payload = typeof fixture === "string" ? linearFixture(fixture) : fixture;
      const delivery = signedLinearDelivery(payload, opts.secret ?? LINEAR_WEBHOOK_SECRET, opts);
      return post("/webhooks/linear", { ...delivery.headers, ...opts.headers }, delivery.body);
    },
    async sendJira(fixture, opts = {}) {
      const body = JSON.stringify(typeof fixture === "string" ? jiraFixture(fixture) : fixture);
      const headers: Record<string, string> = signedJiraHeaders(body, opts.secret ?? JIRA_WEBHOOK_SECRET);
      for (const [name, value] of Object.entries(opts.headers ?? {})) {
        if (value === null) delete headers[name];
        else headers[name] = value;
      }
      return post("/webhooks/jira", headers, body);
    },
    async close() {
      await runner.close();
      await Promise.all([qatech.close(), linear.close(), jira.close()]);
    },
  };
}

/** The runner's variables for the Linear agent; `installed` seeds its token store as a finished install would. */
export function agentEnv(
  agent: FakeLinearAgent,
  linearUrl: string,
  installed: boolean,
): Record<string, string> {
  const env: Record<string, string> = {
    LINEAR_AGENT_CLIENT_ID: agent.clientId,
    LINEAR_AGENT_CLIENT_SECRET: agent.clientSecret,
    LINEAR_AGENT_WEBHOOK_SECRET: agent.webhookSecret,
    LINEAR_OAUTH_AUTHORIZE_URL: new URL("/oauth/authorize", linearUrl).toString(),
  };
  if (installed) {
    const issued = agent.issueTokens();
    env.LINEAR_AGENT_TOKENS = JSON.stringify({
      accessToken: issued.accessToken,
      refreshToken: issued.refreshToken,
      expiresAt: new Date(Date.now() + issued.expiresIn * 1000).toISOString(),
      appUserId: agent.appUserId,
      organizationId: agent.organization.id,
      workspace: agent.organization.name,
    });
  }
  return env;
}
