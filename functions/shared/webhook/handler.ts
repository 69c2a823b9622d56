import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { TrackerName, Trigger } from "../domain/ticket";
import { PayloadError } from "../platform/errors";
import { functionLogger } from "../platform/log";
import { emitMetric, METRIC } from "../platform/metrics";
import type { StartRun } from "./starter";

/**
 * Largest webhook body accepted: what the platform can deliver. Lambda takes a request of at most 6 MB,
 * and API Gateway base64-encodes bodies it does not treat as text (4 MiB becomes 5.3 MB, plus the event's
 * envelope). Linear and Jira send a few KB; a genuine delivery that is large (a huge description) is
 * handled, its fields cut (limits.ts). Anything larger is refused with 413 and logged as an error.
 */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * What differs between trackers at the webhook edge: how a delivery is verified and what it means. Detection
 * yields a `T`: the run itself (a Trigger, the default), or for a spec that acts on more than the run (the
 * Linear agent) the run with what `act` needs from the delivery, so nothing parses the payload twice.
 */
export interface WebhookSpec<T = Trigger> {
  tracker: TrackerName;
  /** Header that identifies a delivery, logged to correlate with the tracker's delivery log. */
  deliveryHeader: string;
  /** Checks the signature over the raw body; returns why it is refused, or null when it is genuine. */
  verify(body: Buffer, event: APIGatewayProxyEventV2): Promise<string | null>;
  /** The body field that names the tracker's event (`type` for Linear, `webhookEvent` for Jira). */
  eventField: string;
  /** The events acted on, keyed by the tracker's own names: each turns a body into a run, or null. */
  events: Record<string, (payload: unknown) => T | null>;
  /**
   * How a detected run is acted on, when starting it is not all (the Linear agent posts its first thought
   * before the run starts, and stops a session's runs). Default: start the run. Returns the outcome logged.
   */
  act?: (detected: T, context: ActContext) => Promise<string>;
}

/** A spec whose detection yields more than the run: it says which run that is, and acts on it itself. */
export interface ActingWebhookSpec<T> extends WebhookSpec<T> {
  /** The run a detected value asks for (its runId is logged). */
  runOf(detected: T): Trigger;
  act(detected: T, context: ActContext): Promise<string>;
}

/** What `act` may do: start a run, or stop the running runs whose names start with a prefix. */
export interface ActContext {
  start: StartRun;
  stop: StopRuns;
}

/**
 * Stops the running runs whose execution names start with `prefix` (and that `accept` takes, when given);
 * returns how many were stopped.
 */
export type StopRuns = (prefix: string, cause: string, accept?: (name: string) => boolean) => Promise<number>;

const noStop: StopRuns = async () => {
  throw new Error("This webhook cannot stop runs");
};

/** Routes a parsed body to its event's detector: null for events not in the table. */
function detect<T>(spec: WebhookSpec<T>, payload: unknown): T | null {
  if (typeof payload !== "object" || payload === null)
    throw new PayloadError("The body is not a JSON object");
  const event = String((payload as Record<string, unknown>)[spec.eventField]);
  // Own keys only: an event named "constructor" or "__proto__" must not reach Object's members.
  return Object.hasOwn(spec.events, event) ? spec.events[event](payload) : null;
}

type Handler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * The webhook pipeline both trackers share: size limit, signature, JSON, detection, one run per change.
 * Answers 413/401/400 for bad deliveries, 200 for everything genuine (started, duplicate or ignored),
 * and 500 only when we could not act, so the tracker delivers again and the ticket is not lost.
 */
export function createWebhookHandler(spec: WebhookSpec, startRun: StartRun, stopRuns?: StopRuns): Handler;
export function createWebhookHandler<T>(
  spec: ActingWebhookSpec<T>,
  startRun: StartRun,
  stopRuns?: StopRuns,
): Handler;
export function createWebhookHandler<T>(
  spec: WebhookSpec<T> & Partial<Pick<ActingWebhookSpec<T>, "runOf">>,
  startRun: StartRun,
  stopRuns: StopRuns = noStop,
): Handler {
  // Without runOf the spec is a WebhookSpec<Trigger> (the first overload): what it detects is the run.
  const runOf = spec.runOf ?? ((detected: T) => detected as unknown as Trigger);
  const log = functionLogger(`${spec.tracker}-webhook`);
  return async (event) => {
    const started = Date.now();
    const delivery = header(event, spec.deliveryHeader);
    const answer = (status: number, outcome: string, fields: Record<string, unknown> = {}) => {
      log.info("webhook", {
        tracker: spec.tracker,
        delivery,
        status,
        outcome,
        ms: Date.now() - started,
        ...fields,
      });
      countOutcome(spec.tracker, outcome);
      return respond(status, { outcome, ...fields });
    };
    try {
      const body = rawBody(event);
      if (body.length > MAX_BODY_BYTES) {
        // Larger than the platform delivers to a function: either not from the tracker, or a delivery
        // whose ticket would otherwise go unhandled without a trace. An error line, so it is seen.
        log.error("webhook body too large", { tracker: spec.tracker, delivery, bytes: body.length });
        return answer(413, "too large", { bytes: body.length });
      }
      const refused = await spec.verify(body, event);
      if (refused) return answer(401, "unauthorized", { reason: refused });
      let payload: unknown;
      try {
        payload = JSON.parse(body.toString("utf8"));
      } catch {
        return answer(400, "bad request", { reason: "the body is not JSON" });
      }
      const detected = detect(spec, payload);
      if (!detected) return answer(200, "ignored");
      const trigger = runOf(detected);
      const result = spec.act
        ? await spec.act(detected, { start: startRun, stop: stopRuns })
        : await startRun(trigger);
      return answer(200, result, { runId: trigger.runId });
    } catch (error) {
      if (error instanceof PayloadError) return answer(400, "bad request", { reason: error.message });
      log.error("webhook failed", { tracker: spec.tracker, delivery, error });
      countOutcome(spec.tracker, "error");
      return respond(500, { outcome: "error" });
    }
  };
}

/** One webhook answer, by tracker and outcome: the dashboard's webhook outcomes and the alarm on 401s. */
function countOutcome(tracker: string, outcome: string): void {
  emitMetric(METRIC.webhookRequests, 1, { dimensions: { Tracker: tracker, Outcome: outcome } });
}

/** The raw body bytes, exactly as signed (API Gateway base64-encodes bodies it does not treat as text). */
export function rawBody(event: APIGatewayProxyEventV2): Buffer {
  if (event.body === undefined || event.body === null) return Buffer.alloc(0);
  return Buffer.from(event.body, event.isBase64Encoded ? "base64" : "utf8");
}

/** A request header by name, case-insensitively; API Gateway joins repeated headers with commas. */
export function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

/** A small JSON answer; webhook senders only read the status, people debugging read the rest. */
export function respond(
  statusCode: number,
  body: Record<string, unknown>,
): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}
