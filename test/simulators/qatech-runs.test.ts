import { resultLinks } from "../../functions/shared/domain/verdict";
import { type FakeQaTech, type FakeQaTechOptions, startFakeQaTech } from "../../simulators/qatech";

const KEY = "qa-test-key";

describe("fake QA.tech runs API", () => {
  let qa: FakeQaTech;
  afterEach(() => qa.close());

  const start = async (options: FakeQaTechOptions = {}) => {
    qa = await startFakeQaTech(options);
  };

  const call = async (path: string, init: { method?: string; body?: unknown; key?: string } = {}) => {
    const response = await fetch(`${qa.url}${path}`, {
      method: init.method ?? (init.body === undefined ? "GET" : "POST"),
      headers: { "content-type": "application/json", authorization: `Bearer ${init.key ?? KEY}` },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    // biome-ignore lint/suspicious/noExplicitAny: a test reads whatever the fake answered.
    return { status: response.status, body: (await response.json()) as any };
  };

  const twoTests = {
    tests: [
      { name: "Login works", result: "PASSED" as const },
      {
        name: "Checkout works",
        result: "FAILED" as const,
        resultTitle: "Pay button does nothing",
        evaluationThought: "Clicking Pay showed no confirmation.",
      },
    ],
  };

  it("answers a run with its test cases, all or failed, and none without testCases", async () => {
    await start();
    const run = qa.addRun(twoTests);
    expect(run).toEqual({
      shortId: "run_1",
      url: "https://app.qa.tech/p/proj_demo/results/run_1",
      tests: [
        { shortId: "rtc_1", name: "Login works", url: "https://app.qa.tech/p/proj_demo/results/test/rtc_1" },
        {
          shortId: "rtc_2",
          name: "Checkout works",
          url: "https://app.qa.tech/p/proj_demo/results/test/rtc_2",
        },
      ],
    });

    const all = await call("/v1/run/run_1?testCases=all");
    expect(all.status).toBe(200);
    expect(all.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      shortId: "run_1",
      status: "COMPLETED",
      result: "FAILED",
      runTestCases: [
        {
          shortId: "rtc_1",
          name: "Login works",
          status: "COMPLETED",
          result: "PASSED",
          resultTitle: "All checks passed",
          evaluationThought: null,
          promptGoal: "Check: Login works",
          promptExamples: null,
        },
        {
          shortId: "rtc_2",
          name: "Checkout works",
          status: "COMPLETED",
          result: "FAILED",
          resultTitle: "Pay button does nothing",
          evaluationThought: "Clicking Pay showed no confirmation.",
          promptGoal: "Check: Checkout works",
          promptExamples: null,
        },
      ],
    });
    const failed = await call("/v1/run/run_1?testCases=failed");
    expect(failed.body.runTestCases.map((t: { shortId: string }) => t.shortId)).toEqual(["rtc_2"]);
    expect((await call("/v1/run/run_1")).body.runTestCases).toEqual([]);
    expect((await call("/v1/run/run_1?testCases=some")).status).toBe(400);
    expect((await call("/v1/run/run_404")).status).toBe(404);
  });

  it("answers a run test case with its error code (failures only), ids and durable link", async () => {
    await start();
    qa.addRun({
      tests: [...twoTests.tests, { name: "Agent lost", result: "FAILED", errorCode: "AGENT_TIMEOUT" }],
    });

    const passed = await call("/v1/run-test-case/rtc_1");
    const failed = await call("/v1/run-test-case/rtc_2");
    const agent = await call("/v1/run-test-case/rtc_3");

    expect(passed.body).toMatchObject({ shortId: "rtc_1", result: "PASSED", errorCode: null });
    expect(failed.body).toEqual({
      shortId: "rtc_2",
      name: "Checkout works",
      status: "COMPLETED",
      result: "FAILED",
      resultTitle: "Pay button does nothing",
      evaluationThought: "Clicking Pay showed no confirmation.",
      promptGoal: "Check: Checkout works",
      promptExamples: null,
      errorCode: "TEST_FAILED",
      classification: null,
      runShortId: "run_1",
      projectTestCaseId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      durationMs: 42_000,
      url: "https://app.qa.tech/p/proj_demo/results/test/rtc_2",
      screenshotUrl: null,
      recordingUrl: null,
    });
    expect(agent.body.errorCode).toBe("AGENT_TIMEOUT");
    expect((await call("/v1/run-test-case/rtc_9")).status).toBe(404);
  });

  it("shows a run INITIATED, then RUNNING, for readsUntilFinal reads, then final", async () => {
    await start();
    qa.addRun({ ...twoTests, readsUntilFinal: 3 });
    expect(qa.runs()[0]).toMatchObject({ status: "INITIATED", result: null });

    const seen = [];
    for (let i = 0; i < 4; i++) {
      const { body } = await call("/v1/run/run_1?testCases=all");
      seen.push([body.status, body.result, body.runTestCases[1].result, body.runTestCases[1].resultTitle]);
    }

    expect(seen).toEqual([
      ["INITIATED", null, null, null],
      ["RUNNING", null, null, null],
      ["RUNNING", null, null, null],
      ["COMPLETED", "FAILED", "FAILED", "Pay button does nothing"],
    ]);
    // Reading a test case shows where the run is, without advancing it.
    expect((await call("/v1/run-test-case/rtc_2")).body).toMatchObject({
      status: "COMPLETED",
      errorCode: "TEST_FAILED",
    });
  });

  it("ends a run in ERROR or CANCELLED with no result, its tests cut short unless planned otherwise", async () => {
    await start();
    qa.addRun({ tests: [{ name: "A", result: "PASSED" }], status: "ERROR" });
    qa.addRun({
      tests: [
        { name: "B", result: "FAILED", status: "COMPLETED" },
        { name: "C", result: "PASSED" },
      ],
      status: "CANCELLED",
    });

    expect((await call("/v1/run/run_1?testCases=all")).body).toMatchObject({
      status: "ERROR",
      result: null,
      runTestCases: [{ status: "ERROR", result: null }],
    });
    expect((await call("/v1/run/run_2?testCases=all")).body).toMatchObject({
      status: "CANCELLED",
      result: null,
      runTestCases: [
        { status: "COMPLETED", result: "FAILED" },
        { status: "CANCELLED", result: null },
      ],
    });
  });

  it("gives a run of only skipped tests the result SKIPPED, and of passed ones PASSED", async () => {
    await start();
    qa.addRun({ tests: [{ name: "A", result: "SKIPPED" }] });
    qa.addRun({
      tests: [
        { name: "A", result: "PASSED" },
        { name: "B", result: "SKIPPED" },
      ],
    });

    expect((await call("/v1/run/run_1")).body.result).toBe("SKIPPED");
    expect((await call("/v1/run/run_2")).body.result).toBe("PASSED");
  });

  it("reruns the failed tests, or all, into a new run whose tests pass by default", async () => {
    await start();
    qa.addRun(twoTests);

    const failedOnly = await call("/v1/run/run_1", { body: { failedOnly: true } });
    const all = await call("/v1/run/run_1", { body: {} });

    expect(failedOnly).toEqual({
      status: 200,
      body: {
        success: true,
        run: {
          id: expect.any(String),
          shortId: "run_2",
          url: "https://app.qa.tech/p/proj_demo/results/run_2",
          testCount: 1,
        },
      },
    });
    expect(all.body.run).toMatchObject({ shortId: "run_3", testCount: 2 });
    expect(qa.runs().slice(1)).toMatchObject([
      {
        shortId: "run_2",
        rerunOf: "run_1",
        result: "PASSED",
        tests: [{ name: "Checkout works", result: "PASSED" }],
      },
      {
        shortId: "run_3",
        rerunOf: "run_1",
        result: "PASSED",
        tests: [{ result: "PASSED" }, { result: "PASSED" }],
      },
    ]);
    // A test case keeps its project test case id across runs.
    expect(qa.runs()[1].tests[0].projectTestCaseId).toBe(qa.runs()[0].tests[1].projectTestCaseId);
  });

  it("reruns chosen test cases by projectTestCaseIds, and refuses them with failedOnly", async () => {
    await start();
    qa.addRun(twoTests);
    const [login] = qa.runs()[0].tests;

    const chosen = await call("/v1/run/run_1", { body: { projectTestCaseIds: [login.projectTestCaseId] } });
    const both = await call("/v1/run/run_1", {
      body: { failedOnly: true, projectTestCaseIds: [login.projectTestCaseId] },
    });
    const unknown = await call("/v1/run/run_1", {
      body: { projectTestCaseIds: ["00000000-0000-4000-8000-00000000ffff"] },
    });
    const notUuids = await call("/v1/run/run_1", { body: { projectTestCaseIds: ["login"] } });

    expect(chosen.body.run).toMatchObject({ shortId: "run_2", testCount: 1 });
    expect(qa.runs()[1].tests.map((t) => t.name)).toEqual(["Login works"]);
    expect([both.status, unknown.status, notUuids.status]).toEqual([400, 400, 400]);
    expect(both.body.message).toContain("failedOnly cannot be combined with projectTestCaseIds");
    expect(qa.runs()).toHaveLength(2);
  });

  it("refuses a failedOnly rerun of a run with no failed test, and odd bodies", async () => {
    await start();
    qa.addRun({ tests: [{ name: "A", result: "PASSED" }] });

    expect((await call("/v1/run/run_1", { body: { failedOnly: true } })).status).toBe(400);
    expect((await call("/v1/run/run_1", { body: { failedOnly: "yes" } })).status).toBe(400);
    expect((await call("/v1/run/run_1", { body: [] })).status).toBe(400);
    expect((await call("/v1/run/run_9", { body: {} })).status).toBe(404);
    expect(qa.runs()).toHaveLength(1);
  });

  it("lets rerunPlan decide how a rerun ends, given the original's rerun tests and failedOnly", async () => {
    const calls: unknown[] = [];
    await start({
      rerunPlan: (original, failedOnly) => {
        calls.push([original.shortId, original.tests.map((t) => t.name), failedOnly]);
        return { tests: original.tests.map((t) => ({ name: t.name, result: "FAILED" })), readsUntilFinal: 2 };
      },
    });
    qa.addRun(twoTests);

    await call("/v1/run/run_1", { body: { failedOnly: true } });

    expect(calls).toEqual([["run_1", ["Checkout works"], true]]);
    expect((await call("/v1/run/run_2")).body.status).toBe("INITIATED");
    expect(qa.runs()[1]).toMatchObject({ status: "INITIATED", tests: [{ name: "Checkout works" }] });
  });

  it("requires projectShortId of an organisation key on a rerun, and finds only that project's runs", async () => {
    await start({ keyScope: "organization" });
    qa.addRun({ ...twoTests, project: "proj_shop" });

    const unnamed = await call("/v1/run/run_1", { body: {} });
    const other = await call("/v1/run/run_1", { body: { projectShortId: "proj_other" } });
    const named = await call("/v1/run/run_1", { body: { projectShortId: "proj_shop" } });

    expect(unnamed).toMatchObject({
      status: 400,
      body: { message: expect.stringContaining("projectShortId") },
    });
    expect(other.status).toBe(404);
    expect(named.body.run).toMatchObject({ url: "https://app.qa.tech/p/proj_shop/results/run_2" });
    // GET is not documented to take the project: an organisation key reads any of its runs.
    expect((await call("/v1/run/run_1")).status).toBe(200);
  });

  it("hides another project's runs from a project-scoped key (404) and refuses naming another project", async () => {
    await start({ keyScope: "project", projectShortId: "proj_demo" });
    qa.addRun({ ...twoTests, project: "proj_other" });

    expect((await call("/v1/run/run_1")).status).toBe(404);
    expect((await call("/v1/run-test-case/rtc_1")).status).toBe(404);
    expect((await call("/v1/run/run_1", { body: {} })).status).toBe(404);
    expect((await call("/v1/run/run_1", { body: { projectShortId: "proj_other" } })).status).toBe(403);
  });

  it('answers 401 on every runs call with runsAccess "none", and to a wrong key', async () => {
    await start({ runsAccess: "none" });
    qa.addRun(twoTests);

    const answers = [
      await call("/v1/run/run_1?testCases=all"),
      await call("/v1/run-test-case/rtc_1"),
      await call("/v1/run/run_1", { body: {} }),
      await call("/v1/run/run_unknown"),
    ];

    expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 401]);
    expect((await call("/v1/chat", { body: { message: "hi" } })).status).toBe(202);
    await qa.close();
    await start();
    qa.addRun(twoTests);
    expect((await call("/v1/run/run_1", { key: "wrong" })).status).toBe(401);
  });

  it("records runs requests and injects faults on them", async () => {
    await start();
    qa.addRun(twoTests);
    qa.failNext({ path: "/v1/run/run_1", fault: { status: 503, headers: { "retry-after": "3" } } });

    const faulted = await call("/v1/run/run_1?testCases=all");
    const ok = await call("/v1/run/run_1?testCases=all");

    expect([faulted.status, ok.status]).toEqual([503, 200]);
    expect(qa.requests.map((r) => [r.method, r.path, r.query])).toEqual([
      ["GET", "/v1/run/run_1", { testCases: "all" }],
      ["GET", "/v1/run/run_1", { testCases: "all" }],
    ]);
  });

  it("creates the runs a final reply started, in the conversation's project, and links them", async () => {
    await start({
      keyScope: "organization",
      plan: () => ({
        pollsUntilFinal: 0,
        text: "I ran the checkout tests.",
        runs: [twoTests, { tests: [{ name: "Search", result: "PASSED" }] }],
        linkTests: true,
      }),
    });
    const created = await call("/v1/chat", { body: { message: "Checkout", projectShortId: "proj_shop" } });
    expect(qa.runs()).toEqual([]);

    const read = async () => (await call(`/v1/chat/${created.body.shortId}`)).body.messages;
    await read();
    const messages = await read();

    expect(messages[0]).toMatchObject({ role: "assistant", status: "COMPLETED" });
    expect(messages[0].text).toBe(
      [
        "I ran the checkout tests.",
        "",
        "[Run results](https://app.qa.tech/p/proj_shop/results/run_1)",
        "- [Login works](https://app.qa.tech/p/proj_shop/results/test/rtc_1)",
        "- [Checkout works](https://app.qa.tech/p/proj_shop/results/test/rtc_2)",
        "[Run results](https://app.qa.tech/p/proj_shop/results/run_2)",
        "- [Search](https://app.qa.tech/p/proj_shop/results/test/rtc_3)",
      ].join("\n"),
    );
    expect(qa.runs().map((r) => [r.shortId, r.project])).toEqual([
      ["run_1", "proj_shop"],
      ["run_2", "proj_shop"],
    ]);
    // The verdict's link reading finds them all, on the conversation's own project.
    expect(resultLinks(messages[0].text, created.body.url)).toEqual({
      runs: ["run_1", "run_2"],
      tests: ["rtc_1", "rtc_2", "rtc_3"],
    });
    // Further reads do not create the runs again.
    await read();
    expect(qa.runs()).toHaveLength(2);
  });

  it("links only the runs unless linkTests, and a reply with no text of its own gets the links alone", async () => {
    await start({ plan: () => ({ pollsUntilFinal: 0, text: "", runs: [twoTests] }) });
    const created = await call("/v1/chat", { body: { message: "Checkout" } });

    await call(`/v1/chat/${created.body.shortId}`);
    const [reply] = (await call(`/v1/chat/${created.body.shortId}`)).body.messages;

    expect(reply.text).toBe("[Run results](https://app.qa.tech/p/proj_demo/results/run_1)");
  });
});
