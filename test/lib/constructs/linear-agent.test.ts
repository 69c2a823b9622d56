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

  it("adds nothing when the agent is off", () => {
    const off = template({ enabled: false });
    expect(JSON.stringify(off.toJSON())).not.toMatch(/linear-agent|LinearTokenRefresher|\/linear\/install/);
  });

  it("refuses an enabled agent without its OAuth client id, naming the field", () => {
    expect(() => agentConfig({ enabled: true })).toThrow(/linear\.agent\.clientId is required/);
  });
});
