import { App } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { executionName } from "../../../functions/shared/domain/ticket";
import { sessionRunPrefix } from "../../../functions/shared/trackers/linear-agent/session";
import { parseOrgConfig } from "../../../lib/config";
import { AGENT_RUN_PREFIX } from "../../../lib/constructs/linear-agent";
import { QaTicketStack } from "../../../lib/qa-ticket-stack";

interface Statement {
  Action: string | string[];
  Resource: unknown;
}
interface LambdaResource {
  Properties: {
    Description?: string;
    Role: { "Fn::GetAtt": [string, string] };
    Environment?: { Variables?: Record<string, unknown> };
  };
}
interface PolicyResource {
  Properties: { Roles: Array<{ Ref?: string }>; PolicyDocument: { Statement: Statement[] } };
}

const agentConfig = (agent: Record<string, unknown>) =>
  parseOrgConfig("acme", { qatech: {}, linear: { agent } }, "test config");

function template(agent: Record<string, unknown>): Template {
  const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
  return Template.fromStack(new QaTicketStack(app, "QaTicket-acme", { config: agentConfig(agent) }));
}

describe("the Linear agent in the stack", () => {
  const enabled = template({ enabled: true, clientId: "qa_ticket_client_1234" });

  /** The function whose description matches, and the statements of its role's policies. */
  function fn(description: RegExp): { environment: Record<string, unknown>; statements: Statement[] } {
    const functions = Object.values(enabled.findResources("AWS::Lambda::Function")) as LambdaResource[];
    const found = functions.filter((f) => description.test(f.Properties.Description ?? ""));
    expect(found).toHaveLength(1);
    const role = found[0].Properties.Role["Fn::GetAtt"][0];
    const policies = Object.values(enabled.findResources("AWS::IAM::Policy")) as PolicyResource[];
    const statements = policies
      .filter((p) => p.Properties.Roles.some((r) => r.Ref === role))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    return { environment: found[0].Properties.Environment?.Variables ?? {}, statements };
  }
  const actionsOf = (statement: Statement): string[] => [statement.Action].flat();
  const secretId = (name: string): string =>
    Object.keys(enabled.findResources("AWS::SecretsManager::Secret", { Properties: { Name: name } }))[0];
  const tokensSecret = secretId("qa-ticket/acme/linear-agent-tokens");
  const markerSecret = secretId("qa-ticket/acme/marker-key");

  it("lets the agent's webhook stop only the agent's runs, not a ticket's", () => {
    const webhook = fn(/^Verifies the Linear agent/);
    const stops = webhook.statements.filter((s) => actionsOf(s).includes("states:StopExecution"));
    expect(stops).toHaveLength(1);
    expect(actionsOf(stops[0])).toEqual(["states:StopExecution"]);
    expect(JSON.stringify(stops[0].Resource)).toMatch(
      /:execution:",\{"Fn::Select":\[6,\{"Fn::Split":\[":",\{"Ref":"WorkflowStateMachine[0-9A-F]+"\}\]\}\]\},":linear-agent-\*"/,
    );
    // The prefix is the one the agent names its runs with, and a ticket's run never has it.
    expect(sessionRunPrefix("session-1").startsWith(AGENT_RUN_PREFIX)).toBe(true);
    expect(executionName("linear", "ENG-42", "x").startsWith(AGENT_RUN_PREFIX)).toBe(false);
    expect(executionName("jira", "AGENT-1", "x").startsWith(AGENT_RUN_PREFIX)).toBe(false);
  });

  it.each([
    ["the install function", /installs QA.tech as a Linear agent/],
    ["the token refresher", /refreshes the Linear agent's OAuth tokens/],
  ])("%s may put a new token set, but not change the secret or its version stages", (_, description) => {
    const { statements } = fn(description);
    const onTokens = statements.filter((s) => JSON.stringify(s.Resource).includes(`"${tokensSecret}"`));
    expect(onTokens.flatMap(actionsOf).sort()).toEqual([
      "secretsmanager:DescribeSecret",
      "secretsmanager:GetSecretValue",
      "secretsmanager:PutSecretValue",
    ]);
  });

  it("grants no function UpdateSecret or UpdateSecretVersionStage", () => {
    expect(JSON.stringify(enabled.findResources("AWS::IAM::Policy"))).not.toMatch(
      /secretsmanager:UpdateSecret/,
    );
  });

  it("keeps the marker key away from the internet-facing install function", () => {
    const { environment, statements } = fn(/installs QA.tech as a Linear agent/);
    expect(markerSecret).toBeDefined();
    expect(environment).not.toHaveProperty("MARKER_KEY_SECRET_ARN");
    expect(JSON.stringify(statements)).not.toContain(markerSecret);
    expect(environment).toHaveProperty("LINEAR_AGENT_CLIENT_SECRET_SECRET_ARN");
  });

  it("serves the install pages and the agent's webhook on the HTTP API", () => {
    for (const routeKey of ["GET /linear/install", "GET /linear/callback", "POST /webhooks/linear-agent"])
      enabled.hasResourceProperties("AWS::ApiGatewayV2::Route", { RouteKey: routeKey });
  });

  it("refreshes tokens in one function that never runs twice at once", () => {
    enabled.hasResourceProperties("AWS::Lambda::Function", {
      Description: Match.stringLikeRegexp("refreshes the Linear agent's OAuth tokens"),
      ReservedConcurrentExecutions: 1,
    });
    enabled.hasResourceProperties("AWS::SecretsManager::Secret", {
      Name: "qa-ticket/acme/linear-agent-tokens",
    });
  });

  it("refreshes the tokens ahead of their expiry on a schedule, not only when a caller asks", () => {
    const refresher = Object.keys(
      enabled.findResources("AWS::Lambda::Function", {
        Properties: { Description: Match.stringLikeRegexp("refreshes the Linear agent's OAuth tokens") },
      }),
    )[0];
    enabled.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(4 hours)",
      State: "ENABLED",
      Targets: [
        Match.objectLike({
          Arn: { "Fn::GetAtt": [refresher, "Arn"] },
          Input: JSON.stringify({ scheduled: true }),
        }),
      ],
    });
    enabled.hasResourceProperties("AWS::Lambda::Permission", {
      FunctionName: { "Fn::GetAtt": [refresher, "Arn"] },
      Principal: "events.amazonaws.com",
    });
  });

  it("gives the install pages their own small throttle and concurrency, apart from the webhooks'", () => {
    enabled.hasResourceProperties("AWS::Lambda::Function", {
      Description: Match.stringLikeRegexp("installs QA.tech as a Linear agent"),
      ReservedConcurrentExecutions: 2,
    });
    const [stage] = Object.values(enabled.findResources("AWS::ApiGatewayV2::Stage"));
    const settings = stage.Properties.RouteSettings;
    for (const page of ["GET /linear/install", "GET /linear/callback"])
      expect(settings[page]).toEqual({ ThrottlingRateLimit: 1, ThrottlingBurstLimit: 5 });
    expect(settings["POST /webhooks/linear-agent"]).toEqual({ DetailedMetricsEnabled: true });
    // CloudFormation refuses settings for a route that does not exist yet.
    const routes = Object.keys(enabled.findResources("AWS::ApiGatewayV2::Route"));
    expect(stage.DependsOn).toEqual(expect.arrayContaining(routes));
  });

  it("alarms on the webhooks' 5xx only: the install pages' errors never feed WebhookServerErrors", () => {
    const alarms = enabled.findResources("AWS::CloudWatch::Alarm", {
      Properties: { AlarmDescription: Match.stringLikeRegexp("a webhook answered 5xx") },
    });
    const [alarm] = Object.values(alarms);
    const metrics = alarm.Properties.Metrics.filter((m: { MetricStat?: unknown }) => m.MetricStat);
    const routes = metrics.map(
      (m: {
        MetricStat: { Metric: { MetricName: string; Dimensions: Array<{ Name: string; Value: string }> } };
      }) => {
        expect(m.MetricStat.Metric.MetricName).toBe("5xx");
        return m.MetricStat.Metric.Dimensions.find((d) => d.Name === "Route")?.Value;
      },
    );
    expect(routes.sort()).toEqual(["POST /webhooks/linear", "POST /webhooks/linear-agent"]);
  });

  it("lets the agent's webhook stop executions and read the running ones", () => {
    const policies = JSON.stringify(enabled.findResources("AWS::IAM::Policy"));
    expect(policies).toContain("states:StopExecution");
    expect(policies).toContain("states:ListExecutions");
  });

  it("lets the agent's webhook read the marker key: its activity ids are keyed with it", () => {
    const functions = enabled.findResources("AWS::Lambda::Function", {
      Properties: { Description: Match.stringLikeRegexp("Verifies the Linear agent") },
    });
    const [webhook] = Object.values(functions);
    const variables = webhook.Properties.Environment.Variables;
    expect(Object.keys(variables)).toEqual(
      expect.arrayContaining(["MARKER_KEY_SECRET_ARN", "LINEAR_AGENT_WEBHOOK_SECRET_SECRET_ARN"]),
    );
    const role = webhook.Properties.Role["Fn::GetAtt"][0];
    const policies = Object.values(enabled.findResources("AWS::IAM::Policy")).filter((p) =>
      p.Properties.Roles.some((r: { Ref?: string }) => r.Ref === role),
    );
    expect(JSON.stringify(policies)).toContain(JSON.stringify(variables.MARKER_KEY_SECRET_ARN));
  });

  it("adds nothing when the agent is off", () => {
    const off = template({ enabled: false });
    expect(JSON.stringify(off.toJSON())).not.toMatch(/linear-agent|LinearTokenRefresher|\/linear\/install/);
  });

  it("refuses an enabled agent without its OAuth client id, naming the field", () => {
    expect(() => agentConfig({ enabled: true })).toThrow(/linear\.agent\.clientId is required/);
  });
});
