import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type { StateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";

export interface AlarmsProps {
  org: string;
  stateMachine: StateMachine;
}

/** What should reach a person: any run that failed, timed out or was aborted (the Catch still commented). */
export class Alarms extends Construct {
  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const machine = props.stateMachine;
    new cloudwatch.Alarm(this, "FailedRuns", {
      alarmDescription: `qa-ticket (${props.org}): a ticket run failed, timed out or was aborted`,
      metric: new cloudwatch.MathExpression({
        expression: "failed + timedOut + aborted",
        usingMetrics: {
          failed: machine.metricFailed(),
          timedOut: machine.metricTimedOut(),
          aborted: machine.metricAborted(),
        },
        period: Duration.minutes(5),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
