import { CfnOutput, Duration, Stack, Validations } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import * as logs from "aws-cdk-lib/aws-logs";
import type { IStateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import type { TrackerName } from "../../functions/shared/domain/ticket";
import { TRACKER_CATALOG } from "../../functions/shared/trackers/catalog";
import { webhookUrlOutput } from "../config";
import { type FunctionDefaults, TicketFunction } from "./ticket-function";

/**
 * Default reserved concurrency of each webhook function. It caps what a flood of requests can cost (at most
 * this many copies run at once, whatever gets past the API's throttle) while leaving plenty of room: a
 * webhook answers in well under a second, so 10 copies handle far more than the stage's default 20 req/s.
 */
export const DEFAULT_WEBHOOK_RESERVED_CONCURRENCY = 10;

/**
 * The pages' own throttle (per route, below the stage's): a person opens them once per install, and each
 * callback spends a token-endpoint call with the client secret. Anonymous floods of the pages are cut here and
 * never eat into the webhooks' share of the stage's rate limit.
 */
export const PAGE_THROTTLE = { rateLimitPerSecond: 1, burst: 5 };

/** The route key of a tracker's webhook (API Gateway's `METHOD /path`); the alarm counts its 5xx by it. */
export function webhookRouteKey(tracker: TrackerName): string {
  return `POST ${TRACKER_CATALOG[tracker].webhookPath}`;
}

export interface WebhookEndpointProps {
  org: string;
  defaults: FunctionDefaults;
  /** The workflow each genuine trigger starts an execution of. */
  stateMachine: IStateMachine;
  /** Steady requests per second, and the burst above it, the endpoint accepts. */
  throttle: { rateLimitPerSecond: number; burst: number };
  /**
   * Reserved concurrency of each webhook function, or "unreserved".
   * @default DEFAULT_WEBHOOK_RESERVED_CONCURRENCY (10)
   */
  reservedConcurrency?: number | "unreserved";
}

/**
 * The public HTTPS endpoint (API Gateway HTTP API, throttled, access-logged) and, per tracker, a route
 * `POST /webhooks/<tracker>` to its own webhook function (TRACKER_CATALOG: its path and its entry folder).
 */
export class WebhookEndpoint extends Construct {
  /** The HTTP API; its metrics feed the alarms and the dashboard. */
  readonly api: apigw.HttpApi;
  private readonly stage: apigw.HttpStage;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: WebhookEndpointProps,
  ) {
    super(scope, id);
    // The API in the stack's own scope: its logical id, and so its URL, which the trackers were given,
    // never change with a refactoring of this construct.
    const stack = Stack.of(this);
    const accessLogs = new logs.LogGroup(stack, "WebhookAccessLogs", {
      retention: props.defaults.logRetention,
    });
    this.api = new apigw.HttpApi(stack, "WebhookApi", {
      description: `qa-ticket webhooks for ${props.org}`,
      createDefaultStage: false,
    });
    this.stage = new apigw.HttpStage(stack, "WebhookStage", {
      httpApi: this.api,
      stageName: "$default",
      autoDeploy: true,
      throttle: { rateLimit: props.throttle.rateLimitPerSecond, burstLimit: props.throttle.burst },
      accessLogSettings: { destination: new apigw.LogGroupLogDestination(accessLogs) },
    });
  }

  /** The webhook function and route of one tracker; returns the function, to grant it its secret. */
  addTracker(tracker: TrackerName): TicketFunction {
    const facts = TRACKER_CATALOG[tracker];
    const title = facts.stackName;
    const reserved = this.props.reservedConcurrency ?? DEFAULT_WEBHOOK_RESERVED_CONCURRENCY;
    const fn = new TicketFunction(Stack.of(this), `${title}Webhook`, {
      defaults: this.props.defaults,
      // Each route its own small function, bundling its own tracker's webhook only.
      entry: facts.webhookEntry,
      description: facts.webhookDescription,
      timeout: Duration.seconds(10),
      reservedConcurrentExecutions: reserved === "unreserved" ? undefined : reserved,
    });
    fn.fn.addEnvironment("STATE_MACHINE_ARN", this.props.stateMachine.stateMachineArn);
    this.props.stateMachine.grantStartExecution(fn.fn);
    const routes = this.api.addRoutes({
      path: facts.webhookPath,
      methods: [apigw.HttpMethod.POST],
      integration: new HttpLambdaIntegration(`${tracker}Integration`, fn.fn),
    });
    // Per-route metrics: the WebhookServerErrors alarm counts the webhooks' 5xx, not the pages' (alarms.ts).
    this.routeSettings(webhookRouteKey(tracker), { DetailedMetricsEnabled: true }, routes);
    for (const route of routes) {
      Validations.of(route).acknowledge({
        id: "AwsSolutions-APIG4",
        reason:
          `${title} cannot send AWS-signed (IAM), Cognito or JWT-authorised requests. Each delivery is ` +
          "authenticated in the function by an HMAC-SHA256 signature over the raw body with the webhook " +
          "secret, compared in constant time, failing closed before any work is done.",
      });
    }
    new CfnOutput(Stack.of(this), webhookUrlOutput(tracker), {
      description: `Give this URL to ${title} as the webhook URL`,
      value: this.urlOf(tracker),
    });
    return fn;
  }

  /**
   * A page people open (GET `path`, e.g. the Linear agent's install link), served by `fn`. Public by design:
   * what the page does is guarded in the function (the install's signed state).
   */
  addPage(path: string, fn: TicketFunction): void {
    const routes = this.api.addRoutes({
      path,
      methods: [apigw.HttpMethod.GET],
      integration: new HttpLambdaIntegration(`${path.replaceAll("/", "")}Integration`, fn.fn),
    });
    this.routeSettings(
      `GET ${path}`,
      {
        ThrottlingRateLimit: PAGE_THROTTLE.rateLimitPerSecond,
        ThrottlingBurstLimit: PAGE_THROTTLE.burst,
      },
      routes,
    );
    for (const route of routes) {
      Validations.of(route).acknowledge({
        id: "AwsSolutions-APIG4",
        reason:
          "A page a person opens in a browser during the OAuth install, so it cannot carry AWS credentials. The " +
          "callback stores nothing unless the state is signed by this deployment, unexpired, and bound to the " +
          "browser that started the install (cookie); the code is then exchanged with the client secret.",
      });
    }
  }

  /**
   * One route's settings on the stage (throttle, detailed metrics). CloudFormation refuses route settings for a
   * route key that does not exist yet, so the stage waits for the routes.
   */
  private routeSettings(
    routeKey: string,
    settings: Record<string, unknown>,
    routes: apigw.HttpRoute[],
  ): void {
    const stage = this.stage.node.defaultChild as apigw.CfnStage;
    stage.addPropertyOverride(`RouteSettings.${routeKey}`, settings);
    for (const route of routes) stage.node.addDependency(route);
  }

  /** Whether functions behind this endpoint reserve concurrency (not in an account deployed "unreserved"). */
  get reservesConcurrency(): boolean {
    return this.props.reservedConcurrency !== "unreserved";
  }

  /** The URL of a page added with addPage. */
  pageUrl(path: string): string {
    return `${this.stage.url}${path.replace(/^\//, "")}`;
  }

  /** The URL a tracker delivers to. */
  urlOf(tracker: TrackerName): string {
    return `${this.stage.url}${TRACKER_CATALOG[tracker].webhookPath.slice(1)}`;
  }
}
