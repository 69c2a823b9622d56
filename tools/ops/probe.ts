import { createHmac } from "node:crypto";
import type { TrackerName } from "../../functions/shared/domain/ticket";
import { TRACKER_CATALOG } from "../../functions/shared/trackers/catalog";

/** Per tracker, a delivery of an event the integration ignores, in the tracker's envelope. */
const PROBE_BODIES: Record<TrackerName, () => string> = {
  // A resource type the integration does not act on, in Linear's envelope; timestamped, as Linear signs it.
  linear: () =>
    JSON.stringify({ action: "create", type: "QaTicketProbe", data: {}, webhookTimestamp: Date.now() }),
  // An AgentSessionEvent with an action the agent does not act on (it acts on created and prompted): it passes
  // the signature and the 60 s window, reaches detectAgentEvent, and is ignored.
  "linear-agent": () =>
    JSON.stringify({
      type: "AgentSessionEvent",
      action: "qaTicketProbe",
      agentSession: { id: "qa-ticket-doctor" },
      webhookTimestamp: Date.now(),
    }),
  jira: () => JSON.stringify({ webhookEvent: "qa_ticket:probe", timestamp: Date.now() }),
};

/**
 * A signed request to a deployed webhook endpoint, of an event the integration ignores: it proves the
 * endpoint is reachable, the function runs, and the stored signing secret is the one the function checks
 * with, without starting anything. A genuine delivery answers 200 `ignored`; a wrong secret 401.
 */
export async function probeWebhook(
  tracker: TrackerName,
  url: string,
  secret: string,
): Promise<{ status: number; outcome?: string } | { error: string }> {
  const body = PROBE_BODIES[tracker]();
  const signature = createHmac("sha256", secret).update(body).digest("hex");
  const headers: Record<string, string> =
    TRACKER_CATALOG[tracker].signatureHeader === "linear-signature"
      ? {
          "content-type": "application/json",
          "linear-signature": signature,
          "linear-delivery": "qa-ticket-doctor",
        }
      : { "content-type": "application/json", "x-hub-signature": `sha256=${signature}` };
  try {
    const res = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    let outcome: string | undefined;
    try {
      outcome = (JSON.parse(text) as { outcome?: string }).outcome;
    } catch {
      outcome = undefined;
    }
    return { status: res.status, outcome };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}
