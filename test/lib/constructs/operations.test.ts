import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import {
  checkDeployable,
  loadOrgConfig,
  type OrgConfig,
  parseOrgConfig,
  settingsHash,
} from "../../../lib/config";
import { QaTicketStack } from "../../../lib/qa-ticket-stack";

type Resource = { Type: string; Properties?: Record<string, unknown> };

function synth(config: OrgConfig) {
  const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
  const template = Template.fromStack(new QaTicketStack(app, `QaTicket-${config.org}`, { config }));
  const json = template.toJSON() as {
    Resources: Record<string, Resource>;
    Outputs: Record<string, { Value: unknown }>;
  };
  return { template, resources: json.Resources, outputs: json.Outputs };
}

const acme = (extra: Record<string, unknown> = {}) =>
  parseOrgConfig(
    "acme",
    {
      qatech: { projectShortId: "proj_acme" },
      jira: { enabled: true, baseUrl: "https://acme.atlassian.net" },
      alarmEmail: "ops@acme.example",
      alarmEndpoints: [{ protocol: "https", endpoint: "https://events.pagerduty.com/integration/x/enqueue" }],
      ...extra,
    },
    "test config",
  );

const ofType = (resources: Record<string, Resource>, type: string) =>
  Object.entries(resources).filter(([, r]) => r.Type === type);

describe("Alarms", () => {
  const { resources } = synth(acme());
  const alarms = ofType(resources, "AWS::CloudWatch::Alarm");
  const [[topicId]] = ofType(resources, "AWS::SNS::Topic");
  const text = (r: Resource) => JSON.stringify(r.Properties);

  it("sends every alarm, and its return to OK, to the alarm topic", () => {
    expect(alarms.length).toBe(6);
    for (const [, alarm] of alarms) {
      expect(alarm.Properties?.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm.Properties?.OKActions).toEqual([{ Ref: topicId }]);
    }
  });

  it("subscribes the config's alarmEmail and each alarmEndpoint to the topic", () => {
    const subscriptions = ofType(resources, "AWS::SNS::Subscription").map(([, s]) => [
      s.Properties?.Protocol,
      s.Properties?.Endpoint,
    ]);

    expect(subscriptions.sort()).toEqual([
      ["email", "ops@acme.example"],
      ["https", "https://events.pagerduty.com/integration/x/enqueue"],
    ]);
  });

  it("watches failed runs, webhook 5xx, 401 bursts per tracker, the start queue and QA.tech refusals", () => {
    const byName = (prefix: string) => {
      const found = alarms.filter(([id]) => id.startsWith(`Alarms${prefix}`));
      expect(found).toHaveLength(1);
      return found[0][1];
    };
    expect(text(byName("WebhookServerErrors"))).toContain('"MetricName":"5xx"');
    const unauthorized = byName("WebhookUnauthorized");
    expect(text(unauthorized)).toContain("FILL(linear, 0) + FILL(jira, 0)");
    expect(text(unauthorized)).toContain('"Value":"unauthorized"');
    expect(unauthorized.Properties?.Threshold).toBe(5);
    expect(byName("StartQueueOld").Properties).toMatchObject({
      MetricName: "ApproximateAgeOfOldestMessage",
      Threshold: 1800,
    });
    expect(byName("StartDeadLetters").Properties).toMatchObject({ MetricName: "NumberOfMessagesReceived" });
    // Exactly the dimensions the functions write (functions/shared/platform/metrics.ts).
    expect(byName("QaTechRefused").Properties).toMatchObject({
      Namespace: "QaTicket",
      MetricName: "QaTechRefused",
      Dimensions: [
        { Name: "Org", Value: "acme" },
        { Name: "service", Value: "qa-ticket" },
      ],
    });
    // A stop request in an agent session aborts its run on purpose: that is no failure to wake anyone for.
    expect(text(byName("FailedRuns"))).toContain('"Expression":"failed + timedOut"');
    expect(text(byName("FailedRuns"))).not.toContain("ExecutionsAborted");
  });

  it("counts only the trackers that are served", () => {
    const linearOnly = synth(acme({ jira: { enabled: false } })).resources;
    const [[, unauthorized]] = ofType(linearOnly, "AWS::CloudWatch::Alarm").filter(([id]) =>
      id.startsWith("AlarmsWebhookUnauthorized"),
    );
    expect(JSON.stringify(unauthorized.Properties)).toContain('"Expression":"FILL(linear, 0)"');
  });

  it("counts the Linear agent's refused deliveries too, when the agent is served", () => {
    const withAgent = synth(
      acme({ linear: { agent: { enabled: true, clientId: "lin_client_acme" } } }),
    ).resources;
    const [[, unauthorized]] = ofType(withAgent, "AWS::CloudWatch::Alarm").filter(([id]) =>
      id.startsWith("AlarmsWebhookUnauthorized"),
    );
    const properties = JSON.stringify(unauthorized.Properties);
    expect(properties).toContain('"Expression":"FILL(linear, 0) + FILL(linear_agent, 0) + FILL(jira, 0)"');
    expect(properties).toContain('"Value":"linear-agent"');
  });

  it("subscribes nobody when the config names nobody (doctor then says so)", () => {
    const { resources } = synth(loadOrgConfig("example"));
    expect(ofType(resources, "AWS::SNS::Subscription")).toEqual([]);
  });
});

describe("Operations dashboard and outputs", () => {
  const { resources, outputs } = synth(acme());

  it("draws runs, reply time p50/p90, polls per run, webhook answers, the queue and refusals", () => {
    const [[, dashboard]] = ofType(resources, "AWS::CloudWatch::Dashboard");
    const body = JSON.stringify(dashboard.Properties?.DashboardBody);

    for (const title of [
      "Runs",
      "Reply time (s)",
      "Polls per run",
      "Webhook answers",
      "Start queue",
      "QA.tech refusals",
    ])
      expect(body).toContain(title);
    for (const metric of ["ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ReplySeconds"])
      expect(body).toContain(metric);
    expect(body).toMatch(/"stat\\":\\"p90\\"/);
    expect(body).toContain("ApproximateNumberOfMessagesVisible");
    expect(body).toContain('Org=\\\\\\"acme\\\\\\"');
  });

  it("outputs the dashboard URL, the state machine's console URL, the alarm topic and the settings hash", () => {
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining(["DashboardUrl", "StateMachineConsoleUrl", "AlarmTopicArn", "SettingsHash"]),
    );
    expect(JSON.stringify(outputs.DashboardUrl.Value)).toContain("#dashboards/dashboard/");
    expect(JSON.stringify(outputs.StateMachineConsoleUrl.Value)).toContain("#/statemachines/view/");
    expect(outputs.SettingsHash.Value).toBe(settingsHash(acme()));
  });
});

describe("settingsHash", () => {
  it("changes with any setting and not with the order of the file's keys", () => {
    const base = acme();
    const reordered = parseOrgConfig(
      "acme",
      {
        alarmEndpoints: [
          { endpoint: "https://events.pagerduty.com/integration/x/enqueue", protocol: "https" },
        ],
        alarmEmail: "ops@acme.example",
        jira: { baseUrl: "https://acme.atlassian.net", enabled: true },
        qatech: { projectShortId: "proj_acme" },
      },
      "reordered",
    );

    expect(settingsHash(reordered)).toBe(settingsHash(base));
    expect(settingsHash(acme({ replyTimeoutMinutes: 61 }))).not.toBe(settingsHash(base));
    expect(settingsHash({ ...base, org: "globex" })).not.toBe(settingsHash(base));
  });
});

describe("checkDeployable", () => {
  it("refuses the example's placeholder project for any org but example", () => {
    const copied = parseOrgConfig("acme", { qatech: { projectShortId: "proj_example" } }, "config/acme.json");

    expect(() => checkDeployable(copied)).toThrow(/qatech.projectShortId is still the example's placeholder/);
    expect(() => checkDeployable(loadOrgConfig("example"))).not.toThrow();
    expect(() => checkDeployable(acme())).not.toThrow();
  });
});
