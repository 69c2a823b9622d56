import { App } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { parseOrgConfig } from "../../../lib/config";
import { QaTicketStack } from "../../../lib/qa-ticket-stack";

const agentConfig = (agent: Record<string, unknown>) =>
  parseOrgConfig("acme", { qatech: {}, linear: { agent } }, "test config");

function template(agent: Record<string, unknown>): Template {
  const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
  return Template.fromStack(new QaTicketStack(app, "QaTicket-acme", { config: agentConfig(agent) }));
}

describe("the Linear agent in the stack", () => {
  const enabled = template({ enabled: true, clientId: "qa_ticket_client_1234" });

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

  it("adds nothing when the agent is off", () => {
    const off = template({ enabled: false });
    expect(JSON.stringify(off.toJSON())).not.toMatch(/linear-agent|LinearTokenRefresher|\/linear\/install/);
  });

  it("refuses an enabled agent without its OAuth client id, naming the field", () => {
    expect(() => agentConfig({ enabled: true })).toThrow(/linear\.agent\.clientId is required/);
  });
});
