// A load client in its own process, so the latency measured is the server's, not the cost of generating
// load in the same event loop: `tsx bench/webhook-load.ts <url> <secret> <count>`. It opens <count>
// keep-alive connections first (so connection set-up is not timed), then sends <count> signed "label
// added" Linear webhooks for distinct issues at once and prints each answer's time in ms as JSON.
import { Agent, request } from "node:http";
import { TRACKER_CATALOG } from "../functions/shared/trackers/catalog";
import { linearFixture, signedLinearDelivery } from "../simulators/signing";

const agent = new Agent({ keepAlive: true, maxSockets: 10_000 });

function post(url: string, delivery: { body: string; headers: Record<string, string> }): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const headers = { ...delivery.headers, "content-length": String(Buffer.byteLength(delivery.body)) };
    const req = request(
      `${url}${TRACKER_CATALOG.linear.webhookPath}`,
      { method: "POST", headers, agent },
      (res) => {
        res.resume();
        res.on("end", () => {
          if (res.statusCode === 200) resolve(performance.now() - started);
          else reject(new Error(`webhook answered ${res.statusCode}`));
        });
      },
    );
    req.on("error", reject);
    req.end(delivery.body);
  });
}

async function main() {
  const [url, secret, count] = process.argv.slice(2);
  const n = Number(count);
  const base = linearFixture("Issue.update.label-added");
  const deliveries = Array.from({ length: n }, (_, i) => {
    const id = `00000000-0000-4000-9000-${i.toString(16).padStart(12, "0")}`;
    return signedLinearDelivery(
      { ...base, data: { ...(base.data as object), id, identifier: `LAT-${i}` } },
      secret,
    );
  });
  const ignored = signedLinearDelivery(linearFixture("Issue.update.label-removed"), secret);
  await Promise.all(deliveries.map(() => post(url, ignored)));
  const times = await Promise.all(deliveries.map((d) => post(url, d)));
  agent.destroy();
  process.stdout.write(JSON.stringify({ times }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
