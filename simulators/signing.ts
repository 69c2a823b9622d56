import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** Reads a Linear webhook fixture (test/fixtures/linear/<name>.json). */
export function linearFixture(name: string): Record<string, unknown> {
  return JSON.parse(
    readFileSync(join(__dirname, "..", "test", "fixtures", "linear", `${name}.json`), "utf8"),
  );
}

/** A delivery as Linear sends it: the body with a fresh webhookTimestamp, signed with `secret`. */
export function signedLinearDelivery(
  payload: Record<string, unknown>,
  secret: string,
  options: { timestamp?: number; delivery?: string } = {},
): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({ ...payload, webhookTimestamp: options.timestamp ?? Date.now() });
  return {
    body,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "linear-delivery": options.delivery ?? "6f1a2b3c-0000-4000-8000-000000000001",
      "linear-event": String(payload.type),
      "linear-signature": createHmac("sha256", secret).update(body).digest("hex"),
      "user-agent": "Linear-Webhook",
    },
  };
}
