import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  CloudFormationClient,
  CloudFormationServiceException,
  DescribeStacksCommand,
} from "@aws-sdk/client-cloudformation";
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { ListSubscriptionsByTopicCommand, NotFoundException, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { createWebhook as jiraWebhook } from "../../functions/jira-webhook";
import { createWebhook as linearAgentWebhook } from "../../functions/linear-agent-webhook";
import { createWebhook as linearWebhook } from "../../functions/linear-webhook";
import type { TrackerName, Trigger } from "../../functions/shared/domain/ticket";
import {
  functionEnvironment,
  loadOrgConfig,
  servedTrackers,
  settingsHash,
  stackName,
  webhookUrlOutput,
} from "../../lib/config";
import { readBody, send, toApiGatewayEvent } from "../../local/http";
import type { AwsClients } from "../../tools/ops/aws";
import type { Deployer } from "../../tools/setup/deployer";

const REGION = "eu-west-1";
const ACCOUNT = "123456789012";
/** The secrets' logical ids, as test/lib/qa-ticket-stack.test.ts pins them. */
export const SECRET_LOGICAL_IDS: Record<string, string> = {
  "qatech-api-key": "QATECHAPIKEY8AA2D3FF",
  "linear-api-key": "LINEARAPIKEYA26A3637",
  "linear-webhook-secret": "LINEARWEBHOOKSECRET4863BB11",
  "jira-email": "JIRAEMAIL0671FD0D",
  "jira-api-token": "JIRAAPITOKEN77E68414",
  "jira-webhook-secret": "JIRAWEBHOOKSECRET1CB3981F",
  "marker-key": "MARKERKEY5019EC53",
  // The Linear agent's (lib/constructs/tracker-secrets.ts and linear-agent.ts), with linear.agent.enabled.
  "linear-agent-client-secret": "LINEARAGENTCLIENTSECRETDFF15E86",
  "linear-agent-webhook-secret": "LINEARAGENTWEBHOOKSECRET34AB9430",
  "linear-agent-tokens": "LINEARAGENTTOKENSF079FA08",
};

/**
 * One AWS account as setup and doctor see it, behind real SDK clients mocked with aws-sdk-client-mock:
 * Secrets Manager (secrets with their versions), CloudFormation (the stack and its outputs) and SNS (the
 * alarm topic's subscriptions). Its deployer does what `cdk deploy` would do to those, and its endpoint
 * serves the deployed webhook function (the real handler) reading the signing secrets from this store.
 */
export class FakeAws {
  readonly secrets = new Map<string, { arn: string; versions: string[]; logicalId?: string }>();
  stack: { status: string; outputs: Record<string, string> } | null = null;
  readonly subscriptions: Array<{ Protocol: string; Endpoint: string; SubscriptionArn: string }> = [];
  readonly deploys: string[] = [];
  readonly imports: Array<Record<string, { Id: string }>> = [];
  readonly puts: string[] = [];
  /** Runs the deployed webhook functions started (a probe must start none). */
  readonly started: Trigger[] = [];
  readonly clients: AwsClients;
  private readonly mocks: Array<{ restore(): void }> = [];
  endpointUrl = "";
  /** Whether deployed secrets carry CloudFormation's aws:cloudformation:logical-id tag. */
  tagLogicalIds = true;
  /**
   * Values the deployed functions still hold from their 5-minute secret cache, by secret name: they verify
   * with these instead of the stored value (a secret changed less than 5 minutes ago).
   */
  readonly cachedSecrets = new Map<string, string>();
  private closeEndpoint: () => Promise<void> = async () => {};

  constructor(private readonly configDir: string) {
    // Static credentials, so that setup's and doctor's check of the AWS environment passes without one.
    const access = {
      region: REGION,
      credentials: { accessKeyId: "AKIAFAKEFAKEFAKE", secretAccessKey: "fake" },
    };
    const secrets = new SecretsManagerClient(access);
    const cloudFormation = new CloudFormationClient(access);
    const sns = new SNSClient(access);
    const sm = mockClient(secrets);
    const notFound = () =>
      new ResourceNotFoundException({
        message: "Secrets Manager can't find the specified secret.",
        $metadata: {},
      });
    const find = (id: unknown) => {
      const secret = this.secrets.get(String(id));
      if (!secret) throw notFound();
      return secret;
    };
    sm.on(DescribeSecretCommand).callsFake((input) => {
      const secret = find(input.SecretId);
      const tags = secret.logicalId
        ? [{ Key: "aws:cloudformation:logical-id", Value: secret.logicalId }]
        : [];
      return { ARN: secret.arn, Name: input.SecretId, Tags: tags };
    });
    sm.on(ListSecretVersionIdsCommand).callsFake((input) => ({
      Versions: find(input.SecretId).versions.map((_, i) => ({ VersionId: `v${i + 1}` })),
    }));
    sm.on(GetSecretValueCommand).callsFake((input) => ({
      SecretString: find(input.SecretId).versions.at(-1),
    }));
    sm.on(PutSecretValueCommand).callsFake((input) => {
      find(input.SecretId).versions.push(String(input.SecretString));
      this.puts.push(String(input.SecretId));
      return { ARN: find(input.SecretId).arn };
    });
    const cf = mockClient(cloudFormation);
    cf.on(DescribeStacksCommand).callsFake((input) => {
      if (!this.stack)
        throw new CloudFormationServiceException({
          name: "ValidationError",
          $fault: "client",
          message: `Stack with id ${input.StackName} does not exist`,
          $metadata: {},
        });
      return {
        Stacks: [
          {
            StackName: input.StackName,
            StackStatus: this.stack.status,
            CreationTime: new Date(),
            Outputs: Object.entries(this.stack.outputs).map(([OutputKey, OutputValue]) => ({
              OutputKey,
              OutputValue,
            })),
          },
        ],
      };
    });
    const topic = mockClient(sns);
    topic.on(ListSubscriptionsByTopicCommand).callsFake((input) => {
      // SNS API Reference, ListSubscriptionsByTopic, Errors: NotFound ("the requested resource does not
      // exist", HTTP 404) for a topic that is not there; the only topic here is the deployed stack's.
      if (!this.stack || input.TopicArn !== this.stack.outputs.AlarmTopicArn)
        throw new NotFoundException({ message: "Topic does not exist", $metadata: {} });
      return { Subscriptions: this.subscriptions };
    });
    this.mocks.push(sm, cf, topic);
    this.clients = { secrets, cloudFormation, sns };
  }

  /** The current value of a secret, by its name. */
  value(name: string): string | undefined {
    return this.secrets.get(name)?.versions.at(-1);
  }

  /** A secret as the stack creates it: one version, a random placeholder, tagged with its logical id. */
  addPlaceholder(name: string, logicalId?: string): void {
    this.secrets.set(name, {
      arn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-AbCdEf`,
      versions: [`placeholder-${name}`],
      logicalId,
    });
  }

  /** What `cdk deploy -c org=<org>` does to this account: secrets, outputs, the alarm subscription. */
  deployer(): Deployer {
    return {
      deploy: async (org) => {
        this.deploys.push(org);
        const config = loadOrgConfig(org, this.configDir);
        for (const name of Object.keys(SECRET_LOGICAL_IDS)) {
          const id = `qa-ticket/${org}/${name}`;
          const agent = config.linear.enabled && config.linear.agent.enabled;
          const used =
            name === "marker-key" ||
            name === "qatech-api-key" ||
            (name.startsWith("linear-agent") ? agent : name.startsWith("linear") && config.linear.enabled) ||
            (name.startsWith("jira") && config.jira.enabled);
          if (used && !this.secrets.has(id))
            this.addPlaceholder(id, this.tagLogicalIds ? SECRET_LOGICAL_IDS[name] : undefined);
        }
        this.stack = {
          status: this.stack ? "UPDATE_COMPLETE" : "CREATE_COMPLETE",
          outputs: {
            ...Object.fromEntries(
              servedTrackers(config).map((t) => [webhookUrlOutput(t), `${this.endpointUrl}/webhooks/${t}`]),
            ),
            ...(config.linear.enabled && config.linear.agent.enabled
              ? {
                  LinearInstallUrl: `${this.endpointUrl}/linear/install`,
                  LinearCallbackUrl: `${this.endpointUrl}/linear/callback`,
                }
              : {}),
            AlarmTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:${stackName(org)}-AlarmTopic`,
            SettingsHash: settingsHash(config),
          },
        };
        if (config.alarmEmail && !this.subscriptions.some((s) => s.Endpoint === config.alarmEmail))
          this.subscriptions.push({
            Protocol: "email",
            Endpoint: config.alarmEmail,
            SubscriptionArn: "PendingConfirmation",
          });
      },
      importSecrets: async (_org, mapping) => {
        this.imports.push(mapping);
      },
    };
  }

  /** The person behind alarmEmail clicks the link AWS mailed. */
  confirmSubscriptions(): void {
    for (const s of this.subscriptions)
      s.SubscriptionArn = `arn:aws:sns:${REGION}:${ACCOUNT}:alarms:${s.Endpoint}`;
  }

  /**
   * Serves POST /webhooks/<tracker> with the deployed webhook function's handler, which reads its signing
   * secret from this account's Secrets Manager store, as the Lambda would (after its cache expired).
   */
  async startEndpoint(org: string): Promise<void> {
    const store = this;
    const read = (name: string) => {
      const id = `qa-ticket/${org}/${name}`;
      return store.cachedSecrets.get(id) ?? store.value(id);
    };
    const env = (tracker: TrackerName): NodeJS.ProcessEnv => ({
      get QA_TICKET_SETTINGS() {
        return functionEnvironment(loadOrgConfig(org, store.configDir)).QA_TICKET_SETTINGS;
      },
      get LINEAR_WEBHOOK_SECRET() {
        return tracker === "linear" ? read("linear-webhook-secret") : undefined;
      },
      get JIRA_WEBHOOK_SECRET() {
        return tracker === "jira" ? read("jira-webhook-secret") : undefined;
      },
      get LINEAR_AGENT_WEBHOOK_SECRET() {
        return tracker === "linear-agent" ? read("linear-agent-webhook-secret") : undefined;
      },
    });
    const startRun = async (trigger: Trigger) => {
      this.started.push(trigger);
      return "started" as const;
    };
    const routes = {
      "/webhooks/linear": linearWebhook(startRun, env("linear")),
      "/webhooks/jira": jiraWebhook(startRun, env("jira")),
      // The agent's webhook; an event it acts on would post to Linear first, which no test here sends.
      "/webhooks/linear-agent": linearAgentWebhook(startRun, env("linear-agent")),
    } as Record<string, ReturnType<typeof linearWebhook>>;
    const server = createServer(async (req, res) => {
      const route = routes[(req.url ?? "").split("?")[0]];
      const body = await readBody(req);
      if (!route || !body) return send(res, { statusCode: 404, body: "{}" });
      send(res, await route(toApiGatewayEvent(req, body)));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.endpointUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.closeEndpoint = () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
  }

  async close(): Promise<void> {
    for (const mock of this.mocks) mock.restore();
    await this.closeEndpoint();
  }
}
