import {
  ArnFormat,
  CfnOutput,
  type CfnResource,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  Validations,
} from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as eventTargets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import type { IStateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import { TRACKER_CATALOG } from "../../functions/shared/trackers/catalog";
import { SCHEDULED_REFRESH_HOURS } from "../../functions/shared/trackers/linear-agent/tokens";
import { secretId } from "../config";
import { type FunctionDefaults, TicketFunction } from "./ticket-function";
import type { TrackerSecrets } from "./tracker-secrets";
import type { WebhookEndpoint } from "./webhook-endpoint";

/**
 * How every agent run's execution is named (functions/shared/trackers/linear-agent/session.ts
 * sessionRunPrefix): the agent's webhook may stop these and no other. The ticket runs are named
 * `linear-<KEY>-...` and `jira-<KEY>-...` after the issue key, which is upper case, and IAM compares ARNs
 * case-sensitively.
 */
export const AGENT_RUN_PREFIX = "linear-agent-";

/**
 * Lets a function write new versions of a secret, and nothing else: CDK's `grantWrite` also grants
 * UpdateSecret (which can change the secret's KMS key and description) and UpdateSecretVersionStage (which can
 * bring an old token set back as AWSCURRENT); the token store only ever calls PutSecretValue.
 */
function grantPutValue(secret: secretsmanager.ISecret, fn: TicketFunction): void {
  fn.fn.addToRolePolicy(
    new iam.PolicyStatement({ actions: ["secretsmanager:PutSecretValue"], resources: [secret.secretArn] }),
  );
}

/** Copies of the install function that may run at once: one person installs, a flood gets no more. */
export const INSTALL_RESERVED_CONCURRENCY = 2;

/** What the Linear agent needs of the stack. */
export interface LinearAgentProps {
  org: string;
  defaults: FunctionDefaults;
  secrets: TrackerSecrets;
  endpoint: WebhookEndpoint;
  /** The workflow: the agent's webhook starts and stops its executions. */
  stateMachine: IStateMachine;
  /** The functions that call Linear as the agent (post-comment, resolve-thread, the start queue's consumer). */
  callers: TicketFunction[];
}

/**
 * QA.tech as a Linear agent (docs/linear-agent.md): the install pages, the agent's webhook, the
 * token set in Secrets Manager, and the one function that refreshes it. The refresher has a reserved
 * concurrency of 1, so two refreshes of Linear's rotating refresh token can never run at once; it runs on a
 * schedule, ahead of the expiry, and every other function only reads the tokens and invokes the refresher
 * after a 401 (or on a token past its expiry, if the schedule failed).
 */
export class LinearAgent extends Construct {
  constructor(scope: Construct, id: string, props: LinearAgentProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { defaults, secrets } = props;
    // In the stack's own scope and named, like the other secrets: no refactoring can replace it.
    const tokens = new secretsmanager.Secret(stack, "LINEAR_AGENT_TOKENS", {
      secretName: secretId(props.org, "LINEAR_AGENT_TOKENS"),
      description:
        "The Linear agent's OAuth tokens (JSON), written by the install callback and by the token refresher. " +
        "Do not edit: open /linear/install to (re)install.",
      generateSecretString: { passwordLength: 32, excludePunctuation: true },
      // Kept on `cdk destroy`, like the credentials (tracker-secrets.ts). A deleted secret is only scheduled for
      // deletion, and its name cannot be used again for 7 to 30 days: a redeploy of the same org would fail to
      // create it. Kept, it keeps the install too (setup adopts it with `cdk import`, docs/operations.md "Removal").
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(tokens).acknowledge({
      id: "AwsSolutions-SMG4",
      reason:
        "Rotated by the application itself: the token refresher spends Linear's rotating refresh token and writes " +
        "the new pair every 24 hours; a Secrets Manager rotation Lambda would race it.",
    });

    const refresher = new TicketFunction(stack, "LinearTokenRefresher", {
      defaults,
      entry: "linear-token-refresher",
      description: "The one place that refreshes the Linear agent's OAuth tokens (compare-and-refresh)",
      // One at a time: Linear spends a refresh token on use, so two concurrent refreshes would leave one
      // with a spent token. Callers that are throttled meanwhile retry, then find the new token stored.
      reservedConcurrentExecutions: 1,
      timeout: Duration.seconds(20),
    });
    tokens.grantRead(refresher.fn);
    grantPutValue(tokens, refresher);
    // Ahead of the expiry, on a schedule: request paths then use a valid token at once and refresh only after a
    // 401, and a throttled refresher never delays a session's first thought (tokens.ts REFRESH_AHEAD_SECONDS).
    new events.Rule(stack, "LinearTokenRefreshSchedule", {
      description: "Refreshes the Linear agent's OAuth tokens ahead of their expiry",
      schedule: events.Schedule.rate(Duration.hours(SCHEDULED_REFRESH_HOURS)),
      targets: [
        new eventTargets.LambdaFunction(refresher.fn, {
          event: events.RuleTargetInput.fromObject({ scheduled: true }),
          retryAttempts: 2,
        }),
      ],
    });
    refresher.fn.addEnvironment("LINEAR_AGENT_TOKENS_SECRET_ARN", tokens.secretArn);
    secrets.grantRead(refresher, "LINEAR_AGENT_CLIENT_SECRET");

    const install = new TicketFunction(stack, "LinearInstall", {
      defaults,
      entry: "linear-install",
      description: "GET /linear/install and /linear/callback: installs QA.tech as a Linear agent",
      // A person installs once; a flood of anonymous callbacks runs at most this many copies (and the routes
      // have their own throttle, webhook-endpoint.ts PAGE_THROTTLE), never the webhooks' concurrency.
      // In an account too small to reserve (-c webhookReservedConcurrency=unreserved), the throttle alone.
      reservedConcurrentExecutions: props.endpoint.reservesConcurrency
        ? INSTALL_RESERVED_CONCURRENCY
        : undefined,
    });
    tokens.grantRead(install.fn);
    grantPutValue(tokens, install);
    install.fn.addEnvironment("LINEAR_AGENT_TOKENS_SECRET_ARN", tokens.secretArn);
    // The client secret exchanges the code and derives the key that signs the install's state; the API key's
    // organization is the one workspace an install may be for. Not the marker key: this function answers
    // anyone on the internet, and the marker key is what makes a comment ours.
    secrets.grantRead(install, "LINEAR_AGENT_CLIENT_SECRET", "LINEAR_API_KEY");
    props.endpoint.addPage("/linear/install", install);
    props.endpoint.addPage("/linear/callback", install);

    const webhook = props.endpoint.addTracker("linear-agent");
    // The marker key keys the ids of the activities it posts, so nobody else can claim them first.
    secrets.grantRead(webhook, ...TRACKER_CATALOG["linear-agent"].webhookSecrets);
    // A stop request stops the session's running executions, found by name among the running ones.
    props.stateMachine.grant(webhook.fn, "states:ListExecutions");
    // Only the agent's own runs: a forged or buggy stop can never abort a ticket's run.
    webhook.fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["states:StopExecution"],
        resources: [
          stack.formatArn({
            service: "states",
            resource: "execution",
            // The machine's name is the 7th field of its ARN (arn:aws:states:region:account:stateMachine:name).
            resourceName: `${Fn.select(6, Fn.split(":", props.stateMachine.stateMachineArn))}:${AGENT_RUN_PREFIX}*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    const machineId = stack.getLogicalId(props.stateMachine.node.defaultChild as CfnResource);
    const executions = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${machineId}"}]}]}:${AGENT_RUN_PREFIX}*`;
    Validations.of(webhook.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${executions}]`,
      reason:
        `states:StopExecution on this state machine's agent runs (execution:<machine>:${AGENT_RUN_PREFIX}*): a ` +
        "stop request stops the running executions of one agent session, whose names are known only at run time.",
    });

    const refresherId = stack.getLogicalId(refresher.fn.node.defaultChild as CfnResource);
    for (const caller of [webhook, ...props.callers]) {
      tokens.grantRead(caller.fn);
      caller.fn.addEnvironment("LINEAR_AGENT_TOKENS_SECRET_ARN", tokens.secretArn);
      refresher.fn.grantInvoke(caller.fn);
      caller.fn.addEnvironment("LINEAR_TOKEN_REFRESHER_FUNCTION", refresher.fn.functionName);
      Validations.of(caller.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${refresherId}.Arn>:*]`,
        reason:
          "lambda:InvokeFunction on the token refresher and its versions (function:X:*), generated by CDK's " +
          "grantInvoke; no other function.",
      });
    }

    new CfnOutput(stack, "LinearInstallUrl", {
      description: "Open this link as a Linear workspace admin to install QA.tech as an agent",
      value: props.endpoint.pageUrl("/linear/install"),
    });
    new CfnOutput(stack, "LinearCallbackUrl", {
      description: "Enter this as the Linear OAuth app's callback URL",
      value: props.endpoint.pageUrl("/linear/callback"),
    });
  }
}
