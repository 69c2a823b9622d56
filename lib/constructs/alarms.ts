import { CfnOutput, Duration, Stack } from "aws-cdk-lib";
import type { IHttpApi } from "aws-cdk-lib/aws-apigatewayv2";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import type { StateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import type { TrackerName } from "../../functions/shared/domain/ticket";
import { METRIC } from "../../functions/shared/platform/metrics";
import { qaTicketMetric } from "./metrics";
import { webhookRouteKey } from "./webhook-endpoint";

/** How long the oldest start request may wait before someone should look: a bulk relabel of ~1,800 tickets. */
const START_QUEUE_AGE_ALARM = Duration.minutes(30);

/** Refused webhook deliveries (401) in 5 minutes that mean a wrong signing secret, not a stray scanner. */
const UNAUTHORIZED_BURST = 5;

export interface AlarmsProps {
  org: string;
  stateMachine: StateMachine;
  /** The webhook endpoint; its webhook routes' 5xx answers alarm (not its pages'). */
  api: IHttpApi;
  /** Trackers whose webhook is served: each one's 401s are counted. */
  trackers: TrackerName[];
  startQueue: IQueue;
  deadLetterQueue: IQueue;
  /** Email subscribed to the alarm topic. Default: none (setup asks for one; doctor warns without). */
  alarmEmail?: string;
  /** More subscribers. Default: none. */
  alarmEndpoints?: Array<{ protocol: "https" | "email"; endpoint: string }>;
}

/**
 * What should reach a person, and the SNS topic it reaches them by (email from the config, any other SNS
 * endpoint, or AWS Chatbot pointed at the topic): a run that failed; the webhook answering 5xx (trackers
 * retry, then give up or disable the webhook); a burst of 401s (the stored signing secret is not the
 * tracker's); starts waiting too long or dead-lettered; QA.tech refusing the key, the credits or the
 * organisation. Each alarm also says when it is OK again.
 */
export class Alarms extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    // In the stack's own scope: its ARN is what Chatbot and other subscribers were given.
    this.topic = new sns.Topic(Stack.of(this), "AlarmTopic", {
      displayName: `qa-ticket ${props.org} alarms`,
      enforceSSL: true,
    });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    for (const { protocol, endpoint } of props.alarmEndpoints ?? []) {
      this.topic.addSubscription(
        protocol === "email"
          ? new subscriptions.EmailSubscription(endpoint)
          : new subscriptions.UrlSubscription(endpoint, { protocol: sns.SubscriptionProtocol.HTTPS }),
      );
    }
    new CfnOutput(Stack.of(this), "AlarmTopicArn", {
      description: "Alarms are published here: subscribe more people, or point AWS Chatbot at it",
      value: this.topic.topicArn,
    });

    const machine = props.stateMachine;
    const fiveMinutes = Duration.minutes(5);
    const unauthorized: Record<string, cloudwatch.IMetric> = {};
    const serverErrors: Record<string, cloudwatch.IMetric> = {};
    for (const tracker of props.trackers) {
      // Each webhook route's 5xx (the stage's detailed metrics, webhook-endpoint.ts): the install pages' errors
      // are someone's forged code, and must not hold the webhooks' alarm in ALARM.
      serverErrors[tracker.replaceAll("-", "_")] = new cloudwatch.Metric({
        namespace: "AWS/ApiGateway",
        metricName: "5xx",
        dimensionsMap: { ApiId: props.api.apiId, Stage: "$default", Route: webhookRouteKey(tracker) },
        period: fiveMinutes,
        statistic: "Sum",
      });
      // A math expression's ids are lowercase letters, digits and underscores: linear-agent -> linear_agent.
      unauthorized[tracker.replaceAll("-", "_")] = qaTicketMetric(props.org, METRIC.webhookRequests, {
        dimensions: { Tracker: tracker, Outcome: "unauthorized" },
      });
    }
    const alarms: Array<[string, string, cloudwatch.IMetric, number]> = [
      [
        "FailedRuns",
        "a ticket run failed or timed out (its ticket got a failure comment if it could)",
        // Not aborted runs: only StopExecution aborts one, on purpose (an operator, or a stop request in a
        // Linear agent session, which ends the session with a response saying it stopped).
        new cloudwatch.MathExpression({
          expression: "failed + timedOut",
          usingMetrics: { failed: machine.metricFailed(), timedOut: machine.metricTimedOut() },
          period: fiveMinutes,
        }),
        1,
      ],
      [
        "WebhookServerErrors",
        "a webhook answered 5xx: the tracker retries, then may disable the webhook",
        new cloudwatch.MathExpression({
          expression: Object.keys(serverErrors)
            .map((t) => `FILL(${t}, 0)`)
            .join(" + "),
          usingMetrics: serverErrors,
          period: fiveMinutes,
        }),
        1,
      ],
      [
        "WebhookUnauthorized",
        `${UNAUTHORIZED_BURST} or more webhook deliveries refused as unsigned or wrongly signed in 5 minutes: ` +
          "the stored signing secret is likely not the tracker's (npm run doctor)",
        new cloudwatch.MathExpression({
          // FILL: a tracker with no refusals has no data points, which must count as 0, not as missing.
          expression: Object.keys(unauthorized)
            .map((t) => `FILL(${t}, 0)`)
            .join(" + "),
          usingMetrics: unauthorized,
          period: fiveMinutes,
        }),
        UNAUTHORIZED_BURST,
      ],
      [
        "StartQueueOld",
        `a ticket has waited over ${START_QUEUE_AGE_ALARM.toMinutes()} minutes for its conversation to start`,
        props.startQueue.metricApproximateAgeOfOldestMessage({ period: fiveMinutes, statistic: "Maximum" }),
        START_QUEUE_AGE_ALARM.toSeconds(),
      ],
      [
        "StartDeadLetters",
        "a start request was dead-lettered (its consumer kept failing); its ticket got a failure comment",
        // Received, not visible: the consumer answers dead letters at once, so they are rarely seen waiting.
        props.deadLetterQueue.metricNumberOfMessagesReceived({ period: fiveMinutes, statistic: "Sum" }),
        1,
      ],
      [
        "QaTechRefused",
        "QA.tech refused a request with 401, 402 or 403: the API key, the credits or the organisation",
        qaTicketMetric(props.org, METRIC.qatechRefused, { period: fiveMinutes }),
        1,
      ],
    ];
    const action = new SnsAction(this.topic);
    for (const [name, what, metric, threshold] of alarms) {
      const alarm = new cloudwatch.Alarm(this, name, {
        alarmDescription: `qa-ticket (${props.org}): ${what}`,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
  }
}
