import { PermanentError, TransientError } from "../../../../functions/shared/platform/errors";
import { setLogSink } from "../../../../functions/shared/platform/log";
import { clearSecretCache } from "../../../../functions/shared/platform/secrets";
import { qatechRunsFromSettings } from "../../../../functions/shared/qatech/from-settings";
import {
  QaTechRuns,
  type QaTechRunsOptions,
  RUN_DETAILS_MAX,
  RUN_TEXT_MAX_BYTES,
  RunsUnreadableError,
} from "../../../../functions/shared/qatech/runs";
import { type FakeQaTech, type FakeQaTechOptions, startFakeQaTech } from "../../../../simulators/qatech";
import { settingsEnv } from "../../../support/settings";

describe("QaTechRuns against the fake QA.tech", () => {
  let qa: FakeQaTech;
  afterEach(() => qa?.close());

  const start = async (options: FakeQaTechOptions = {}) => {
    qa = await startFakeQaTech(options);
  };
  const runs = (options: Partial<QaTechRunsOptions> = {}) =>
    new QaTechRuns({ apiUrl: qa.url, apiKey: "qa-test-key", ...options });

  /** Runs `work` and returns what it threw. */
  async function failure(work: Promise<unknown>): Promise<unknown> {
    try {
      await work;
    } catch (error) {
      return error;
    }
    throw new Error("expected the call to fail");
  }

  /** A sleep that records the waits asked for and returns at once: Retry-After without the wall clock. */
  function recordedSleep() {
    const waits: number[] = [];
    return { waits, sleep: async (ms: number) => void waits.push(ms) };
  }

  const checkout = {
    tests: [
      { name: "Login works", result: "PASSED" as const },
      {
        name: "Checkout works",
        result: "FAILED" as const,
        resultTitle: "Pay button does nothing",
        evaluationThought: "Clicking Pay showed no confirmation.",
      },
      { name: "Agent lost", result: "FAILED" as const, errorCode: "PLATFORM_BROWSER_CRASHED" },
    ],
  };

  /** A 200 whose body the test chooses, for the next GET. */
  const nextBody = (body: unknown, method = "GET") => qa.failNext({ method, fault: { status: 200, body } });

  describe("getRun", () => {
    it("reads a run with all its test cases, bearer key, no project", async () => {
      await start({ keyScope: "organization" });
      qa.addRun(checkout);

      const run = await runs({ projectShortId: "proj_demo" }).getRun("run_1");

      expect(run).toEqual({
        shortId: "run_1",
        status: "COMPLETED",
        result: "FAILED",
        tests: [
          {
            shortId: "rtc_1",
            name: "Login works",
            status: "COMPLETED",
            result: "PASSED",
            resultTitle: "All checks passed",
          },
          {
            shortId: "rtc_2",
            name: "Checkout works",
            status: "COMPLETED",
            result: "FAILED",
            resultTitle: "Pay button does nothing",
            evaluationThought: "Clicking Pay showed no confirmation.",
          },
          {
            shortId: "rtc_3",
            name: "Agent lost",
            status: "COMPLETED",
            result: "FAILED",
            resultTitle: "A check failed",
          },
        ],
      });
      expect(qa.requests).toEqual([
        expect.objectContaining({
          method: "GET",
          path: "/v1/run/run_1",
          query: { testCases: "all" },
          headers: expect.objectContaining({ authorization: "Bearer qa-test-key" }),
        }),
      ]);
    });

    it("reads a run that is not final yet as it stands", async () => {
      await start();
      qa.addRun({ ...checkout, readsUntilFinal: 2 });

      const first = await runs().getRun("run_1");
      const second = await runs().getRun("run_1");
      const third = await runs().getRun("run_1");

      expect([first, second, third].map((r) => [r.status, r.result])).toEqual([
        ["INITIATED", null],
        ["RUNNING", null],
        ["COMPLETED", "FAILED"],
      ]);
      expect(first.tests[1]).toEqual({
        shortId: "rtc_2",
        name: "Checkout works",
        status: "INITIATED",
        result: null,
      });
    });

    it("refuses an id of another form before sending anything", async () => {
      await start();

      for (const id of ["", "../chat/chat_1", "run 1", "run_1?testCases=failed", "x".repeat(65)]) {
        expect(await failure(runs().getRun(id))).toBeInstanceOf(PermanentError);
      }
      expect(qa.requests).toEqual([]);
    });
  });

  describe("errors", () => {
    it.each([
      [401, "this API key may not read test runs"],
      [403, "this API key may not read test runs"],
      [404, "the run does not exist, or this key may not see it"],
    ])("turns a %i on a read into RunsUnreadableError", async (status, why) => {
      await start();
      qa.addRun(checkout);
      qa.failNext({ fault: { status } });

      const error = await failure(runs().getRun("run_1"));

      expect(error).toBeInstanceOf(RunsUnreadableError);
      expect(error).toBeInstanceOf(PermanentError);
      expect(error).toMatchObject({ name: "RunsUnreadableError", status });
      expect((error as Error).message).toBe(`QA.tech answered ${status} to a read of run run_1: ${why}`);
    });

    it("reads nothing with a key that may not read runs, and names an unknown run", async () => {
      await start({ runsAccess: "none" });
      qa.addRun(checkout);

      expect(await failure(runs().getRun("run_1"))).toMatchObject({
        name: "RunsUnreadableError",
        status: 401,
      });
      expect(await failure(runs().getRunTestCase("rtc_1"))).toMatchObject({ status: 401 });
      await qa.close();
      await start();
      expect(await failure(runs().getRun("run_9"))).toMatchObject({
        name: "RunsUnreadableError",
        status: 404,
      });
      expect(await failure(runs().getRunTestCase("rtc_9"))).toMatchObject({ status: 404 });
    });

    it("leaves 400 and 402 as plain PermanentErrors", async () => {
      await start();
      qa.addRun(checkout);
      qa.failNext({ fault: { status: 400 } });
      qa.failNext({ fault: { status: 402 } });

      const bad = await failure(runs().getRun("run_1"));
      const credits = await failure(runs().getRun("run_1"));

      expect(bad).toMatchObject({ name: "PermanentError", status: 400 });
      expect(bad).not.toBeInstanceOf(RunsUnreadableError);
      expect(credits).toMatchObject({ name: "PermanentError", status: 402 });
    });

    it.each([
      { status: 500 },
      { status: 503 },
      { status: 429 },
      { reset: true as const },
      { malformed: true as const },
    ])("turns %o into a TransientError", async (fault) => {
      await start();
      qa.addRun(checkout);
      qa.failNext({ fault });

      expect(await failure(runs({ maxInlineRetryAfterSeconds: -1 }).getRun("run_1"))).toBeInstanceOf(
        TransientError,
      );
    });

    it("waits out a short Retry-After once, and passes on a long one", async () => {
      await start();
      qa.addRun(checkout);
      qa.failNext({ fault: { status: 429, headers: { "retry-after": "2" } } });
      const { waits, sleep } = recordedSleep();

      const run = await runs({ sleep }).getRun("run_1");
      qa.failNext({ fault: { status: 503, headers: { "retry-after": "30" } } });
      const error = await failure(runs({ sleep }).getRun("run_1"));

      expect(run.status).toBe("COMPLETED");
      expect(waits).toEqual([2000]);
      expect(error).toMatchObject({ name: "TransientError", retryAfterSeconds: 30 });
      expect(qa.requests).toHaveLength(3);
    });
  });

  describe("strict validation", () => {
    const good = {
      id: "6b1d2f4e-0000-4000-8000-000000000001",
      shortId: "run_1",
      status: "COMPLETED",
      result: "PASSED",
      runTestCases: [{ shortId: "rtc_1", name: "A", status: "COMPLETED", result: "PASSED" }],
    };

    it("accepts a minimal run and ignores fields it does not know", async () => {
      await start();
      nextBody({ ...good, somethingNew: { nested: true } });

      expect(await runs().getRun("run_1")).toEqual({
        shortId: "run_1",
        status: "COMPLETED",
        result: "PASSED",
        tests: [{ shortId: "rtc_1", name: "A", status: "COMPLETED", result: "PASSED" }],
      });
    });

    it.each<[string, unknown, string]>([
      ["a string", "a run", "the body"],
      ["an array", [good], "the body"],
      ["no shortId", { ...good, shortId: undefined }, "shortId"],
      ["an id of another form", { ...good, shortId: "run/1" }, "shortId"],
      ["another run", { ...good, shortId: "run_2" }, "another run (run_2)"],
      ["no test cases", { ...good, runTestCases: undefined }, "runTestCases"],
      [
        "a test case without a name",
        { ...good, runTestCases: [{ ...good.runTestCases[0], name: 7 }] },
        "runTestCases.0.name",
      ],
      [
        "a test case id of another form",
        { ...good, runTestCases: [{ ...good.runTestCases[0], shortId: "<b>" }] },
        "runTestCases.0.shortId",
      ],
      ["a number for a status", { ...good, status: 3 }, "status"],
      ["an unknown status", { ...good, status: "PAUSED" }, 'unknown status "PAUSED"'],
      ["an unknown result", { ...good, result: "MAYBE" }, 'unknown result "MAYBE"'],
      [
        "an unknown test status",
        { ...good, runTestCases: [{ ...good.runTestCases[0], status: "QUEUED" }] },
        'unknown status "QUEUED"',
      ],
      [
        "a resultTitle object",
        { ...good, runTestCases: [{ ...good.runTestCases[0], resultTitle: {} }] },
        "resultTitle",
      ],
    ])("refuses a run with %s as a PermanentError", async (_, body, said) => {
      await start();
      nextBody(body);

      const error = await failure(runs().getRun("run_1"));

      expect(error).toMatchObject({ name: "PermanentError" });
      expect((error as Error).message).toContain(said);
    });

    it("cuts an unknown status long enough to flood a message", async () => {
      await start();
      nextBody({ ...good, status: `PAUSED${"X".repeat(90)}` });

      const error = (await failure(runs().getRun("run_1"))) as Error;

      expect(error.message.length).toBeLessThan(140);
    });

    it("cuts oversize texts to their budgets and makes odd characters visible", async () => {
      await start();
      qa.addRun({
        tests: [
          {
            name: `Log\u0000in ${"n".repeat(500)}`,
            result: "FAILED",
            resultTitle: `Title\u0007 ${"t".repeat(2000)}`,
            evaluationThought: `Thought \ud800 ${"e".repeat(10_000)}`,
          },
        ],
      });

      const [test] = (await runs().getRun("run_1")).tests;

      const bytes = (s: string | undefined) => Buffer.byteLength(JSON.stringify(s)) - 2;
      expect(bytes(test.name)).toBeLessThanOrEqual(RUN_TEXT_MAX_BYTES.name);
      expect(bytes(test.resultTitle)).toBeLessThanOrEqual(RUN_TEXT_MAX_BYTES.resultTitle);
      expect(bytes(test.evaluationThought)).toBeLessThanOrEqual(RUN_TEXT_MAX_BYTES.evaluationThought);
      expect(test.name).toMatch(/^Log\u2400in n+…$/);
      expect(test.resultTitle).toMatch(/^Title\u2407 t+…$/);
      expect(test.evaluationThought).toMatch(/^Thought \ufffd e+…$/);
    });

    it("leaves out empty and null texts", async () => {
      await start();
      nextBody({
        ...good,
        runTestCases: [
          { ...good.runTestCases[0], resultTitle: "", evaluationThought: null, promptGoal: null },
        ],
      });

      expect((await runs().getRun("run_1")).tests[0]).toEqual(good.runTestCases[0]);
    });
  });

  describe("getRunTestCase", () => {
    it("reads a failed test's error code, run and durable link", async () => {
      await start();
      qa.addRun(checkout);

      expect(await runs().getRunTestCase("rtc_2")).toEqual({
        shortId: "rtc_2",
        name: "Checkout works",
        status: "COMPLETED",
        result: "FAILED",
        resultTitle: "Pay button does nothing",
        evaluationThought: "Clicking Pay showed no confirmation.",
        errorCode: "TEST_FAILED",
        url: "https://app.qa.tech/p/proj_demo/results/test/rtc_2",
        runShortId: "run_1",
      });
      expect(await runs().getRunTestCase("rtc_1")).not.toHaveProperty("errorCode");
      expect(qa.requests.map((r) => [r.path, r.query])).toEqual([
        ["/v1/run-test-case/rtc_2", {}],
        ["/v1/run-test-case/rtc_1", {}],
      ]);
    });

    const detail = {
      shortId: "rtc_1",
      name: "A",
      status: "COMPLETED",
      result: "FAILED",
      errorCode: "TEST_FAILED",
      runShortId: "run_1",
      url: "https://app.qa.tech/p/proj_demo/results/test/rtc_1",
    };

    it.each([
      ["http", "http://app.qa.tech/p/proj_demo/results/test/rtc_1"],
      ["javascript", "javascript:alert(1)"],
      ["oversize", `https://app.qa.tech/${"a".repeat(3000)}`],
      ["not a url", "app.qa.tech/results"],
      ["a number", 7],
    ])("drops a link that is %s", async (_, url) => {
      await start();
      nextBody({ ...detail, url });

      const read = await runs().getRunTestCase("rtc_1");

      expect(read).not.toHaveProperty("url");
      expect(read.errorCode).toBe("TEST_FAILED");
    });

    it.each<[string, unknown]>([
      ["an error code of another form", { ...detail, errorCode: "test failed; <b>" }],
      ["no runShortId", { ...detail, runShortId: undefined }],
      ["another test case", { ...detail, shortId: "rtc_2" }],
    ])("refuses a test case with %s", async (_, body) => {
      await start();
      nextBody(body);

      expect(await failure(runs().getRunTestCase("rtc_1"))).toMatchObject({ name: "PermanentError" });
    });
  });

  describe("readRun", () => {
    it("adds the error code and link of each failed test of a final run", async () => {
      await start();
      qa.addRun(checkout);

      const run = await runs().readRun("run_1");

      expect(run.tests.map((t) => [t.shortId, t.errorCode, t.url])).toEqual([
        ["rtc_1", undefined, undefined],
        ["rtc_2", "TEST_FAILED", "https://app.qa.tech/p/proj_demo/results/test/rtc_2"],
        ["rtc_3", "PLATFORM_BROWSER_CRASHED", "https://app.qa.tech/p/proj_demo/results/test/rtc_3"],
      ]);
      expect(run.tests[1]).toMatchObject({ resultTitle: "Pay button does nothing" });
      expect(qa.requests.map((r) => r.path).sort()).toEqual([
        "/v1/run-test-case/rtc_2",
        "/v1/run-test-case/rtc_3",
        "/v1/run/run_1",
      ]);
    });

    it("reads only the run while it is not final", async () => {
      await start();
      qa.addRun({ ...checkout, readsUntilFinal: 1 });

      const pending = await runs().readRun("run_1");
      const final = await runs().readRun("run_1");

      expect(pending.status).toBe("INITIATED");
      expect(final.tests[1].errorCode).toBe("TEST_FAILED");
      expect(qa.requests.filter((r) => r.path.startsWith("/v1/run-test-case/"))).toHaveLength(2);
    });

    it(`looks up at most ${RUN_DETAILS_MAX} failed tests, a few at a time`, async () => {
      await start();
      qa.addRun({
        tests: Array.from({ length: RUN_DETAILS_MAX + 5 }, (_, i) => ({
          name: `T${i}`,
          result: "FAILED" as const,
        })),
      });

      const run = await runs().readRun("run_1");

      expect(run.tests.filter((t) => t.errorCode)).toHaveLength(RUN_DETAILS_MAX);
      expect(run.tests.slice(RUN_DETAILS_MAX).every((t) => t.errorCode === undefined)).toBe(true);
      expect(qa.maxInFlight("GET")).toBeLessThanOrEqual(4);
    });

    it("fails as a whole when a detail cannot be read", async () => {
      await start();
      qa.addRun(checkout);
      qa.failNext({ path: "/v1/run-test-case/rtc_3", fault: { status: 500 } });

      expect(await failure(runs().readRun("run_1"))).toBeInstanceOf(TransientError);
    });
  });

  describe("rerun", () => {
    it("reruns the failed tests and answers the new run", async () => {
      await start();
      qa.addRun(checkout);

      const started = await runs().rerun("run_1", { failedOnly: true });

      expect(started).toEqual({
        shortId: "run_2",
        url: "https://app.qa.tech/p/proj_demo/results/run_2",
        testCount: 2,
      });
      expect(qa.requests[0]).toMatchObject({
        method: "POST",
        path: "/v1/run/run_1",
        body: { failedOnly: true },
      });
      expect(qa.runs()[1]).toMatchObject({ rerunOf: "run_1", result: "PASSED" });
    });

    it("reruns all with an empty body, and names the project for an organisation key", async () => {
      await start({ keyScope: "organization" });
      qa.addRun({ ...checkout, project: "proj_shop" });

      expect(await failure(runs().rerun("run_1", { failedOnly: false }))).toMatchObject({ status: 400 });
      const started = await runs({ projectShortId: "proj_shop" }).rerun("run_1", { failedOnly: false });

      expect(qa.requests.map((r) => r.body)).toEqual([{}, { projectShortId: "proj_shop" }]);
      // The conversation's own project (a route's, from the signed marker) takes the client's place.
      const mobile = qa.addRun({ ...checkout, project: "proj_mobile" });
      await runs({ projectShortId: "proj_shop" }).rerun(mobile.shortId, {
        failedOnly: false,
        projectShortId: "proj_mobile",
      });
      expect(qa.requests.at(-1)?.body).toEqual({ projectShortId: "proj_mobile" });
      expect(started).toMatchObject({
        shortId: "run_2",
        testCount: 3,
        url: "https://app.qa.tech/p/proj_shop/results/run_2",
      });
    });

    it("leaves refusals permanent: another project's run, a key that may not read runs", async () => {
      await start({ keyScope: "project", projectShortId: "proj_demo" });
      qa.addRun({ ...checkout, project: "proj_other" });

      expect(await failure(runs().rerun("run_1", { failedOnly: true }))).toMatchObject({
        name: "PermanentError",
        status: 404,
      });
      await qa.close();
      await start({ runsAccess: "none" });
      qa.addRun(checkout);
      expect(await failure(runs().rerun("run_1", { failedOnly: true }))).toMatchObject({
        name: "PermanentError",
        status: 401,
      });
    });

    it.each<[string, unknown]>([
      ["no success", { run: { shortId: "run_2", url: "https://app.qa.tech/r", testCount: 1 } }],
      [
        "success false",
        { success: false, run: { shortId: "run_2", url: "https://app.qa.tech/r", testCount: 1 } },
      ],
      [
        "an http link",
        { success: true, run: { shortId: "run_2", url: "http://app.qa.tech/r", testCount: 1 } },
      ],
      [
        "a negative count",
        { success: true, run: { shortId: "run_2", url: "https://app.qa.tech/r", testCount: -1 } },
      ],
      ["an odd id", { success: true, run: { shortId: "run 2", url: "https://app.qa.tech/r", testCount: 1 } }],
    ])("refuses an answer with %s", async (_, body) => {
      await start();
      qa.addRun(checkout);
      nextBody(body, "POST");

      expect(await failure(runs().rerun("run_1", { failedOnly: true }))).toMatchObject({
        name: "PermanentError",
      });
    });

    it("turns a 503 into a TransientError", async () => {
      await start();
      qa.addRun(checkout);
      qa.failNext({ method: "POST", fault: { status: 503 } });

      expect(await failure(runs().rerun("run_1", { failedOnly: true }))).toBeInstanceOf(TransientError);
    });
  });

  describe("the refused-key metric (QaTechRefused)", () => {
    /** The QaTechRefused counts written while `act` runs, with their status. */
    async function refusals(act: () => Promise<unknown>): Promise<unknown[][]> {
      const lines: string[] = [];
      const previous = setLogSink((line) => lines.push(line));
      try {
        await act().catch(() => undefined);
      } finally {
        setLogSink(previous);
      }
      return lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => "QaTechRefused" in line)
        .map((line) => [line.QaTechRefused, line.status]);
    }

    it("is not counted for a read refused with 401 or 403: the key may still chat", async () => {
      await start({ runsAccess: "none" });
      qa.addRun(checkout);
      qa.failNext({ path: "/v1/run-test-case/rtc_1", fault: { status: 403 } });

      expect(await refusals(() => runs().getRun("run_1"))).toEqual([]);
      expect(await refusals(() => runs().getRunTestCase("rtc_1"))).toEqual([]);
    });

    it("is counted for a rerun refused with 401 or 402, as for every POST", async () => {
      await start({ runsAccess: "none" });
      qa.addRun(checkout);

      expect(await refusals(() => runs().rerun("run_1", { failedOnly: true }))).toEqual([[1, "401"]]);
      qa.failNext({ method: "POST", fault: { status: 402 } });
      expect(await refusals(() => runs().rerun("run_1", { failedOnly: true }))).toEqual([[1, "402"]]);
    });
  });

  describe("probeAccess", () => {
    it("says a key that gets a 404 for a run that cannot exist may read runs", async () => {
      await start();

      const probe = await runs().probeAccess();

      expect(probe.readable).toBe(true);
      expect(probe.detail).toContain("404");
      expect(qa.requests).toEqual([
        expect.objectContaining({ method: "GET", path: expect.stringMatching(/^\/v1\/run\/[\w-]+$/) }),
      ]);
    });

    it.each([401, 403])("says a key refused with %i may not read runs", async (status) => {
      await start();
      qa.failNext({ fault: { status } });

      expect(await runs().probeAccess()).toEqual({
        readable: false,
        detail: `QA.tech answered ${status} to a read of test runs: this key may not read them`,
      });
    });

    it('says no for a key the fake gives runsAccess "none"', async () => {
      await start({ runsAccess: "none" });

      expect((await runs().probeAccess()).readable).toBe(false);
    });

    it("throws what says nothing about the key", async () => {
      await start();
      qa.failNext({ fault: { status: 500 } });
      qa.failNext({ fault: { status: 400 } });

      expect(await failure(runs({ maxInlineRetryAfterSeconds: -1 }).probeAccess())).toBeInstanceOf(
        TransientError,
      );
      expect(await failure(runs().probeAccess())).toMatchObject({ name: "PermanentError", status: 400 });
    });
  });

  describe("qatechRunsFromSettings", () => {
    const saved = { ...process.env };
    afterEach(() => {
      process.env = { ...saved };
      clearSecretCache();
    });

    it("uses the settings' API url and project and the QATECH_API_KEY secret", async () => {
      await start({ keyScope: "organization", apiKey: "key-from-secret" });
      qa.addRun({ ...checkout, project: "proj_shop" });
      Object.assign(
        process.env,
        { QATECH_API_KEY: "key-from-secret" },
        settingsEnv({ qatech: { apiUrl: qa.url, projectShortId: "proj_shop" } }),
      );
      delete process.env.QATECH_API_KEY_SECRET_ARN;
      clearSecretCache();

      const client = await qatechRunsFromSettings();
      await client.rerun("run_1", { failedOnly: true });

      expect(qa.requests[0]).toMatchObject({
        headers: expect.objectContaining({ authorization: "Bearer key-from-secret" }),
        body: { failedOnly: true, projectShortId: "proj_shop" },
      });
    });
  });
});
