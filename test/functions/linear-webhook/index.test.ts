import { createHmac } from "node:crypto";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-jest";
import { createWebhook, handler } from "../../../functions/linear-webhook";
import type { Trigger } from "../../../functions/shared/domain/ticket";
import { setLogSink } from "../../../functions/shared/platform/log";
import { clearSecretCache, SECRET_MAX_AGE_SECONDS } from "../../../functions/shared/platform/secrets";
import { MAX_BODY_BYTES } from "../../../functions/shared/webhook/handler";
import type { StartRun } from "../../../functions/shared/webhook/starter";
import { linearFixture, signedLinearDelivery } from "../../../simulators/signing";
import { settingsEnv } from "../../support/settings";

/** The Linear webhook's handler, for a given start and environment. */
const createLinearWebhookHandler =
  (startRun: StartRun, env: NodeJS.ProcessEnv) =>
  async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> =>
    createWebhook(startRun, { ...settingsEnv(), ...env })(event);

const SECRET = "lin_wh_unit_secret_5b1d";
const SECRET_ARN =
  "arn:aws:secretsmanager:eu-west-1:123456789012:secret:qa-ticket/acme/linear-webhook-secret-AbCdEf";
const STATE_MACHINE_ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:Workflow-abc";
/** A phrase from the label-added fixture's description: it must never reach the logs. */
const DESCRIPTION_PHRASE = "Press **Checkout**";

/** An API Gateway HTTP API (payload 2.0) event carrying `body`. */
function apiEvent(
  body: string | Buffer,
  headers: Record<string, string>,
  options: { base64?: boolean } = {},
): APIGatewayProxyEventV2 {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, "utf8");
  return {
    version: "2.0",
    routeKey: "POST /webhooks/linear",
    rawPath: "/webhooks/linear",
    rawQueryString: "",
    headers,
    body: options.base64 ? bytes.toString("base64") : bytes.toString("utf8"),
    isBase64Encoded: options.base64 ?? false,
    requestContext: {
      accountId: "123456789012",
      apiId: "abc123",
      domainName: "abc123.execute-api.eu-west-1.amazonaws.com",
      domainPrefix: "abc123",
      http: {
        method: "POST",
        path: "/webhooks/linear",
        protocol: "HTTP/1.1",
        sourceIp: "35.231.147.226",
        userAgent: "Linear-Webhook",
      },
      requestId: "req-1",
      routeKey: "POST /webhooks/linear",
      stage: "$default",
      time: "20/Nov/2026:10:15:02 +0000",
      timeEpoch: Date.now(),
    },
  };
}

/** A signed delivery of a fixture (or payload) as an API Gateway event. */
function delivery(
  fixture: string | Record<string, unknown>,
  options: { secret?: string; timestamp?: number; base64?: boolean } = {},
) {
  const payload = typeof fixture === "string" ? linearFixture(fixture) : fixture;
  const signed = signedLinearDelivery(payload, options.secret ?? SECRET, options);
  return { event: apiEvent(signed.body, signed.headers, options), signed };
}

/** Headers of a delivery of `body` signed with `secret`. */
function signedHeaders(body: string | Buffer, secret = SECRET): Record<string, string> {
  return {
    "content-type": "application/json; charset=utf-8",
    "linear-delivery": "6f1a2b3c-0000-4000-8000-000000000002",
    "linear-event": "Issue",
    "linear-signature": createHmac("sha256", secret).update(body).digest("hex"),
  };
}

const outcome = (result: APIGatewayProxyStructuredResultV2) => JSON.parse(String(result.body)).outcome;

/** A StartRun that records what it was asked to start. */
function recordingStartRun(answer: "started" | "duplicate" = "started") {
  const started: Trigger[] = [];
  const startRun: StartRun = async (trigger) => {
    started.push(trigger);
    return answer;
  };
  return { started, startRun };
}

let logLines: string[] = [];
let previousSink: (line: string) => void;
beforeEach(() => {
  logLines = [];
  previousSink = setLogSink((line) => logLines.push(line));
});
afterEach(() => {
  setLogSink(previousSink);
});

describe("Linear webhook (with a recording StartRun)", () => {
  const env = { LINEAR_WEBHOOK_SECRET: SECRET };

  it("starts one run for a signed 'label added' delivery and answers 200", async () => {
    const { started, startRun } = recordingStartRun();
    const { event } = delivery("Issue.update.label-added");

    const result = await createLinearWebhookHandler(startRun, env)(event);

    expect(result.statusCode).toBe(200);
    expect(JSON.parse(String(result.body))).toEqual({ outcome: "started", runId: started[0]?.runId });
    expect(started).toHaveLength(1);
    expect(started[0].ticket).toMatchObject({ tracker: "linear", key: "ENG-42" });
  });

  it("answers 200 'duplicate' for a change that was already started", async () => {
    const { started, startRun } = recordingStartRun("duplicate");

    const result = await createLinearWebhookHandler(
      startRun,
      env,
    )(delivery("Issue.update.label-added").event);

    expect(result.statusCode).toBe(200);
    expect(outcome(result)).toBe("duplicate");
    expect(started).toHaveLength(1);
  });

  it("refuses a delivery signed with another secret with 401 and starts nothing", async () => {
    const { started, startRun } = recordingStartRun();
    const { event } = delivery("Issue.update.label-added", { secret: "someone-elses-secret" });

    const result = await createLinearWebhookHandler(startRun, env)(event);

    expect(result.statusCode).toBe(401);
    expect(started).toEqual([]);
  });

  it("refuses a delivery whose body was changed after signing with 401", async () => {
    const { started, startRun } = recordingStartRun();
    const { signed } = delivery("Issue.update.label-added");
    const tampered = signed.body.replace("Checkout crashes", "Checkout crashez");

    const result = await createLinearWebhookHandler(startRun, env)(apiEvent(tampered, signed.headers));

    expect(result.statusCode).toBe(401);
    expect(started).toEqual([]);
  });

  it("refuses a delivery without the Linear-Signature header with 401", async () => {
    const { started, startRun } = recordingStartRun();
    const { signed } = delivery("Issue.update.label-added");
    const { "linear-signature": _dropped, ...headers } = signed.headers;

    const result = await createLinearWebhookHandler(startRun, env)(apiEvent(signed.body, headers));

    expect(result.statusCode).toBe(401);
    expect(started).toEqual([]);
  });

  it("refuses a correctly signed delivery sent more than 60 s ago with 401 (replay)", async () => {
    const { started, startRun } = recordingStartRun();
    const { event } = delivery("Issue.update.label-added", { timestamp: Date.now() - 61_000 });

    const result = await createLinearWebhookHandler(startRun, env)(event);

    expect(result.statusCode).toBe(401);
    expect(started).toEqual([]);
  });

  it("accepts a delivery sent a few seconds ago", async () => {
    const { started, startRun } = recordingStartRun();
    const { event } = delivery("Issue.update.label-added", { timestamp: Date.now() - 5_000 });

    const result = await createLinearWebhookHandler(startRun, env)(event);

    expect(result.statusCode).toBe(200);
    expect(started).toHaveLength(1);
  });

  it("answers 400 to a correctly signed body that is not JSON", async () => {
    const { started, startRun } = recordingStartRun();
    const body = "this is not { json";

    const result = await createLinearWebhookHandler(startRun, env)(apiEvent(body, signedHeaders(body)));

    expect(result.statusCode).toBe(400);
    expect(started).toEqual([]);
  });

  it("answers 401, not 400, to an unsigned body that is not JSON", async () => {
    const { startRun } = recordingStartRun();
    const body = "this is not { json";

    const result = await createLinearWebhookHandler(
      startRun,
      env,
    )(apiEvent(body, signedHeaders(body, "wrong-secret")));

    expect(result.statusCode).toBe(401);
  });

  it("answers 400 to a signed Issue event of the wrong shape", async () => {
    const { started, startRun } = recordingStartRun();
    const payload = { ...linearFixture("Issue.update.label-added"), data: { title: "no id" } };

    const result = await createLinearWebhookHandler(startRun, env)(delivery(payload).event);

    expect(result.statusCode).toBe(400);
    expect(started).toEqual([]);
  });

  it("answers 413 to a body over MAX_BODY_BYTES (4 MiB) without even looking at the signature", async () => {
    const { started, startRun } = recordingStartRun();
    const body = Buffer.alloc(MAX_BODY_BYTES + 1, "a");
    // No secret is configured: verifying would fail with a configuration error (500).
    const unconfigured = createLinearWebhookHandler(startRun, {});

    const result = await unconfigured(apiEvent(body, signedHeaders(body)));

    expect(result.statusCode).toBe(413);
    expect(started).toEqual([]);
  });

  it("measures the limit on the decoded bytes of a base64 body", async () => {
    const { startRun } = recordingStartRun();
    const body = Buffer.alloc(MAX_BODY_BYTES + 1, "a");

    const result = await createLinearWebhookHandler(
      startRun,
      {},
    )(apiEvent(body, signedHeaders(body), { base64: true }));

    expect(result.statusCode).toBe(413);
  });

  it("verifies a base64-encoded API Gateway body on its raw bytes", async () => {
    const { started, startRun } = recordingStartRun();
    const payload = linearFixture("Issue.update.label-added");
    (payload.data as Record<string, unknown>).description = "Crème brûlée 🍮 breaks the checkout";

    const result = await createLinearWebhookHandler(startRun, env)(delivery(payload, { base64: true }).event);

    expect(result.statusCode).toBe(200);
    expect(started[0]?.ticket.description).toBe("Crème brûlée 🍮 breaks the checkout");
  });

  it.each([
    "Issue.update.title-edited",
    "Issue.update.label-removed",
    "Issue.update.other-label-added",
    "Comment.create",
  ])("answers 200 and starts nothing for %s", async (fixture) => {
    const { started, startRun } = recordingStartRun();

    const result = await createLinearWebhookHandler(startRun, env)(delivery(fixture).event);

    expect(result.statusCode).toBe(200);
    expect(outcome(result)).toBe("ignored");
    expect(started).toEqual([]);
  });

  it("uses the label configured in TRIGGER_LABEL_LINEAR", async () => {
    const { started, startRun } = recordingStartRun();
    const configured = createLinearWebhookHandler(startRun, {
      ...env,
      ...settingsEnv({ linear: { triggerLabel: "ready for QA" } }),
    });

    const result = await configured(delivery("Issue.update.label-added").event);

    expect(result.statusCode).toBe(200);
    expect(outcome(result)).toBe("ignored");
    expect(started).toEqual([]);
  });

  it("answers 500 when the run cannot be started, so Linear delivers again", async () => {
    const failing: StartRun = async () => {
      throw new Error("Step Functions is down");
    };

    const result = await createLinearWebhookHandler(failing, env)(delivery("Issue.update.label-added").event);

    expect(result.statusCode).toBe(500);
  });

  it("never logs the secret, the signature or the ticket's description", async () => {
    const { startRun } = recordingStartRun();
    const handle = createLinearWebhookHandler(startRun, env);
    const good = delivery("Issue.update.label-added");
    const forged = delivery("Issue.update.label-added", { secret: "forger" });
    const stale = delivery("Issue.update.label-added", { timestamp: Date.now() - 120_000 });
    const notJson = `not json ${DESCRIPTION_PHRASE}`;
    const failing = createLinearWebhookHandler(async () => {
      throw new Error("boom");
    }, env);

    await handle(good.event);
    await handle(forged.event);
    await handle(stale.event);
    await handle(apiEvent(notJson, signedHeaders(notJson)));
    await handle(
      delivery({ ...linearFixture("Issue.update.label-added"), data: { title: DESCRIPTION_PHRASE } }).event,
    );
    await failing(good.event);

    expect(logLines.length).toBeGreaterThanOrEqual(6);
    const signatures = [good, forged, stale].map((d) => d.signed.headers["linear-signature"]);
    for (const line of logLines) {
      expect(line).not.toContain(SECRET);
      for (const signature of signatures) expect(line).not.toContain(signature);
      expect(line).not.toContain(DESCRIPTION_PHRASE);
    }
    // The lines still say what happened, so the logs are useful.
    expect(logLines.map((l) => JSON.parse(l).status)).toEqual(expect.arrayContaining([200, 401, 400]));
  });
});

describe("Linear webhook Lambda handler (Step Functions and Secrets Manager mocked)", () => {
  const sfn = mockClient(SFNClient);
  const secrets = mockClient(SecretsManagerClient);
  const savedEnv = { ...process.env };

  beforeEach(() => {
    sfn.reset();
    secrets.reset();
    clearSecretCache();
    process.env.AWS_REGION = "eu-west-1";
    process.env.STATE_MACHINE_ARN = STATE_MACHINE_ARN;
    Object.assign(process.env, settingsEnv());
    process.env.LINEAR_WEBHOOK_SECRET_SECRET_ARN = SECRET_ARN;
    delete process.env.LINEAR_WEBHOOK_SECRET;
    delete process.env.TRIGGER_LABEL_LINEAR;
    secrets.on(GetSecretValueCommand).resolves({ SecretString: `${SECRET}\n` });
    sfn
      .on(StartExecutionCommand)
      .resolves({ executionArn: `${STATE_MACHINE_ARN}:run`, startDate: new Date() });
  });
  afterEach(() => {
    process.env = { ...savedEnv };
  });
  afterAll(() => {
    sfn.restore();
    secrets.restore();
  });

  it("starts one execution named after the change, with the ticket as input", async () => {
    const result = await handler(delivery("Issue.update.label-added").event);

    expect(result.statusCode).toBe(200);
    const { runId } = JSON.parse(String(result.body));
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    const input = sfn.commandCalls(StartExecutionCommand)[0].args[0].input;
    expect(input.stateMachineArn).toBe(STATE_MACHINE_ARN);
    expect(input.name).toBe(runId);
    expect(JSON.parse(String(input.input))).toEqual({
      runId,
      ticket: {
        tracker: "linear",
        id: "539068e2-ae88-4d09-bd75-22eb4a59612f",
        key: "ENG-42",
        title: "Checkout crashes on empty cart",
        url: "https://linear.app/acme/issue/ENG-42/checkout-crashes-on-empty-cart",
        description: expect.stringContaining(DESCRIPTION_PHRASE),
        teamId: "72b2a2dc-6f4f-4423-9d34-24b5bd10634a",
        labels: ["Bug", "Needs Test"],
      },
    });
  });

  it("sends the same name and input for a redelivery, so Step Functions can recognise it", async () => {
    await handler(delivery("Issue.update.label-added", { timestamp: Date.now() - 30_000 }).event);
    await handler(delivery("Issue.update.label-added").event);

    const [first, second] = sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input);
    expect(second).toEqual(first);
  });

  it("answers 200 'duplicate' when Step Functions says the execution already exists", async () => {
    sfn
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: "Execution Already Exists", $metadata: {} }));

    const result = await handler(delivery("Issue.update.label-added").event);

    expect(result.statusCode).toBe(200);
    expect(outcome(result)).toBe("duplicate");
  });

  it("answers 500 when Step Functions throttles, so Linear delivers again", async () => {
    sfn
      .on(StartExecutionCommand)
      .rejects(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException", $metadata: {} }));

    const result = await handler(delivery("Issue.update.label-added").event);

    expect(result.statusCode).toBe(500);
  });

  it("reads the signing secret from Secrets Manager once and reuses it on warm invocations", async () => {
    const first = await handler(delivery("Issue.update.label-added").event);
    const second = await handler(delivery("Issue.update.title-edited").event);
    const third = await handler(delivery("Issue.update.label-added", { secret: "forger" }).event);

    expect([first.statusCode, second.statusCode, third.statusCode]).toEqual([200, 200, 401]);
    expect(secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: SECRET_ARN });
  });

  it("reads the secret again once it is older than SECRET_MAX_AGE_SECONDS: a rotation takes effect", async () => {
    const rotated = "rotated-signing-secret";
    await handler(delivery("Issue.update.label-added").event);
    secrets.on(GetSecretValueCommand).resolves({ SecretString: rotated });
    const now = Date.now();
    const clock = jest.spyOn(Date, "now");
    try {
      clock.mockReturnValue(now + (SECRET_MAX_AGE_SECONDS - 10) * 1000);
      const cached = await handler(delivery("Issue.update.label-added", { secret: rotated }).event);
      clock.mockReturnValue(now + (SECRET_MAX_AGE_SECONDS + 1) * 1000);
      const reread = await handler(delivery("Issue.update.label-added", { secret: rotated }).event);

      expect([cached.statusCode, reread.statusCode]).toEqual([401, 200]);
      expect(secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    } finally {
      clock.mockRestore();
    }
  });

  it("answers 500 and starts nothing when the signing secret cannot be read, so Linear delivers again", async () => {
    secrets
      .on(GetSecretValueCommand)
      .rejects(Object.assign(new Error("not authorized"), { name: "AccessDeniedException", $metadata: {} }));

    const result = await handler(delivery("Issue.update.label-added").event);

    expect(result.statusCode).toBe(500);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
  });

  it("does not read the secret or start anything for a body over MAX_BODY_BYTES (4 MiB)", async () => {
    const body = Buffer.alloc(MAX_BODY_BYTES + 10, "a");

    const result = await handler(apiEvent(body, signedHeaders(body)));

    expect(result.statusCode).toBe(413);
    expect(secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 0);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
  });

  it("starts nothing for a forged delivery", async () => {
    const result = await handler(delivery("Issue.update.label-added", { secret: "forger" }).event);

    expect(result.statusCode).toBe(401);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
  });

  it("starts nothing for an event that is not a trigger", async () => {
    const result = await handler(delivery("Comment.create").event);

    expect(result.statusCode).toBe(200);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
  });

  it("never logs the secret fetched from Secrets Manager, the signature or the description", async () => {
    const good = delivery("Issue.update.label-added");
    sfn
      .on(StartExecutionCommand)
      .rejects(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" }));

    await handler(good.event);
    await handler(delivery("Issue.update.label-added", { secret: "forger" }).event);

    expect(logLines.length).toBeGreaterThanOrEqual(2);
    for (const line of logLines) {
      expect(line).not.toContain(SECRET);
      expect(line).not.toContain(good.signed.headers["linear-signature"]);
      expect(line).not.toContain(DESCRIPTION_PHRASE);
    }
  });
});
