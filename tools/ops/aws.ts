import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { ListSubscriptionsByTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import { registerSecret } from "../../functions/shared/platform/redact";
import type { SecretName } from "../../functions/shared/platform/secrets";
import { type StackSecret, secretId, stackName } from "../../lib/config";

/** The AWS clients `setup` and `doctor` use; tests pass clients mocked with aws-sdk-client-mock. */
export interface AwsClients {
  secrets: SecretsManagerClient;
  cloudFormation: CloudFormationClient;
  sns: SNSClient;
}

/** Clients for the account and region the environment names (AWS_PROFILE, AWS_REGION, ...), as the CDK uses. */
export function defaultAwsClients(): AwsClients {
  return {
    secrets: new SecretsManagerClient({}),
    cloudFormation: new CloudFormationClient({}),
    sns: new SNSClient({}),
  };
}

/** Why setup and doctor cannot use AWS, and what to do about it. */
export interface AwsAccessProblem {
  detail: string;
  fix: string;
}

/**
 * Whether the environment gives the AWS SDK a region and credentials, asked of the clients' own resolvers
 * (the same chain `cdk deploy` uses: AWS_REGION, AWS_PROFILE, ~/.aws/config and credentials, SSO), before
 * any call: the SDK's own errors ("Region is missing", "Could not load credentials from any providers")
 * name neither the variable to set nor the command to run. Null when both resolve.
 */
export async function awsAccessProblem(
  clients: AwsClients,
  env: NodeJS.ProcessEnv = process.env,
): Promise<AwsAccessProblem | null> {
  const config = clients.secrets.config;
  const profile = env.AWS_PROFILE;
  const problems: string[] = [];
  try {
    await config.region();
  } catch {
    problems.push(
      profile
        ? `no AWS region (neither AWS_REGION nor a region for AWS_PROFILE=${profile})`
        : "no AWS region",
    );
  }
  try {
    await config.credentials();
  } catch (error) {
    const said = error instanceof Error ? error.message : String(error);
    problems.push(`no AWS credentials${profile ? ` for AWS_PROFILE=${profile}` : ""} (the AWS SDK: ${said})`);
  }
  if (!problems.length) return null;
  const login = profile ? `aws sso login --profile ${profile}` : "aws sso login";
  return {
    detail: `${problems.join("; ")}; setup and doctor use the same AWS credentials and region as cdk deploy`,
    fix:
      `set AWS_REGION (e.g. export AWS_REGION=eu-west-1) and AWS_PROFILE to the profile you deploy with ` +
      `(export AWS_PROFILE=<profile>); with AWS IAM Identity Center, sign in with \`${login}\` ` +
      "(sessions expire); or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
  };
}

/** A deployed stack: its status and outputs; null when it does not exist. */
export interface DeployedStack {
  status: string;
  outputs: Record<string, string>;
}

/** Reads the organisation's stack, or null when there is none. */
export async function readStack(clients: AwsClients, org: string): Promise<DeployedStack | null> {
  try {
    const { Stacks } = await clients.cloudFormation.send(
      new DescribeStacksCommand({ StackName: stackName(org) }),
    );
    const stack = Stacks?.[0];
    if (!stack) return null;
    const outputs: Record<string, string> = {};
    for (const output of stack.Outputs ?? [])
      if (output.OutputKey) outputs[output.OutputKey] = output.OutputValue ?? "";
    return { status: stack.StackStatus ?? "UNKNOWN", outputs };
  } catch (error) {
    // CloudFormation answers a missing stack with a ValidationError "Stack with id X does not exist".
    if (error instanceof Error && /does not exist/.test(error.message)) return null;
    throw error;
  }
}

/** Stack statuses a deployment works in (not failed, not rolled back, not in progress). */
export function isUsable(status: string): boolean {
  return status === "CREATE_COMPLETE" || status === "UPDATE_COMPLETE" || status === "IMPORT_COMPLETE";
}

/** A secret's state: missing, still the stack's random placeholder, or set by someone. */
export type SecretState =
  | { kind: "missing" }
  | { kind: "placeholder"; arn: string; logicalId?: string }
  | { kind: "set"; arn: string; value: string; logicalId?: string };

/**
 * What a secret holds. The stack creates each credential with a random placeholder (one version); any
 * put-secret-value adds a version, so a secret with a single version was never filled.
 */
export async function readSecret(clients: AwsClients, org: string, name: StackSecret): Promise<SecretState> {
  const id = secretId(org, name);
  let arn: string;
  let logicalId: string | undefined;
  try {
    const described = await clients.secrets.send(new DescribeSecretCommand({ SecretId: id }));
    arn = described.ARN ?? id;
    // CloudFormation tags what it creates with the resource's logical id; the tag outlives the stack.
    logicalId = described.Tags?.find((t) => t.Key === "aws:cloudformation:logical-id")?.Value;
  } catch (error) {
    if (error instanceof Error && error.name === "ResourceNotFoundException") return { kind: "missing" };
    throw error;
  }
  const { Versions } = await clients.secrets.send(new ListSecretVersionIdsCommand({ SecretId: id }));
  if ((Versions ?? []).length <= 1) return { kind: "placeholder", arn, logicalId };
  const { SecretString } = await clients.secrets.send(new GetSecretValueCommand({ SecretId: id }));
  // Read, so never shown: a peer's echo of it in setup's or doctor's output is redacted. The Jira account's
  // email is stored as a secret but is no credential, and doctor's messages name it.
  if (name !== "JIRA_EMAIL") registerSecret(SecretString?.trim());
  return SecretString?.trim()
    ? { kind: "set", arn, value: SecretString.trim(), logicalId }
    : { kind: "placeholder", arn, logicalId };
}

/** Stores a credential as the secret's new current value. */
export async function storeSecret(
  clients: AwsClients,
  org: string,
  name: SecretName,
  value: string,
): Promise<void> {
  await clients.secrets.send(
    new PutSecretValueCommand({ SecretId: secretId(org, name), SecretString: value }),
  );
}

/** The alarm topic's subscriptions: how many there are and how many their owners confirmed. */
export async function topicSubscriptions(
  clients: AwsClients,
  topicArn: string,
): Promise<{ confirmed: string[]; pending: string[] }> {
  const confirmed: string[] = [];
  const pending: string[] = [];
  let next: string | undefined;
  do {
    const page = await clients.sns.send(
      new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken: next }),
    );
    for (const s of page.Subscriptions ?? []) {
      const who = `${s.Protocol} ${s.Endpoint}`;
      // SNS lists an unconfirmed subscription with the ARN "PendingConfirmation".
      if (!s.SubscriptionArn || s.SubscriptionArn === "PendingConfirmation") pending.push(who);
      else confirmed.push(who);
    }
    next = page.NextToken;
  } while (next);
  return { confirmed, pending };
}
