import { ListExecutionsCommand, SFNClient, StopExecutionCommand } from "@aws-sdk/client-sfn";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-jest";
import { createWebhook } from "../../../functions/linear-agent-webhook";
import type { Trigger } from "../../../functions/shared/domain/ticket";
import { clearSecretCache } from "../../../functions/shared/platform/secrets";
import { sessionRunPrefix } from "../../../functions/shared/trackers/linear-agent/session";
import { setAgentTokenAccess } from "../../../functions/shared/trackers/linear-agent/token-store";
import type { StopRuns } from "../../../functions/shared/webhook/handler";
import { stepFunctionsStopper } from "../../../functions/shared/webhook/starter";
import { MemoryTokenStore } from "../../../local/linear-agent";
import { type FakeLinear, ratelimitedFault, startFakeLinear } from "../../../simulators/linear";
import { type FakeAgentSession, FakeLinearAgent } from "../../../simulators/linear-agent";
import { linearFixture, signedLinearDelivery } from "../../../simulators/signing";
import { settingsEnv } from "../../support/settings";

const AGENT_SECRET = "lin_wh_agent_unit_secret";
const WORKSPACE_WEBHOOK_SECRET = "lin_wh_workspace_secret";
const SESSION_ID = "5a0b2c1d-7e6f-4a3b-9c8d-1e2f3a4b5c6d";
const ISSUE_ID = "539068e2-ae88-4d09-bd75-22eb4a59612f";
const FIXTURE_ORGANIZATION_ID = "dc844923-f9a4-40a3-825c-dea7747e57d6";

function event(
  fixture: string,
  options: { secret?: string; timestamp?: number; signature?: string | null } = {},
) {
  const signed = signedLinearDelivery(linearFixture(fixture), options.secret ?? AGENT_SECRET, options);
  const headers = { ...signed.headers };
  if (options.signature === null) delete (headers as Record<string, string>)["linear-signature"];
  return {
    version: "2.0",
    rawPath: "/webhooks/linear-agent",
    headers,
    body: signed.body,
    isBase64Encoded: false,
    requestContext: { http: { method: "POST", path: "/webhooks/linear-agent" } },
  } as unknown as APIGatewayProxyEventV2;
}

describe("the Linear agent's webhook", () => {
  let linear: FakeLinear;
  let agent: FakeLinearAgent;
  let session: FakeAgentSession;
  let started: Array<{ trigger: Trigger; activitiesAtStart: number }>;
  let stopped: string[];
  const saved = { ...process.env };

  const handler = () => {
    const start = async (trigger: Trigger) => {
      // What Linear had already received when the run was started.
      started.push({ trigger, activitiesAtStart: session.activities.length });
      return "started" as const;
    };
    const stop: StopRuns = async (prefix) => {
      stopped.push(prefix);
      return 1;
    };
    return createWebhook(start, process.env, stop);
  };

  beforeEach(async () => {
    clearSecretCache();
    // The fixtures' workspace: a delivery for another one than the stored install's is ignored.
    agent = new FakeLinearAgent({
      organization: { id: FIXTURE_ORGANIZATION_ID, name: "Acme Inc", urlKey: "acme" },
    });
    linear = await startFakeLinear({
      agent,
      issues: {
        [ISSUE_ID]: { identifier: "ENG-42", title: "Checkout", url: "https://linear.app/acme/issue/ENG-42" },
      },
    });
    session = agent.addSession({ id: SESSION_ID, issueId: ISSUE_ID, creatorId: "user-jane" });
    Object.assign(
      process.env,
      settingsEnv({ linear: { apiUrl: linear.url, agent: { enabled: true, clientId: agent.clientId } } }),
      {
        LINEAR_AGENT_WEBHOOK_SECRET: AGENT_SECRET,
        LINEAR_WEBHOOK_SECRET: WORKSPACE_WEBHOOK_SECRET,
        // The activity ids are keyed with it.
        MARKER_KEY: "agent-webhook-unit-marker-key",
      },
    );
    const issued = agent.issueTokens();
    const store = new MemoryTokenStore(
      JSON.stringify({
        ...issued,
        expiresAt: new Date(Date.now() + 3600_000).toISOString(),
        appUserId: agent.appUserId,
        organizationId: agent.organization.id,
        workspace: agent.organization.name,
      }),
    );
    setAgentTokenAccess({ store, refresh: async () => (await store.read()) as never });
    started = [];
    stopped = [];
  });

  afterEach(async () => {
    setAgentTokenAccess(undefined);
    process.env = { ...saved };
    await linear.close();
  });

  it("posts the first thought before it starts the run, then answers 200", async () => {
    const res = await (await handler())(event("AgentSessionEvent.created"));

    expect(res.statusCode).toBe(200);
    expect(started).toHaveLength(1);
    expect(started[0].activitiesAtStart).toBe(1);
    expect(session.activities[0].content).toEqual({
      type: "thought",
      body: "Opening a QA.tech conversation...",
    });
    expect(started[0].trigger.ticket).toMatchObject({
      tracker: "linear-agent",
      key: "ENG-42",
      sessionId: SESSION_ID,
    });
    expect(started[0].trigger.ticket.description).toContain("@QA.tech check the empty-cart case");
  });

  it("answers 500 and starts nothing when Linear's rate limit refuses the first thought (Linear delivers again)", async () => {
    linear.failNext({ operation: "createAgentActivity", fault: ratelimitedFault({ retryAfterSeconds: 30 }) });

    const res = await (await handler())(event("AgentSessionEvent.created"));

    expect(res.statusCode).toBe(500);
    expect(started).toHaveLength(0);
  });

  it("sends a message in the session to the run's follow-up path", async () => {
    const res = await (await handler())(event("AgentSessionEvent.prompted"));

    expect(res.statusCode).toBe(200);
    expect(started[0].trigger.followUp).toMatchObject({
      commentId: "a11ce000-0000-4000-8000-000000000001",
      parentId: SESSION_ID,
      text: "Does it also work on mobile Safari?",
    });
    expect(started[0].trigger.runId.startsWith(`${sessionRunPrefix(SESSION_ID)}-`)).toBe(true);
  });

  it("stops the session's runs on a stop request and ends the session with a response, starting nothing", async () => {
    const res = await (await handler())(event("AgentSessionEvent.prompted.stop"));

    expect(JSON.parse(res.body as string).outcome).toBe("stopped");
    expect(stopped).toEqual([sessionRunPrefix(SESSION_ID)]);
    expect(started).toHaveLength(0);
    expect(session.activities.at(-1)?.content.type).toBe("response");
  });

  it("refuses a delivery signed with the workspace webhook's secret instead of the OAuth app's", async () => {
    const res = await (await handler())(
      event("AgentSessionEvent.created", { secret: WORKSPACE_WEBHOOK_SECRET }),
    );

    expect(res.statusCode).toBe(401);
    expect(session.activities).toHaveLength(0);
  });

  it("refuses a stale delivery and one without Linear-Signature", async () => {
    const stale = await (await handler())(
      event("AgentSessionEvent.created", { timestamp: Date.now() - 5 * 60_000 }),
    );
    const unsigned = await (await handler())(event("AgentSessionEvent.created", { signature: null }));

    expect([stale.statusCode, unsigned.statusCode]).toEqual([401, 401]);
    expect(started).toHaveLength(0);
  });
});

describe("stopping a session's executions in Step Functions", () => {
  const sfn = mockClient(SFNClient);
  beforeEach(() => sfn.reset());
  const arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:Workflow";
  const execution = (name: string) => ({
    name,
    executionArn: `arn:aws:states:eu-west-1:123456789012:execution:Workflow:${name}`,
    stateMachineArn: arn,
    status: "RUNNING" as const,
    startDate: new Date(),
  });

  it("stops every running execution whose name has the session's prefix, across pages, and no other", async () => {
    sfn
      .on(ListExecutionsCommand, { nextToken: undefined })
      .resolves({ executions: [execution("linear-agent-aaa"), execution("linear-ENG-1-x")], nextToken: "p2" })
      .on(ListExecutionsCommand, { nextToken: "p2" })
      .resolves({ executions: [execution("linear-agent-aaa-123"), execution("linear-agent-bbb")] });
    sfn.on(StopExecutionCommand).resolves({ stopDate: new Date() });

    const count = await stepFunctionsStopper({ STATE_MACHINE_ARN: arn })("linear-agent-aaa", "asked to stop");

    expect(count).toBe(2);
    expect(sfn).toHaveReceivedCommandWith(ListExecutionsCommand, {
      stateMachineArn: arn,
      statusFilter: "RUNNING",
    });
    expect(
      sfn.commandCalls(StopExecutionCommand).map((c) => c.args[0].input.executionArn?.split(":").at(-1)),
    ).toEqual(["linear-agent-aaa", "linear-agent-aaa-123"]);
    expect(sfn).toHaveReceivedCommandWith(StopExecutionCommand, {
      error: "SessionStopped",
      cause: "asked to stop",
    });
  });

  it("stops, of the executions with the prefix, only those `accept` takes (a label run by its session)", async () => {
    sfn
      .on(ListExecutionsCommand)
      .resolves({ executions: [execution("linear-agent-issue-1-a"), execution("linear-agent-issue-1-b")] });
    sfn.on(StopExecutionCommand).resolves({ stopDate: new Date() });

    const count = await stepFunctionsStopper({ STATE_MACHINE_ARN: arn })(
      "linear-agent-issue-1",
      "asked to stop",
      (name) => name.endsWith("-b"),
    );

    expect(count).toBe(1);
    expect(
      sfn.commandCalls(StopExecutionCommand).map((c) => c.args[0].input.executionArn?.split(":").at(-1)),
    ).toEqual(["linear-agent-issue-1-b"]);
  });
});
