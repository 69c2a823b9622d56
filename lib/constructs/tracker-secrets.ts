import { CfnOutput, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import type { SecretName } from "../../functions/shared/platform/secrets";
import { secretId } from "../config";
import type { TicketFunction } from "./ticket-function";

/** What each secret holds, as its description in Secrets Manager says; `generated` ones the stack fills. */
const SECRETS: Record<SecretName, { description: string; generated?: boolean }> = {
  QATECH_API_KEY: { description: "QA.tech API key (Organization Settings -> API Keys)." },
  LINEAR_API_KEY: { description: "Linear API key of the user that comments." },
  LINEAR_WEBHOOK_SECRET: { description: "Linear webhook signing secret." },
  JIRA_EMAIL: { description: "Email of the Jira account that comments." },
  JIRA_API_TOKEN: { description: "API token of that Jira account." },
  JIRA_WEBHOOK_SECRET: { description: "Secret of the Jira webhook (X-Hub-Signature)." },
  LINEAR_AGENT_CLIENT_SECRET: { description: "Client secret of the Linear OAuth app (the agent)." },
  LINEAR_AGENT_WEBHOOK_SECRET: { description: "Webhook signing secret of the Linear OAuth app (the agent)." },
  MARKER_KEY: {
    description:
      "Generated at deploy: signs the markers that tie qa-ticket's comments to their ticket and conversation. " +
      "Changing it makes earlier threads unrecognised (follow-ups there are ignored).",
    generated: true,
  },
};

export interface TrackerSecretsProps {
  /** The organisation: secrets are named `qa-ticket/<org>/<name>`. */
  org: string;
}

/**
 * The organisation's credentials in Secrets Manager, one secret per value, created when a function is first
 * granted one. A function gets the secret's ARN in `<NAME>_SECRET_ARN` and may read that secret only.
 */
export class TrackerSecrets extends Construct {
  private readonly secrets = new Map<SecretName, secretsmanager.Secret>();

  constructor(
    scope: Construct,
    id: string,
    private readonly props: TrackerSecretsProps,
  ) {
    super(scope, id);
  }

  /** Lets a function read exactly these secrets. */
  grantRead(fn: TicketFunction, ...names: SecretName[]): void {
    for (const name of names) {
      const secret = this.secret(name);
      secret.grantRead(fn.fn);
      fn.fn.addEnvironment(`${name}_SECRET_ARN`, secret.secretArn);
    }
  }

  /** Prints, as stack outputs, the command that fills each secret the stack could not fill itself. */
  addFillOutputs(): void {
    for (const [name, secret] of this.secrets) {
      if (SECRETS[name].generated) continue;
      new CfnOutput(this, `${name.replaceAll("_", "")}Secret`, {
        description: `Fill ${name}`,
        value: `aws secretsmanager put-secret-value --secret-id ${secret.secretName} --secret-string '<${name}>'`,
      });
    }
  }

  private secret(name: SecretName): secretsmanager.Secret {
    const existing = this.secrets.get(name);
    if (existing) return existing;
    const { description, generated } = SECRETS[name];
    // In the stack's own scope, under its own name: its logical id then never changes, so no refactoring of
    // this construct can make CloudFormation replace a secret, and lose its value.
    const created = new secretsmanager.Secret(Stack.of(this), name, {
      secretName: secretId(this.props.org, name),
      description: generated
        ? description
        : `${description} Fill with: aws secretsmanager put-secret-value --secret-id <this name> --secret-string '<value>'`,
      generateSecretString: generated ? { passwordLength: 64, excludePunctuation: true } : undefined,
      // The credentials outlive the stack: `cdk destroy` leaves them (and the marker key, without which
      // earlier threads are no longer recognised); docs/operations.md "Removal" says how the same org is deployed again.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(created).acknowledge({
      id: "AwsSolutions-SMG4",
      reason: generated
        ? "The key signs the markers in comments already posted; rotating it would make every earlier thread " +
          "unrecognised (follow-ups there ignored). It never leaves the two functions that read it."
        : "The value is a third-party credential (QA.tech/Linear/Jira API key or webhook signing secret) that " +
          "only its issuer can create or revoke; a rotation Lambda has no API to rotate it. Rotate by hand: " +
          "issue a new key, put-secret-value, revoke the old one (functions re-read within 5 minutes).",
    });
    this.secrets.set(name, created);
    return created;
  }
}
