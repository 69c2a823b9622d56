import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { setLogSink } from "../../../../functions/shared/platform/log";
import { emitMetric, METRIC, ORG_VARIABLE } from "../../../../functions/shared/platform/metrics";
import { QaTechClient } from "../../../../functions/shared/qatech/client";
import { createWebhookHandler, type WebhookSpec } from "../../../../functions/shared/webhook/handler";
import { type FakeQaTech, startFakeQaTech } from "../../../../simulators/qatech";

type Emf = {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: Array<{
      Namespace: string;
      Dimensions: string[][];
      Metrics: Array<{ Name: string; Unit: string }>;
    }>;
  };
} & Record<string, unknown>;

/** The EMF lines written while `act` runs. */
async function emfLines(act: () => Promise<unknown> | unknown): Promise<Emf[]> {
  const lines: string[] = [];
  const previous = setLogSink((line) => lines.push(line));
  try {
    await act();
  } finally {
    setLogSink(previous);
  }
  return lines.map((line) => JSON.parse(line)).filter((line) => "_aws" in line);
}

describe("emitMetric", () => {
  const saved = process.env[ORG_VARIABLE];
  afterEach(() => {
    if (saved === undefined) delete process.env[ORG_VARIABLE];
    else process.env[ORG_VARIABLE] = saved;
  });

  it("writes one line of CloudWatch embedded metric format: namespace, one dimension set, the value", async () => {
    process.env[ORG_VARIABLE] = "acme";

    const [line] = await emfLines(() => emitMetric(METRIC.replySeconds, 42, { unit: "Seconds" }));

    expect(line._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: "QaTicket",
        Dimensions: [["service", "Org"]],
        Metrics: [{ Name: "ReplySeconds", Unit: "Seconds" }],
      },
    ]);
    expect(line).toMatchObject({ service: "qa-ticket", Org: "acme", ReplySeconds: 42 });
    expect(Number.isInteger(line._aws.Timestamp)).toBe(true);
  });

  it("names every dimension it carries in the dimension set, and no metadata", async () => {
    const [line] = await emfLines(() =>
      emitMetric(METRIC.webhookRequests, 1, {
        dimensions: { Tracker: "jira", Outcome: "ignored" },
        metadata: { note: "x" },
      }),
    );

    expect(line._aws.CloudWatchMetrics[0].Dimensions).toEqual([["service", "Org", "Tracker", "Outcome"]]);
    expect(line).toMatchObject({
      Org: "local",
      Tracker: "jira",
      Outcome: "ignored",
      note: "x",
      WebhookRequests: 1,
    });
  });
});

describe("the metrics the alarms and the dashboard read", () => {
  const event = (body: string) =>
    ({
      body,
      isBase64Encoded: false,
      headers: {},
      requestContext: { http: { method: "POST" } },
    }) as unknown as APIGatewayProxyEventV2;
  const spec = (refuse: boolean): WebhookSpec => ({
    tracker: "linear",
    deliveryHeader: "linear-delivery",
    verify: async () => (refuse ? "signature does not match" : null),
    eventField: "type",
    events: {},
  });

  it("counts each webhook answer by tracker and outcome: an unauthorized one, an ignored one", async () => {
    const lines = await emfLines(async () => {
      await createWebhookHandler(spec(true), async () => "started")(event("{}"));
      await createWebhookHandler(spec(false), async () => "started")(event('{"type":"Reaction"}'));
    });

    expect(lines.map((l) => [l.Tracker, l.Outcome, l.WebhookRequests])).toEqual([
      ["linear", "unauthorized", 1],
      ["linear", "ignored", 1],
    ]);
  });

  describe("QA.tech refusals", () => {
    let qatech: FakeQaTech;
    beforeAll(async () => {
      qatech = await startFakeQaTech({ apiKey: "right-key" });
    });
    afterAll(() => qatech.close());
    const read = (apiKey: string) =>
      new QaTechClient({ apiUrl: qatech.url, apiKey }).getConversation("chat_missing").catch(() => undefined);

    it("are counted for 401, 402 and 403", async () => {
      const lines = await emfLines(async () => {
        await read("wrong-key");
        qatech.failNext({ method: "GET", fault: { status: 402 } });
        qatech.failNext({ method: "GET", fault: { status: 403 } });
        await read("right-key");
        await read("right-key");
      });

      expect(lines.map((l) => [l.QaTechRefused, l.status])).toEqual([
        [1, "401"],
        [1, "402"],
        [1, "403"],
      ]);
    });

    it("are not what a missing conversation (404) or a server error is", async () => {
      qatech.failNext({ method: "GET", fault: { status: 500 } });

      const lines = await emfLines(async () => {
        await read("right-key");
        await read("right-key");
      });

      expect(lines).toEqual([]);
    });
  });
});
