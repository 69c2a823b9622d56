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

  it("lets the agent's webhook stop executions and read the running ones", () => {
    const policies = JSON.stringify(enabled.findResources("AWS::IAM::Policy"));
    expect(policies).toContain("states:StopExecution");
    expect(policies).toContain("states:ListExecutions");
  });

  it("lets the agent's webhook read the marker key: its activity ids are keyed with it", () => {
    const functions = enabled.findResources("AWS::Lambda::Function", {
      Properties: { Description: Match.stringLikeRegexp("Verifies LinearAgent webhooks") },
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
