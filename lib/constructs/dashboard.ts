import { Aws, CfnOutput, Duration, Stack } from "aws-cdk-lib";
import type { IHttpApi } from "aws-cdk-lib/aws-apigatewayv2";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import type { StateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import {
  METRIC,
  METRICS_NAMESPACE,
  METRICS_SERVICE,
  type MetricName,
} from "../../functions/shared/platform/metrics";
import { qaTicketMetric } from "./metrics";

export interface OperationsDashboardProps {
  org: string;
  stateMachine: StateMachine;
  api: IHttpApi;
  startQueue: IQueue;
  deadLetterQueue: IQueue;
}

const PERIOD = Duration.minutes(5);

/**
 * One CloudWatch dashboard per organisation: runs started, succeeded and failed; how long replies take
 * (p50, p90) and how many polls a run needs; what the webhook answered; the start queue. Outputs its URL
 * and the state machine's console URL, where each run's steps can be read.
 */
export class OperationsDashboard extends Construct {
  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    const machine = props.stateMachine;
    const metric = (name: MetricName, statistic: string, label: string) =>
      qaTicketMetric(props.org, name, { statistic, label, period: PERIOD });
    // CloudWatch generates the name: dashboards are named per account, across regions.
    const dashboard = new cloudwatch.Dashboard(this, "Dashboard", { defaultInterval: Duration.days(1) });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: "Runs",
        left: [
          machine.metricStarted({ period: PERIOD, label: "started" }),
          machine.metricSucceeded({ period: PERIOD, label: "succeeded" }),
          machine.metricFailed({ period: PERIOD, label: "failed" }),
          machine.metricTimedOut({ period: PERIOD, label: "timed out" }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: "Reply time (s)",
        left: [metric(METRIC.replySeconds, "p50", "p50"), metric(METRIC.replySeconds, "p90", "p90")],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: "Polls per run",
        left: [
          metric(METRIC.pollsPerRun, "p50", "p50"),
          metric(METRIC.pollsPerRun, "p90", "p90"),
          metric(METRIC.pollsPerRun, "Maximum", "max"),
        ],
        width: 8,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: "Webhook answers",
        left: [
          // One line per tracker and outcome that occurred (started, ignored, unauthorized, ...).
          new cloudwatch.MathExpression({
            expression:
              `SEARCH('{${METRICS_NAMESPACE},service,Org,Tracker,Outcome} MetricName="${METRIC.webhookRequests}" ` +
              `service="${METRICS_SERVICE}" Org="${props.org}"', 'Sum', ${PERIOD.toSeconds()})`,
            usingMetrics: {},
            label: "",
            period: PERIOD,
          }),
        ],
        right: [props.api.metricServerError({ period: PERIOD, label: "5xx", statistic: "Sum" })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: "Start queue",
        left: [
          props.startQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, label: "waiting" }),
          props.deadLetterQueue.metricNumberOfMessagesReceived({
            period: PERIOD,
            label: "dead-lettered",
            statistic: "Sum",
          }),
        ],
        right: [
          props.startQueue.metricApproximateAgeOfOldestMessage({
            period: PERIOD,
            label: "oldest (s)",
            statistic: "Maximum",
          }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: "QA.tech refusals (401/402/403)",
        left: [metric(METRIC.qatechRefused, "Sum", "refused")],
        width: 8,
      }),
    );

    const stack = Stack.of(this);
    const console = `https://${Aws.REGION}.console.aws.amazon.com`;
    new CfnOutput(stack, "DashboardUrl", {
      description: "The organisation's CloudWatch dashboard",
      value: `${console}/cloudwatch/home?region=${Aws.REGION}#dashboards/dashboard/${dashboard.dashboardName}`,
    });
    new CfnOutput(stack, "StateMachineConsoleUrl", {
      description: "Every run and its steps, in the Step Functions console",
      value: `${console}/states/home?region=${Aws.REGION}#/statemachines/view/${machine.stateMachineArn}`,
    });
  }
}
