import { type LocalRunner, startLocalRunner } from "../../lib/local/runner";
import { type FakeLinear, type FakeLinearOptions, startFakeLinear } from "../fakes/linear";
import { type FakeQaTech, type FakeQaTechOptions, startFakeQaTech } from "../fakes/qatech";
import { linearFixture, signedLinearDelivery } from "./linear-webhook";

export const LINEAR_WEBHOOK_SECRET = "lin_wh_test_secret";
export const QATECH_API_KEY = "qa-test-key";
export const LINEAR_API_KEY = "lin_api_test";

export interface Harness {
  runner: LocalRunner;
  qatech: FakeQaTech;
  linear: FakeLinear;
  /** Sends a Linear fixture (or payload) as a signed delivery to the runner; returns status and JSON body. */
  sendLinear(
    fixture: string | Record<string, unknown>,
    options?: { secret?: string; timestamp?: number; headers?: Record<string, string> },
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

/**
 * The whole product on one machine: the local runner against the QA.tech and Linear simulators.
 * WAIT_SCALE 0.01 turns the 3 s first wait into 30 ms; the schedule itself is unchanged.
 */
export async function startHarness(
  options: { qatech?: FakeQaTechOptions; linear?: FakeLinearOptions; env?: Record<string, string> } = {},
): Promise<Harness> {
  const qatech = await startFakeQaTech({ apiKey: QATECH_API_KEY, ...options.qatech });
  const linear = await startFakeLinear({ apiKey: LINEAR_API_KEY, ...options.linear });
  const runner = await startLocalRunner({
    port: 0,
    env: {
      QATECH_API_KEY,
      QATECH_API_URL: qatech.url,
      QATECH_PROJECT_SHORT_ID: "proj_demo",
      LINEAR_API_KEY,
      LINEAR_API_URL: linear.url,
      LINEAR_WEBHOOK_SECRET,
      WAIT_SCALE: "0.01",
      ...options.env,
    },
  });
  return {
    runner,
    qatech,
    linear,
    async sendLinear(fixture, opts = {}) {
      const payload = typeof fixture === "string" ? linearFixture(fixture) : fixture;
      const delivery = signedLinearDelivery(payload, opts.secret ?? LINEAR_WEBHOOK_SECRET, opts);
      const res = await fetch(`${runner.url}/webhooks/linear`, {
        method: "POST",
        headers: { ...delivery.headers, ...opts.headers },
        body: delivery.body,
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : {} };
    },
    async close() {
      await runner.close();
      await Promise.all([qatech.close(), linear.close()]);
    },
  };
}
