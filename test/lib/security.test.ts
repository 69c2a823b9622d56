import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { parseOrgConfig } from "../../lib/config";
import { QaTicketStack } from "../../lib/qa-ticket-stack";

/**
 * SECURITY.md's promises about the stack, each tried against the synthesized template: the workflow's logs
 * carry no execution data, and only the install and the refresher may write the Linear agent's tokens.
 */
const config = parseOrgConfig(
  "acme",
  {
    qatech: {},
    linear: { agent: { enabled: true, clientId: "qa_ticket_client_1234" } },
    jira: { enabled: true, baseUrl: "https://acme.atlassian.net" },
  },
  "test config",
);
const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
const template = Template.fromStack(new QaTicketStack(app, "QaTicket-acme", { config }));
const resources = template.toJSON().Resources as Record<
  string,
  { Type: string; Properties: Record<string, unknown> }
>;

/** The logical id of the one resource of `type` whose properties match. */
function idOf(type: string, match: (properties: Record<string, unknown>) => boolean): string {
  const found = Object.entries(resources).filter(([, r]) => r.Type === type && match(r.Properties ?? {}));
  expect(found).toHaveLength(1);
  return found[0][0];
}

describe("SECURITY.md, on the synthesized stack", () => {
  it("logs every state of the workflow, but never the execution data (ticket text, replies)", () => {
    const machine = Object.values(resources).find((r) => r.Type === "AWS::StepFunctions::StateMachine");
    expect(machine?.Properties.LoggingConfiguration).toMatchObject({
      Level: "ALL",
      IncludeExecutionData: false,
    });
  });

  it("lets only the install function and the token refresher write the Linear agent's tokens", () => {
    const tokens = idOf(
      "AWS::SecretsManager::Secret",
      (p) => p.Name === "qa-ticket/acme/linear-agent-tokens",
    );
    const refresher = idOf("AWS::Lambda::Function", (p) =>
      String(p.Description).includes("refreshes the Linear agent's OAuth tokens"),
    );
    const install = idOf("AWS::Lambda::Function", (p) => String(p.Description).includes("/linear/install"));
    // The roles whose policies allow PutSecretValue on the tokens secret.
    const writingRoles = new Set<string>();
    for (const resource of Object.values(resources)) {
      if (resource.Type !== "AWS::IAM::Policy") continue;
      const statements = (resource.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> })
        .Statement;
      const writes = statements.some((s) => {
        const actions = ([] as unknown[]).concat(s.Action);
        return (
          s.Effect === "Allow" &&
          actions.some((a) => a === "secretsmanager:PutSecretValue" || a === "secretsmanager:*") &&
          JSON.stringify(s.Resource).includes(`"Ref":"${tokens}"`)
        );
      });
      if (writes)
        for (const role of resource.Properties.Roles as Array<{ Ref: string }>) writingRoles.add(role.Ref);
    }
    const roleOf = (fn: string) =>
      (resources[fn].Properties.Role as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
    expect([...writingRoles].sort()).toEqual([roleOf(install), roleOf(refresher)].sort());
  });
});
