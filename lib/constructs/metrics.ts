import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import { METRICS_NAMESPACE, METRICS_SERVICE, type MetricName } from "../../functions/shared/platform/metrics";

/**
 * One of the metrics the functions write as EMF lines (functions/shared/platform/metrics.ts), with exactly
 * the dimensions they write: CloudWatch matches a metric only on its full set of dimensions.
 */
export function qaTicketMetric(
  org: string,
  name: MetricName,
  options: {
    dimensions?: Record<string, string>;
    statistic?: string;
    period?: Duration;
    label?: string;
  } = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { service: METRICS_SERVICE, Org: org, ...options.dimensions },
    statistic: options.statistic ?? "Sum",
    period: options.period ?? Duration.minutes(5),
    label: options.label,
  });
}
