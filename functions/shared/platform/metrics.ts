import { writeLine } from "./log";

/**
 * The integration's own metrics, written as CloudWatch embedded metric format (EMF) lines to the function's
 * log: CloudWatch Logs turns them into metrics, so counting costs no API call and no time in the function.
 * The lines go out through the log sink, so tests and the local runner see them like any log line. The
 * stack's alarms and dashboard (lib/constructs) read these names.
 *
 * Written here rather than with Powertools Metrics, which builds the same line: its 11 KB would take almost
 * half of what the webhook bundle has left under its 600 KB budget (test/functions/webhook/bundle.test.ts);
 * this writer is a few hundred bytes.
 */

/** The namespace of every metric of qa-ticket. */
export const METRICS_NAMESPACE = "QaTicket";

/** The variable the stack sets to the organisation, the dimension every metric carries. */
export const ORG_VARIABLE = "QA_TICKET_ORG";

/** The `service` dimension every metric carries (as Powertools Metrics would name it). */
export const METRICS_SERVICE = "qa-ticket";

/** The metrics; each carries `service` and `Org`, and the dimensions named here. */
export const METRIC = {
  /** A webhook delivery answered, by `Tracker` and `Outcome` (started, duplicate, ignored, unauthorized, ...). */
  webhookRequests: "WebhookRequests",
  /** Seconds from the conversation's start to the poll that saw its final reply. */
  replySeconds: "ReplySeconds",
  /** Polls one run made before its reply was final or its deadline passed. */
  pollsPerRun: "PollsPerRun",
  /** QA.tech refused a request for good: 401 (key), 402 (credits), 403 (key or organisation). */
  qatechRefused: "QaTechRefused",
} as const;

/** One of the metrics above. */
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/**
 * Emits one metric value now, as its own EMF line (https://docs.aws.amazon.com/AmazonCloudWatch/latest/
 * monitoring/CloudWatch_Embedded_Metric_Format_Specification.html): the `_aws` directive names the namespace,
 * the one dimension set and the metric; the dimension values, the value and any metadata are top-level keys.
 */
export function emitMetric(
  name: MetricName,
  value: number,
  options: {
    unit?: "Count" | "Seconds";
    dimensions?: Record<string, string>;
    metadata?: Record<string, string>;
  } = {},
): void {
  const dimensions = {
    service: METRICS_SERVICE,
    Org: process.env[ORG_VARIABLE] || "local",
    ...options.dimensions,
  };
  const line = {
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: [Object.keys(dimensions)],
          Metrics: [{ Name: name, Unit: options.unit ?? "Count" }],
        },
      ],
    },
    ...options.metadata,
    ...dimensions,
    [name]: value,
  };
  writeLine(JSON.stringify(line));
}
