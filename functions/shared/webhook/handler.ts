import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { TrackerName, Trigger } from "../domain/ticket";
import { PayloadError } from "../platform/errors";
import { createLogger } from "../platform/log";
import { header, MAX_BODY_BYTES, rawBody, respond, type StartRun } from "./starter";

/** What differs between trackers at the webhook edge: how a delivery is verified and what it means. */
export interface WebhookSpec {
  tracker: TrackerName;
  /** Header that identifies a delivery, logged to correlate with the tracker's delivery log. */
  deliveryHeader: string;
  /** Checks the signature over the raw body; returns why it is refused, or null when it is genuine. */
  verify(body: Buffer, event: APIGatewayProxyEventV2): Promise<string | null>;
  /** The body field that names the tracker's event (`type` for Linear, `webhookEvent` for Jira). */
  eventField: string;
  /** The events acted on, keyed by the tracker's own names: each turns a body into a run, or null. */
  events: Record<string, (payload: unknown) => Trigger | null>;
}

/** Routes a parsed body to its event's detector: null for events not in the table. */
function detect(spec: WebhookSpec, payload: unknown): Trigger | null {
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
export function createWebhookHandler(spec: WebhookSpec, startRun: StartRun): Handler {
  const log = createLogger({ service: "qa-ticket", fn: `${spec.tracker}-webhook` });
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
      const trigger = detect(spec, payload);
      if (!trigger) return answer(200, "ignored");
      const result = await startRun(trigger);
      return answer(200, result, { runId: trigger.runId });
    } catch (error) {
      if (error instanceof PayloadError) return answer(400, "bad request", { reason: error.message });
      log.error("webhook failed", { tracker: spec.tracker, delivery, error });
      return respond(500, { outcome: "error" });
    }
  };
}
