import { join } from "node:path";
import { Duration } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { BUNDLING } from "../bundling";
import { functionEnvironment, type OrgConfig } from "../config";

/** What every function of one organisation's stack shares, from its config. */
export interface FunctionDefaults {
  /** The settings, as one value (lib/config.ts functionEnvironment). */
  environment: Record<string, string>;
  architecture: lambda.Architecture;
  memorySize: number;
  logRetention: logs.RetentionDays;
}

/** The function defaults a config asks for. */
export function functionDefaults(config: OrgConfig): FunctionDefaults {
  return {
    environment: functionEnvironment(config),
    architecture:
      config.lambda.architecture === "arm64" ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
    memorySize: config.lambda.memorySizeMb,
    // The schema accepts only the periods CloudWatch Logs offers.
    logRetention: config.logRetentionDays as logs.RetentionDays,
  };
}

export interface TicketFunctionProps {
  defaults: FunctionDefaults;
  /** Folder under functions/ whose index.ts exports `handler`. */
  entry: string;
  description: string;
  /** Default: the config's (FunctionDefaults). */
  memorySize?: number;
  /** Default 30 s: the peers' client timeout is 10 s, so a hung peer is a retry, not a dead Lambda. */
  timeout?: Duration;
  /** Caps how many copies run at once (and reserves them). Default: unreserved. */
  reservedConcurrentExecutions?: number;
}

/**
 * Every function of the stack, with the defaults in one place: newest Node runtime, bundled as BUNDLING
 * (lib/bundling.ts: locally with esbuild, AWS SDK included, minified with source maps), its own log
 * group with a retention, and its own role that may write only to that log group (instead of the managed
 * AWSLambdaBasicExecutionRole, which may write to every log group of the account). Callers grant the rest.
 */
export class TicketFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: TicketFunctionProps) {
    super(scope, id);
    const { defaults } = props;
    const logGroup = new logs.LogGroup(this, "Logs", { retention: defaults.logRetention });
    this.role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: `${props.description} (writes only its own log group)`,
    });
    // logs:CreateLogStream and logs:PutLogEvents on this log group's streams only.
    logGroup.grantWrite(this.role);
    this.fn = new NodejsFunction(this, "Function", {
      entry: join(__dirname, "..", "..", "functions", props.entry, "index.ts"),
      handler: "handler",
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: defaults.architecture,
      memorySize: props.memorySize ?? defaults.memorySize,
      timeout: props.timeout ?? Duration.seconds(30),
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      logGroup,
      role: this.role,
      environment: { NODE_OPTIONS: "--enable-source-maps", ...defaults.environment },
      bundling: BUNDLING,
    });
  }
}
