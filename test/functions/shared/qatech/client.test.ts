import { PermanentError, TransientError } from "../../../../functions/shared/platform/errors";
import {
  messageDigest,
  QaTechClient,
  type QaTechClientOptions,
} from "../../../../functions/shared/qatech/client";
import { findReply } from "../../../../functions/shared/qatech/reply";
import { type FakeQaTech, startFakeQaTech } from "../../../../simulators/qatech";
import { OUR_TEXT, OURS } from "./messages";

describe("QaTechClient against the fake QA.tech", () => {
  let qa: FakeQaTech;
  afterEach(() => qa?.close());

  const client = (options: Partial<QaTechClientOptions> = {}) =>
    new QaTechClient({ apiUrl: qa.url, apiKey: "qa-test-key", ...options });

  /** Runs `work` and returns what it threw. */
  async function failure(work: Promise<unknown>): Promise<unknown> {
    try {
      await work;
    } catch (error) {
      return error;
    }
    throw new Error("expected the call to fail");
  }

  it("opens a conversation with a bearer key, the project and the application overrides", async () => {
    qa = await startFakeQaTech({ keyScope: "organization" });
    const overrides = [
      { applicationShortId: "app_shop", environment: { url: "https://preview.shop.example", name: "PR-7" } },
    ];

    const ref = await client({
      projectShortId: "proj_shop",
      applicationOverrides: overrides,
    }).startConversation(OUR_TEXT);

    expect(ref).toEqual({
      id: "chat_1",
      url: "https://app.qa.tech/p/proj_shop/chat/chat_1",
      sentDigest: OURS,
      opened: true,
    });
    expect(qa.requests).toHaveLength(1);
    expect(qa.requests[0]).toMatchObject({
      method: "POST",
      path: "/v1/chat",
      headers: { authorization: "Bearer qa-test-key", "content-type": "application/json" },
      body: { message: OUR_TEXT, projectShortId: "proj_shop", applicationOverrides: overrides },
    });
  });

  it("names the project on a follow-up, as an organisation-scoped key requires", async () => {
    qa = await startFakeQaTech({ keyScope: "organization" });
    const qatech = client({ projectShortId: "proj_shop" });
    const { id } = await qatech.startConversation(OUR_TEXT);
    const before = Date.now();

    const ref = await qatech.sendMessage(id, "And on mobile?");

    expect(ref).toMatchObject({ id, sentDigest: messageDigest("And on mobile?") });
    expect(ref.opened).toBeUndefined();
    expect(Date.parse(ref.sentAt ?? "")).toBeGreaterThanOrEqual(before);
    expect(qa.requests.at(-1)).toMatchObject({
      method: "POST",
      path: `/v1/chat/${id}`,
      body: { message: "And on mobile?", projectShortId: "proj_shop" },
    });
  });

  it("takes a route's project and applications per call, in place of its own", async () => {
    qa = await startFakeQaTech({ keyScope: "organization" });
    const ios = [{ applicationShortId: "app_ios", environment: { shortId: "env_ios" } }];
    const own = [{ applicationShortId: "app_shop", environment: { shortId: "env_shop" } }];
    const qatech = client({ projectShortId: "proj_shop", applicationOverrides: own });
    const pr = { url: "https://github.com/acme/app/pull/3", provider: "github" as const };

    const { id } = await qatech.startConversation(OUR_TEXT, {
      projectShortId: "proj_mobile",
      applicationOverrides: ios,
    });
    await qatech.sendMessage(id, "And on Android?", "proj_mobile");
    await qatech.startChangeReview(pr, OUR_TEXT, {
      projectShortId: "proj_mobile",
      applicationOverrides: ios,
    });
    await qatech.sendMessage(id, "Default?");

    expect(qa.requests.map((r) => r.body)).toEqual([
      { message: OUR_TEXT, projectShortId: "proj_mobile", applicationOverrides: ios },
      { message: "And on Android?", projectShortId: "proj_mobile" },
      expect.objectContaining({ projectShortId: "proj_mobile", applicationOverrides: ios }),
      { message: "Default?", projectShortId: "proj_shop" },
    ]);
  });

  it("names the project on a change review", async () => {
    qa = await startFakeQaTech({ keyScope: "organization" });
    const overrides = [{ applicationShortId: "app_shop", environment: { shortId: "env_preview" } }];
    const pr = { url: "https://github.com/acme/shop/pull/42", provider: "github" as const };

    await client({ projectShortId: "proj_shop", applicationOverrides: overrides }).startChangeReview(
      pr,
      OUR_TEXT,
    );

    expect(qa.requests[0].body).toMatchObject({ mode: "pr", projectShortId: "proj_shop" });
  });

  it("reads a conversation without naming the project (undocumented for GET)", async () => {
    qa = await startFakeQaTech({ keyScope: "organization" });
    const qatech = client({ projectShortId: "proj_shop" });
    const { id } = await qatech.startConversation(OUR_TEXT);

    await qatech.getConversation(id);

    expect(qa.requests.at(-1)).toMatchObject({ method: "GET", query: { limit: "20" } });
    expect(qa.requests.at(-1)?.query).not.toHaveProperty("projectShortId");
  });

  it("leaves out the project and empty overrides when none are configured", async () => {
    qa = await startFakeQaTech();

    await client({ applicationOverrides: [] }).startConversation(OUR_TEXT);

    expect(qa.requests[0].body).toEqual({ message: OUR_TEXT });
  });

  it("tolerates a trailing slash on the API url", async () => {
    qa = await startFakeQaTech();

    await client({ apiUrl: `${qa.url}/` }).startConversation(OUR_TEXT);

    expect(qa.requests[0].path).toBe("/v1/chat");
  });

  it("reads the conversation until findReply sees the final reply to our message", async () => {
    qa = await startFakeQaTech({ plan: () => ({ pollsUntilFinal: 2, text: "## Tested\n\nAll good." }) });
    const qatech = client();
    const ref = await qatech.startConversation(OUR_TEXT);

    const seen = [];
    for (let i = 0; i < 3; i++) {
      const read = await qatech.getConversation(ref.id);
      seen.push(findReply(read.messages, ref));
    }

    expect(seen).toEqual([null, null, { status: "COMPLETED", text: "## Tested\n\nAll good." }]);
    expect(qa.requests.at(-1)).toMatchObject({
      method: "GET",
      path: "/v1/chat/chat_1",
      headers: { authorization: "Bearer qa-test-key" },
    });
  });

  it("turns a 401 into a PermanentError carrying the status and QA.tech's message", async () => {
    qa = await startFakeQaTech({ apiKey: "the-right-key" });

    const error = await failure(client({ apiKey: "a-wrong-key" }).startConversation(OUR_TEXT));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ name: "PermanentError", status: 401 });
    expect((error as Error).message).toContain("Invalid API key");
    expect((error as Error).message).not.toContain("a-wrong-key");
  });

  it("turns a 404 for an unknown conversation into a PermanentError", async () => {
    qa = await startFakeQaTech();

    const error = await failure(client().getConversation("chat_missing"));

    expect(error).toMatchObject({ name: "PermanentError", status: 404 });
  });

  it("turns a 500 into a TransientError", async () => {
    qa = await startFakeQaTech();
    qa.failNext({ path: "/v1/chat", fault: { status: 500 } });

    const error = await failure(client().startConversation(OUR_TEXT));

    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ name: "TransientError" });
  });

  it("turns a malformed 200 body into a TransientError", async () => {
    qa = await startFakeQaTech();
    const ref = await client().startConversation(OUR_TEXT);
    qa.failNext({ method: "GET", fault: { malformed: true } });

    const error = await failure(client().getConversation(ref.id));

    expect(error).toBeInstanceOf(TransientError);
  });

  it("turns a dropped connection into a TransientError", async () => {
    qa = await startFakeQaTech();
    qa.failNext({ fault: { reset: true } });

    expect(await failure(client().startConversation(OUR_TEXT))).toBeInstanceOf(TransientError);
  });

  it("gives up on a hung QA.tech with a TransientError once its timeout has passed", async () => {
    qa = await startFakeQaTech();
    qa.failNext({ fault: { hang: true } });

    const error = await failure(client({ timeoutMs: 300 }).startConversation(OUR_TEXT));

    // The client's own timeout ended it (not a refused or reset connection), however slow the machine.
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toBe("QA.tech did not answer within 300 ms (POST /v1/chat)");
    expect((error as Error).cause).toMatchObject({ name: "TimeoutError" });
  });

  /** A sleep that records the waits asked for and returns at once: Retry-After without the wall clock. */
  function recordedSleep() {
    const waits: number[] = [];
    return { waits, sleep: async (ms: number) => void waits.push(ms) };
  }

  it("passes on a long Retry-After with a 429 instead of waiting inside the call", async () => {
    qa = await startFakeQaTech();
    qa.failNext({ fault: { status: 429, headers: { "retry-after": "17" } } });
    const { waits, sleep } = recordedSleep();

    const error = await failure(client({ sleep }).startConversation(OUR_TEXT));

    expect(error).toBeInstanceOf(TransientError);
    expect((error as TransientError).retryAfterSeconds).toBe(17);
    expect(qa.requests).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it("waits out a short Retry-After inside the call and then succeeds", async () => {
    qa = await startFakeQaTech();
    qa.failNext({ fault: { status: 429, headers: { "retry-after": "1" } } });
    const { waits, sleep } = recordedSleep();

    const ref = await client({ sleep }).startConversation(OUR_TEXT);

    expect(ref.id).toBe("chat_1");
    expect(qa.requests).toHaveLength(2);
    expect(waits).toEqual([1000]);
  });

  it("sends again only after the wait is over", async () => {
    qa = await startFakeQaTech();
    qa.failNext({ fault: { status: 429, headers: { "retry-after": "2" } } });
    let requestsWhenWaiting: number | undefined;
    const sleep = async (ms: number) => {
      expect(ms).toBe(2000);
      requestsWhenWaiting = qa.requests.length;
    };

    await client({ sleep }).startConversation(OUR_TEXT);

    expect(requestsWhenWaiting).toBe(1);
    expect(qa.requests).toHaveLength(2);
  });

  it("waits out a short Retry-After only once, then leaves the retry to the state machine", async () => {
    qa = await startFakeQaTech();
    qa.failNext({ fault: { status: 503, headers: { "retry-after": "0" } }, times: 3 });
    const { waits, sleep } = recordedSleep();

    const error = await failure(client({ sleep }).startConversation(OUR_TEXT));

    expect(error).toBeInstanceOf(TransientError);
    expect(qa.requests).toHaveLength(2);
    expect(waits).toEqual([0]);
  });

  it("lets one read lower the client's Retry-After limit, down to sending nothing again", async () => {
    qa = await startFakeQaTech();
    const qatech = client({ maxInlineRetryAfterSeconds: 10 });
    const { id } = await qatech.startConversation(OUR_TEXT);
    qa.failNext({ method: "GET", fault: { status: 429, headers: { "retry-after": "5" } } });
    qa.failNext({ method: "GET", fault: { status: 503, headers: { "retry-after": "0" } } });

    const lowered = await failure(qatech.getConversation(id, { maxInlineRetryAfterSeconds: 3 }));
    const none = await failure(qatech.getConversation(id, { maxInlineRetryAfterSeconds: -1 }));

    expect(lowered).toMatchObject({ name: "TransientError", retryAfterSeconds: 5 });
    expect(none).toMatchObject({ name: "TransientError", retryAfterSeconds: 0 });
    expect(qa.requests.filter((r) => r.method === "GET")).toHaveLength(2);
  });

  it("passes on a Retry-After given as an HTTP date with a 503", async () => {
    qa = await startFakeQaTech();
    const inAMinute = new Date(Date.now() + 60_000).toUTCString();
    qa.failNext({ fault: { status: 503, headers: { "retry-after": inAMinute } } });

    const error = (await failure(client().startConversation(OUR_TEXT))) as TransientError;

    expect(error).toBeInstanceOf(TransientError);
    expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(58);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(61);
  });

  it("does not retry a 402 (out of credits): it is permanent", async () => {
    qa = await startFakeQaTech();
    qa.failNext({ fault: { status: 402, body: { message: "Out of credits" } } });

    const error = await failure(client().startConversation(OUR_TEXT));

    expect(error).toMatchObject({ name: "PermanentError", status: 402 });
    expect((error as Error).message).toContain("Out of credits");
  });
});
