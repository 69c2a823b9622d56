// cdk-nag's AwsSolutions pack as a test gate: every finding on the synthesized stack is either fixed or
// acknowledged on the construct it concerns (see SECURITY.md); Template.fromStack throws otherwise.
import { App, Validations } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { AwsSolutionsChecks } from "cdk-nag";
import { loadOrgConfig, type OrgConfig, parseOrgConfig } from "../../lib/config";
import { QaTicketStack, type QaTicketStackProps } from "../../lib/qa-ticket-stack";

type Json = Record<string, unknown>;

function checkedStack(config: OrgConfig, props: Partial<QaTicketStackProps> = {}): QaTicketStack {
  // Empty bundling-stacks: no esbuild run, the checks only need the template.
  const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return new QaTicketStack(app, "QaTicket", { config, ...props });
}

const example = () => loadOrgConfig("example");
const withJira = () =>
  parseOrgConfig(
    "acme",
    { qatech: {}, linear: { enabled: true }, jira: { enabled: true, baseUrl: "https://acme.atlassian.net" } },
    "test config",
  );

function resources(template: Template, type: string): Array<[string, Json]> {
  const all = template.toJSON().Resources as Record<string, Json>;
  return Object.entries(all).filter(([, r]) => r.Type === type);
}

/** The logical ids a policy statement's resources point at (Ref / Fn::GetAtt), in order. */
function referencedIds(resource: unknown): string[] {
  const text = JSON.stringify(resource);
  return [...text.matchAll(/"(?:Ref|Fn::GetAtt)":(?:\["|")([A-Za-z0-9]+)/g)].map((m) => m[1]);
}

const withAgent = () =>
  parseOrgConfig(
    "acme",
    { qatech: {}, linear: { agent: { enabled: true, clientId: "qa_ticket_client_1234" } } },
    "test config",
  );

describe.each([
  ["config/example.json (Linear only)", example],
  ["Linear and Jira enabled", withJira],
  ["the Linear agent enabled", withAgent],
])("AwsSolutions checks: %s", (_name, config) => {
  let template: Template;
  beforeAll(() => {
    template = Template.fromStack(checkedStack(config()));
  });

  it("has no unacknowledged finding", () => {
    expect(template).toBeDefined();
  });

  it("attaches no managed policy to any role", () => {
    for (const [, role] of resources(template, "AWS::IAM::Role")) {
      expect((role.Properties as Json).ManagedPolicyArns).toBeUndefined();
    }
  });

  it("lets the state machine invoke only its four Lambda tasks and send only to the start queue", () => {
    const [[, policy]] = resources(template, "AWS::IAM::Policy").filter(([id]) =>
      id.startsWith("WorkflowStateMachineRole"),
    );
    const statements = ((policy.Properties as Json).PolicyDocument as Json).Statement as Json[];
    const invoked = statements
      .filter((s) => s.Action === "lambda:InvokeFunction")
      .flatMap((s) => referencedIds(s.Resource));
    expect([...new Set(invoked)].sort()).toEqual([
      expect.stringMatching(/^PollConversationFunction/),
      expect.stringMatching(/^PostCommentFunction/),
      expect.stringMatching(/^ReadRunsFunction/),
      expect.stringMatching(/^ResolveThreadFunction/),
    ]);
    const sent = statements.filter((s) => JSON.stringify(s.Action).includes("sqs:"));
    expect(sent.map((s) => [s.Action, referencedIds(s.Resource)])).toEqual([
      ["sqs:SendMessage", [expect.stringMatching(/^StartQueue/)]],
    ]);
  });

  it("lets each webhook function start executions of this state machine only", () => {
    const webhookPolicies = resources(template, "AWS::IAM::Policy").filter(([id]) => /Webhook/.test(id));
    expect(webhookPolicies.length).toBeGreaterThan(0);
    for (const [id, policy] of webhookPolicies) {
      const statements = ((policy.Properties as Json).PolicyDocument as Json).Statement as Json[];
      const states = statements.filter((s) => JSON.stringify(s.Action).includes("states:"));
      // The Linear agent's webhook also stops a session's running executions, found among the running ones.
      const others = /LinearAgent/.test(id) ? ["states:ListExecutions", "states:StopExecution"] : [];
      expect(states.map((s) => s.Action)).toEqual(["states:StartExecution", ...others]);
      const start = states.slice(0, 1);
      expect(start[0].Action).toBe("states:StartExecution");
      expect(referencedIds(start[0].Resource)).toEqual([expect.stringMatching(/^WorkflowStateMachine/)]);
    }
  });

  it("reserves 10 concurrent executions for each webhook function, 1 for the token refresher, 2 for the install pages, none for others", () => {
    for (const [id, fn] of resources(template, "AWS::Lambda::Function")) {
      const reserved = (fn.Properties as Json).ReservedConcurrentExecutions;
      expect([id, reserved]).toEqual([
        id,
        /Webhook/.test(id)
          ? 10
          : /LinearTokenRefresher/.test(id)
            ? 1
            : /LinearInstall/.test(id)
              ? 2
              : undefined,
      ]);
    }
  });
});

describe("AwsSolutions checks as a gate", () => {
  it("fails synthesis on a finding nobody acknowledged", () => {
    const stack = checkedStack(example());
    new secretsmanager.Secret(stack, "Unacknowledged"); // AwsSolutions-SMG4, not acknowledged
    // The thrown message is the validation report: each finding with its construct path and rule id.
    expect(() => Template.fromStack(stack)).toThrow(
      /QaTicket\/Unacknowledged\/Resource[\s\S]*AwsSolutions-SMG4/,
    );
  });

  it("leaves the webhook functions unreserved when asked to", () => {
    const template = Template.fromStack(
      checkedStack(example(), { webhookReservedConcurrency: "unreserved" }),
    );
    for (const [id, fn] of resources(template, "AWS::Lambda::Function")) {
      if (/Webhook/.test(id)) expect((fn.Properties as Json).ReservedConcurrentExecutions).toBeUndefined();
    }
  });
});
