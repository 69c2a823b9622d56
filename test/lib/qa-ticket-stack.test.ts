import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { POLL_TIMEOUT_SECONDS } from "../../functions/poll-conversation/timeout";
import { loadOrgConfig, type OrgConfig, parseOrgConfig } from "../../lib/config";
import { QaTicketStack } from "../../lib/qa-ticket-stack";

type Resource = { Type: string; Properties?: Record<string, unknown> };
type Resources = Record<string, Resource>;
type Statement = { Action: string | string[]; Effect: string; Resource: unknown };

const FAKE_REGION = "eu-west-1";
const FAKE_ACCOUNT = "123456789012";

/** App that skips bundling (the one bundling test builds its own). */
const unbundledApp = () => new App({ context: { "aws:cdk:bundling-stacks": [] } });

const exampleRaw = (): unknown =>
  JSON.parse(readFileSync(join(__dirname, "..", "..", "config", "example.json"), "utf8"));

function synth(config: OrgConfig = loadOrgConfig("example"), app = unbundledApp()) {
  const stack = new QaTicketStack(app, `QaTicket-${config.org}`, { config });
  return { app, stack, template: Template.fromStack(stack) };
}

/**
 * Evaluates the intrinsic functions CDK emits here, with fake values for what only CloudFormation knows:
 * a secret's ARN ends in its name plus AWS's random suffix, a function's ARN is made up from its id.
 */
function resolve(value: unknown, resources: Resources): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, resources));
  if (typeof value !== "object" || value === null) return value;
  const o = value as Record<string, unknown>;
  if ("Ref" in o) {
    const ref = String(o.Ref);
    if (ref === "AWS::Region") return FAKE_REGION;
    if (ref === "AWS::Partition") return "aws";
    if (ref === "AWS::URLSuffix") return "amazonaws.com";
    if (ref === "AWS::AccountId") return FAKE_ACCOUNT;
    const resource = resources[ref];
    if (resource?.Type === "AWS::SecretsManager::Secret") {
      return `arn:aws:secretsmanager:${FAKE_REGION}:${FAKE_ACCOUNT}:secret:${resource.Properties?.Name}-AbCdEf`;
    }
    return `ref-${ref}`;
  }
  if ("Fn::GetAtt" in o) {
    const [id, attribute] = o["Fn::GetAtt"] as [string, string];
    return `arn:aws:lambda:${FAKE_REGION}:${FAKE_ACCOUNT}:function:${id}-${attribute}`;
  }
  if ("Fn::Join" in o) {
    const [separator, parts] = o["Fn::Join"] as [string, unknown[]];
    return (resolve(parts, resources) as unknown[]).join(separator);
  }
  if ("Fn::Split" in o) {
    const [separator, text] = o["Fn::Split"] as [string, unknown];
    return String(resolve(text, resources)).split(separator);
  }
  if ("Fn::Select" in o) {
    const [index, list] = o["Fn::Select"] as [number, unknown];
    return (resolve(list, resources) as unknown[])[index];
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolve(v, resources)]));
}

/** Every object key anywhere in a JSON value. */
function keysIn(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) keysIn(v, into);
  else if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      into.add(k);
      keysIn(v, into);
    }
  }
  return into;
}

const resourcesOf = (template: Template) => template.toJSON().Resources as Resources;

/** The Lambda function whose construct is `prefix` (StartConversation, PollConversation, ...). */
function functionId(resources: Resources, prefix: string): string {
  const ids = Object.keys(resources).filter(
    (id) => resources[id].Type === "AWS::Lambda::Function" && id.startsWith(`${prefix}Function`),
  );
  expect(ids).toHaveLength(1);
  return ids[0];
}

/** Every IAM statement that applies to a function's role (its policies and inline policies). */
function statementsOf(resources: Resources, fnId: string): Statement[] {
  const role = resources[fnId].Properties?.Role as { "Fn::GetAtt": [string, string] };
  const roleId = role["Fn::GetAtt"][0];
  const statements: Statement[] = [];
  for (const resource of Object.values(resources)) {
    if (resource.Type !== "AWS::IAM::Policy") continue;
    const roles = (resource.Properties?.Roles ?? []) as Array<{ Ref?: string }>;
    if (!roles.some((r) => r.Ref === roleId)) continue;
    const doc = resource.Properties?.PolicyDocument as { Statement: Statement[] };
    statements.push(...doc.Statement);
  }
  const inline = (resources[roleId].Properties?.Policies ?? []) as Array<{
    PolicyDocument: { Statement: Statement[] };
  }>;
  for (const policy of inline) statements.push(...policy.PolicyDocument.Statement);
  return statements;
}

const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resourcesList = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

/** The names of the secrets a function's role may read. */
function readableSecrets(resources: Resources, fnId: string): string[] {
  const names = new Set<string>();
  for (const statement of statementsOf(resources, fnId)) {
    if (!actions(statement).some((a) => a.startsWith("secretsmanager:") || a === "*")) continue;
    for (const target of resourcesList(statement)) {
      const ref = (target as { Ref?: string }).Ref;
      const secret = ref ? resources[ref] : undefined;
      if (secret?.Type !== "AWS::SecretsManager::Secret") {
        throw new Error(`${fnId} may use Secrets Manager on ${JSON.stringify(target)}, not one secret`);
      }
      names.add(String(secret.Properties?.Name));
    }
  }
  return [...names].sort();
}

/** The parts of an Amazon States Language state these tests read. */
interface AslState {
  Type: string;
  Resource?: string;
  SecondsPath?: string;
  Retry?: Array<{ ErrorEquals: string[] }>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string }>;
}

/** The state machine definition as Step Functions receives it. */
function definitionOf(template: Template) {
  const resources = resourcesOf(template);
  const machines = Object.values(resources).filter((r) => r.Type === "AWS::StepFunctions::StateMachine");
  expect(machines).toHaveLength(1);
  const props = machines[0].Properties ?? {};
  const text = resolve(props.DefinitionString, resources);
  return {
    props,
    definition: JSON.parse(String(text)) as { TimeoutSeconds?: number; States: Record<string, AslState> },
  };
}

describe("QaTicketStack (example config)", () => {
  const { template } = synth();
  const resources = resourcesOf(template);
  const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;

  it("takes Linear's webhooks at POST /webhooks/linear", () => {
    template.hasResourceProperties("AWS::ApiGatewayV2::Route", { RouteKey: "POST /webhooks/linear" });
    template.resourceCountIs("AWS::ApiGatewayV2::Route", 1);
  });

  it("runs tickets in a Standard state machine: start, wait, poll, 'final?', post, with a deadline", () => {
    const { props, definition } = definitionOf(template);

    expect(props.StateMachineType).toBe("STANDARD");
    expect(Object.keys(definition.States)).toEqual(
      expect.arrayContaining([
        "StartConversation",
        "WaitForReply",
        "PollConversation",
        "IsReplyFinal",
        "PostReply",
        "PostFailure",
      ]),
    );
    expect(definition.States.WaitForReply.SecondsPath).toBe("$.poll.waitSeconds");
    // The execution outlives the reply deadline (60 min), so the deadline is said on the ticket.
    expect(definition.TimeoutSeconds).toBeGreaterThan(60 * 60);
  });

  it("retries TransientError on each task and sends every other failure to PostFailure", () => {
    const { definition } = definitionOf(template);

    for (const name of ["StartConversation", "PollConversation", "PostReply"]) {
      const state = definition.States[name];
      const retried = (state.Retry ?? []).flatMap((r) => r.ErrorEquals);
      expect(retried).toContain("TransientError");
      // A comment task first ends a stopped agent session quietly; everything else goes to PostFailure.
      const stopped =
        name === "PostReply"
          ? [expect.objectContaining({ ErrorEquals: ["SessionStopped"], Next: "Stopped" })]
          : [];
      expect(state.Catch).toEqual([
        ...stopped,
        expect.objectContaining({ ErrorEquals: ["States.ALL"], Next: "PostFailure" }),
      ]);
    }
  });

  it("bounds the conversations started at once with a queue, so the rest wait instead of failing", () => {
    const { definition } = definitionOf(template);
    const consumer = functionId(resources, "StartConversation");
    const mappings = Object.values(resources).filter((r) => r.Type === "AWS::Lambda::EventSourceMapping");
    const queueIds = Object.entries(resources)
      .filter(([, r]) => r.Type === "AWS::SQS::Queue")
      .map(([id]) => id);
    const startQueue = queueIds.find((id) => id.startsWith("StartQueue"));
    const deadLetters = queueIds.find((id) => id.startsWith("StartDeadLetterQueue"));

    for (const state of ["StartConversation", "SendFollowUp"]) {
      expect(definition.States[state].Resource).toBe("arn:aws:states:::sqs:sendMessage.waitForTaskToken");
      // Nothing retries a throttle any more: the queue is the wait.
      const errors = (definition.States[state].Retry ?? []).flatMap((r) => r.ErrorEquals);
      expect(errors).not.toContain("Lambda.TooManyRequestsException");
    }
    const fromQueue = mappings.find((m) =>
      JSON.stringify(m.Properties?.EventSourceArn).includes(String(startQueue)),
    );
    expect(fromQueue?.Properties).toMatchObject({
      FunctionName: { Ref: consumer },
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: 4 },
    });
    expect(resources[consumer].Properties?.ReservedConcurrentExecutions).toBeUndefined();
    // Dead letters are consumed too (each answered with a failure, so its ticket gets a comment).
    const fromDeadLetters = mappings.find((m) =>
      JSON.stringify(m.Properties?.EventSourceArn).includes(String(deadLetters)),
    );
    expect(fromDeadLetters?.Properties?.FunctionName).toEqual({ Ref: consumer });
    expect(resources[String(startQueue)].Properties?.RedrivePolicy).toMatchObject({ maxReceiveCount: 5 });
  });

  it("deploys the poll function with the timeout its handler and the local runner plan with", () => {
    expect(resources[functionId(resources, "PollConversation")].Properties?.Timeout).toBe(
      POLL_TIMEOUT_SECONDS,
    );
  });

  it("gives no function a secret value, only the ARN of the secret to read", () => {
    const functions = Object.values(resources).filter((r) => r.Type === "AWS::Lambda::Function");
    expect(functions.length).toBeGreaterThanOrEqual(4);

    for (const fn of functions) {
      const variables = ((fn.Properties?.Environment as { Variables?: Record<string, unknown> })?.Variables ??
        {}) as Record<string, unknown>;
      for (const [name, value] of Object.entries(variables)) {
        if (/KEY|SECRET|TOKEN|PASSWORD/.test(name)) {
          expect(name).toMatch(/_SECRET_ARN$/);
          const ref = (value as { Ref?: string }).Ref;
          expect(ref && resources[ref]?.Type).toBe("AWS::SecretsManager::Secret");
        }
      }
    }
    expect(keysIn(template.toJSON())).not.toContain("SecretString");
  });

  it("lets each function read only the secrets it needs", () => {
    expect(readableSecrets(resources, functionId(resources, "LinearWebhook"))).toEqual([
      "qa-ticket/example/linear-webhook-secret",
    ]);
    // The Linear key reads an issue's attachments, where linked pull requests are.
    expect(readableSecrets(resources, functionId(resources, "StartConversation"))).toEqual([
      "qa-ticket/example/linear-api-key",
      "qa-ticket/example/qatech-api-key",
    ]);
    expect(readableSecrets(resources, functionId(resources, "PollConversation"))).toEqual([
      "qa-ticket/example/qatech-api-key",
    ]);
    // It reads runs and starts reruns in QA.tech, and never talks to a tracker.
    expect(readableSecrets(resources, functionId(resources, "ReadRuns"))).toEqual([
      "qa-ticket/example/qatech-api-key",
    ]);
    expect(readableSecrets(resources, functionId(resources, "PostComment"))).toEqual([
      "qa-ticket/example/linear-api-key",
      "qa-ticket/example/marker-key",
    ]);
  });

  it("lets the webhook function start executions of this state machine and nothing else of Step Functions", () => {
    const machineId = Object.keys(resources).find(
      (id) => resources[id].Type === "AWS::StepFunctions::StateMachine",
    );
    const statements = statementsOf(resources, functionId(resources, "LinearWebhook"));

    const stepFunctions = statements.filter((s) =>
      actions(s).some((a) => a.startsWith("states:") || a === "*"),
    );
    expect(stepFunctions.length).toBeGreaterThan(0);
    for (const statement of stepFunctions) {
      expect(actions(statement)).toEqual(["states:StartExecution"]);
      expect(resourcesList(statement)).toEqual([{ Ref: machineId }]);
    }
    for (const prefix of ["PollConversation", "PostComment", "ResolveThread", "ReadRuns"]) {
      const others = statementsOf(resources, functionId(resources, prefix));
      expect(others.filter((s) => actions(s).some((a) => a.startsWith("states:")))).toEqual([]);
    }
    // The start queue's consumer answers the waiting task (and confirms it still waits), nothing else.
    const consumer = statementsOf(resources, functionId(resources, "StartConversation")).filter((s) =>
      actions(s).some((a) => a.startsWith("states:")),
    );
    expect(consumer.map((s) => [actions(s), resourcesList(s)])).toEqual([
      [
        ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"],
        [{ Ref: machineId }],
      ],
    ]);
  });

  it("keeps every log for a limited time: each log group has a retention and each function logs into one", () => {
    const groups = Object.entries(resources).filter(([, r]) => r.Type === "AWS::Logs::LogGroup");
    expect(groups.length).toBeGreaterThanOrEqual(6);
    for (const [, group] of groups) expect(group.Properties?.RetentionInDays).toBe(30);

    const groupIds = new Set(groups.map(([id]) => id));
    for (const fn of Object.values(resources).filter((r) => r.Type === "AWS::Lambda::Function")) {
      const logGroup = (fn.Properties?.LoggingConfig as { LogGroup?: { Ref?: string } })?.LogGroup?.Ref;
      expect(groupIds.has(String(logGroup))).toBe(true);
    }
    template.resourceCountIs("Custom::LogRetention", 0);
  });

  it("outputs the Linear webhook URL", () => {
    const url = resolve(outputs.LinearWebhookUrl?.Value, resources);

    expect(url).toBe(`https://ref-${apiId()}.execute-api.${FAKE_REGION}.amazonaws.com/webhooks/linear`);
  });

  function apiId(): string {
    return Object.keys(resources).find((id) => resources[id].Type === "AWS::ApiGatewayV2::Api") ?? "";
  }

  it("outputs the put-secret-value command of every secret, naming the real secret", () => {
    const commands = Object.values(outputs)
      .map((o) => resolve(o.Value, resources))
      .filter(
        (v): v is string => typeof v === "string" && v.startsWith("aws secretsmanager put-secret-value"),
      );

    expect(commands.sort()).toEqual([
      "aws secretsmanager put-secret-value --secret-id qa-ticket/example/linear-api-key --secret-string '<LINEAR_API_KEY>'",
      "aws secretsmanager put-secret-value --secret-id qa-ticket/example/linear-webhook-secret --secret-string '<LINEAR_WEBHOOK_SECRET>'",
      "aws secretsmanager put-secret-value --secret-id qa-ticket/example/qatech-api-key --secret-string '<QATECH_API_KEY>'",
    ]);
  });

  it("throttles the webhook stage at the configured rate and burst", () => {
    template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      DefaultRouteSettings: { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 },
    });
  });
});

/** The property that would fix an account-unique name, per resource type. */
const GENERATED_NAMES: Record<string, string> = {
  "AWS::Lambda::Function": "FunctionName",
  "AWS::StepFunctions::StateMachine": "StateMachineName",
  "AWS::Logs::LogGroup": "LogGroupName",
  "AWS::IAM::Role": "RoleName",
  "AWS::CloudWatch::Alarm": "AlarmName",
};

describe("QaTicketStack with settings as long as the config allows", () => {
  it("keeps every function's environment under Lambda's 4 KB, the stack's own variables included", () => {
    // The longest instruction the config accepts: one more character and parseOrgConfig refuses it.
    const raw = exampleRaw() as { qatech: Record<string, unknown>; jira: Record<string, unknown> };
    raw.jira = { ...raw.jira, enabled: true, baseUrl: "https://acme-corporation-example.atlassian.net" };
    let length = 100;
    const accepts = (n: number) => {
      try {
        parseOrgConfig("acme", { ...raw, qatech: { ...raw.qatech, instruction: "x".repeat(n) } }, "test");
        return true;
      } catch {
        return false;
      }
    };
    while (accepts(length + 100)) length += 100;
    while (accepts(length + 1)) length += 1;
    const config = parseOrgConfig(
      "acme",
      { ...raw, qatech: { ...raw.qatech, instruction: "x".repeat(length) } },
      "t",
    );
    const resources = resourcesOf(synth(config).template);

    for (const [id, fn] of Object.entries(resources).filter(([, r]) => r.Type === "AWS::Lambda::Function")) {
      const variables = resolve(
        (fn.Properties?.Environment as { Variables?: unknown })?.Variables ?? {},
        resources,
      );
      const bytes = Object.entries(variables as Record<string, unknown>).reduce(
        (n, [k, v]) => n + Buffer.byteLength(`${k}${String(v)}`),
        0,
      );
      expect([id, bytes <= 4096]).toEqual([id, true]);
    }
  });
});

describe("QaTicketStack upgrades in place", () => {
  it("keeps the logical ids of everything that holds state or is known outside, so no upgrade replaces it", () => {
    // Replacing a secret loses its value, the API its URL (which the trackers were given), a queue its
    // messages, the state machine its running executions. These are the ids earlier versions deployed.
    const config = parseOrgConfig(
      "acme",
      {
        qatech: {},
        linear: { enabled: true },
        jira: { enabled: true, baseUrl: "https://acme.atlassian.net" },
      },
      "test",
    );
    const ids = Object.keys(resourcesOf(synth(config).template));

    expect(ids).toEqual(
      expect.arrayContaining([
        "QATECHAPIKEY8AA2D3FF",
        "LINEARAPIKEYA26A3637",
        "LINEARWEBHOOKSECRET4863BB11",
        "JIRAEMAIL0671FD0D",
        "JIRAAPITOKEN77E68414",
        "JIRAWEBHOOKSECRET1CB3981F",
        "MARKERKEY5019EC53",
        "StartQueue0122B2D4",
        "StartDeadLetterQueueAED2CB85",
        "WorkflowStateMachine8F1B1C15",
        "WebhookApi28122C53",
        "WebhookStageFB9E0F67",
      ]),
    );
  });
});

describe("QaTicketStack for two organisations in one account", () => {
  it("synthesizes both side by side without a physical name in common", () => {
    const app = unbundledApp();
    const stacks = ["acme", "globex"].map((org) => {
      const config = parseOrgConfig(org, exampleRaw(), `config/${org}.json`);
      return new QaTicketStack(app, `QaTicket-${org}`, { config });
    });

    const assembly = app.synth();

    expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual(["QaTicket-acme", "QaTicket-globex"]);
    const named: string[] = [];
    for (const template of stacks.map((stack) => Template.fromStack(stack))) {
      for (const resource of Object.values(resourcesOf(template))) {
        const p = resource.Properties ?? {};
        // Names CloudFormation would otherwise generate uniquely: none may be fixed.
        const nameKey = GENERATED_NAMES[resource.Type];
        if (nameKey) expect({ type: resource.Type, name: p[nameKey] }).toEqual({ type: resource.Type });
        if (resource.Type === "AWS::SecretsManager::Secret") named.push(String(p.Name));
      }
    }
    expect(named).toHaveLength(8);
    expect(new Set(named).size).toBe(named.length);
    expect(named.filter((n) => n.includes("/acme/"))).toHaveLength(4);
    expect(named.filter((n) => n.includes("/globex/"))).toHaveLength(4);
  });
});

describe("QaTicketStack with real bundling", () => {
  it("bundles every function into a file that loads and exports its handler", () => {
    const app = new App();
    const { stack } = synth(loadOrgConfig("example"), app);

    const assembly = app.synth();

    const artifact = assembly.getStackByName(stack.stackName);
    const functions = Object.entries(artifact.template.Resources as Resources).filter(
      ([, r]) => r.Type === "AWS::Lambda::Function",
    );
    expect(functions).toHaveLength(6);
    for (const [id, fn] of functions) {
      const key = String((fn.Properties?.Code as { S3Key?: string } | undefined)?.S3Key);
      const bundle = join(assembly.directory, `asset.${key.replace(/\.zip$/, "")}`, "index.js");
      expect(existsSync(bundle)).toBe(true);
      expect(statSync(bundle).size).toBeGreaterThan(1000);
      const loaded = spawnSync(
        process.execPath,
        [
          "-e",
          `const m = require(${JSON.stringify(bundle)}); process.exit(typeof m.handler === "function" ? 0 : 3)`,
        ],
        { encoding: "utf8", timeout: 20_000 },
      );
      const error = loaded.status === 0 ? "" : `${loaded.stderr}${loaded.error ?? ""}`;
      expect({ id, status: loaded.status, error }).toEqual({ id, status: 0, error: "" });
    }
  }, 120_000);
});

describe("QaTicketStack on cdk destroy", () => {
  it("keeps every secret (credentials and marker key) when the stack is deleted or a secret replaced", () => {
    const config = parseOrgConfig(
      "acme",
      { qatech: {}, jira: { enabled: true, baseUrl: "https://acme.atlassian.net" } },
      "test",
    );
    const secrets = Object.values(resourcesOf(synth(config).template)).filter(
      (r) => r.Type === "AWS::SecretsManager::Secret",
    ) as Array<Resource & { DeletionPolicy?: string; UpdateReplacePolicy?: string }>;

    expect(secrets).toHaveLength(7);
    for (const secret of secrets) {
      expect([secret.Properties?.Name, secret.DeletionPolicy, secret.UpdateReplacePolicy]).toEqual([
        secret.Properties?.Name,
        "Retain",
        "Retain",
      ]);
    }
  });

  it("names each secret statically, so a redeploy can adopt the retained ones (cdk import)", () => {
    const resources = resourcesOf(synth().template);
    const names = Object.values(resources)
      .filter((r) => r.Type === "AWS::SecretsManager::Secret")
      .map((r) => r.Properties?.Name);

    expect(names.every((name) => typeof name === "string" && name.startsWith("qa-ticket/example/"))).toBe(
      true,
    );
  });
});
