import fc from "fast-check";
import { jsonBytes } from "../../../../functions/shared/domain/limits";
import { stripUnsafeLinks } from "../../../../functions/shared/domain/safe-links";
import {
  boundedVerdict,
  decideVerdict,
  escapeMarkdownText,
  MAX_LINKED_RUNS,
  MAX_LINKED_TESTS,
  parseVerdictLine,
  planRerun,
  projectSlugOf,
  type RunRead,
  type RunTestRead,
  resultLinks,
  runsFinal,
  THOUGHT_MAX_CHARS,
  unverifiedVerdict,
  VERDICT_LINE_FORMAT,
  VERDICT_MAX_BYTES,
  type Verdict,
  type VerdictTest,
  verdictFromReply,
  verdictMarkdown,
} from "../../../../functions/shared/domain/verdict";
import { type AdfNode, markdownToAdf } from "../../../../functions/shared/trackers/jira/adf";

const CONVERSATION = "https://app.qa.tech/p/shop/chat/chat_1";
const RESULTS = "https://app.qa.tech/p/shop/results";
const runUrl = (shortId: string) => `${RESULTS}/${shortId}`;

function test(overrides: Partial<RunTestRead> = {}): RunTestRead {
  return { shortId: "t1", name: "Checkout", status: "COMPLETED", result: "PASSED", ...overrides };
}

function run(tests: RunTestRead[], overrides: Partial<RunRead> = {}): RunRead {
  return { shortId: "r1", status: "COMPLETED", result: "PASSED", tests, ...overrides };
}

describe("projectSlugOf", () => {
  it("reads the app's origin and the project's slug from a conversation url", () => {
    expect(projectSlugOf(CONVERSATION)).toEqual({ origin: "https://app.qa.tech", slug: "shop" });
    expect(projectSlugOf("https://APP.qa.tech/p/my-shop_2/chat/abc/?x=1#y")).toEqual({
      origin: "https://app.qa.tech",
      slug: "my-shop_2",
    });
  });

  it.each([
    "http://app.qa.tech/p/shop/chat/chat_1",
    "https://user@app.qa.tech/p/shop/chat/chat_1",
    "https://user:pw@app.qa.tech/p/shop/chat/chat_1",
    "https://app.qa.tech:8443/p/shop/chat/chat_1",
    "https://app.qa.tech/p/shop/results/r1",
    "https://app.qa.tech/p/shop/chat/",
    "https://app.qa.tech/p/../shop/chat/chat_1",
    "https://app.qa.tech/p/sh%2Fop/chat/chat_1",
    "https://app.qa.tech/p/shop/chat/chat_1/more",
    "https://app.qa.tech\\@evil.example/p/shop/chat/chat_1",
    "https://localhost/p/shop/chat/chat_1",
    "https://app.qa.tech./p/shop/chat/chat_1",
    " https://app.qa.tech/p/shop/chat/chat_1",
    "javascript:alert(1)//https://app.qa.tech/p/shop/chat/chat_1",
    "",
  ])("refuses %j", (url) => {
    expect(projectSlugOf(url)).toBeNull();
  });

  it("refuses what is not a string", () => {
    expect(projectSlugOf(undefined as unknown as string)).toBeNull();
    expect(projectSlugOf({} as unknown as string)).toBeNull();
  });
});

describe("resultLinks", () => {
  it("finds runs and tests in markdown links and bare urls, first seen first, once each", () => {
    const reply = [
      `I ran [the checkout run](${RESULTS}/run_A) and ${RESULTS}/test/tc_1.`,
      `Details: <${RESULTS}/run_B>, **${RESULTS}/test/tc_2**, ${RESULTS}/run_A again,`,
      `(${RESULTS}/test/tc_1) and [${RESULTS}/run_C/](${RESULTS}/run_C/?tab=steps#top)`,
    ].join("\n");

    expect(resultLinks(reply, CONVERSATION)).toEqual({
      runs: ["run_A", "run_B", "run_C"],
      tests: ["tc_1", "tc_2"],
    });
  });

  it("takes the host in any case, and the slug and ids exactly", () => {
    expect(resultLinks("HTTPS://App.QA.tech/p/shop/results/Run-1", CONVERSATION).runs).toEqual(["Run-1"]);
    expect(resultLinks("https://app.qa.tech/p/Shop/results/r1", CONVERSATION).runs).toEqual([]);
  });

  it.each([
    ["another project", "https://app.qa.tech/p/other/results/r1"],
    ["another host", "https://qa.example/p/shop/results/r1"],
    ["http", "http://app.qa.tech/p/shop/results/r1"],
    ["userinfo", "https://me@app.qa.tech/p/shop/results/r1"],
    ["userinfo with a password", "https://me:pw@app.qa.tech/p/shop/results/r1"],
    ["a port", "https://app.qa.tech:443/p/shop/results/r1"],
    ["a look-alike host (suffix)", "https://app.qa.tech.evil.example/p/shop/results/r1"],
    ["a look-alike host (prefix)", "https://evilapp.qa.tech/p/shop/results/r1"],
    ["a look-alike host (Cyrillic a)", "https://\u0430pp.qa.tech/p/shop/results/r1"],
    ["a trailing-dot host", "https://app.qa.tech./p/shop/results/r1"],
    ["a backslash host", "https://evil.example\\@app.qa.tech/p/shop/results/r1"],
    ["a query-only path", "https://app.qa.tech?/p/shop/results/r1"],
    ["our link in another's query", "https://evil.example/?u=https://app.qa.tech/p/shop/results/r1"],
    ["our link in another's path", "https://evil.example/https://app.qa.tech/p/shop/results/r1"],
    ["text glued before it", "evilhttps://app.qa.tech/p/shop/results/r1"],
    ["`..` into our project", "https://app.qa.tech/p/other/../shop/results/r1"],
    ["`..` out of our project", "https://app.qa.tech/p/shop/results/../../other/results/r1"],
    ["`..` as the id", "https://app.qa.tech/p/shop/results/.."],
    ["a percent-encoded slash", "https://app.qa.tech/p/shop/results/r1%2F..%2Fr2"],
    ["a percent-encoded slug", "https://app.qa.tech/p/sh%6Fp/results/r1"],
    ["more path after the id", "https://app.qa.tech/p/shop/results/r1/steps"],
    ["an id over 64 characters", `https://app.qa.tech/p/shop/results/${"a".repeat(65)}`],
    ["the test page without an id", "https://app.qa.tech/p/shop/results/test"],
    ["the test page with an empty id", "https://app.qa.tech/p/shop/results/test/"],
  ])("ignores %s", (_, link) => {
    expect(resultLinks(`See [the run](${link}) and ${link} .`, CONVERSATION)).toEqual({
      runs: [],
      tests: [],
    });
  });

  it("leaves the sentence's punctuation out of the id", () => {
    expect(
      resultLinks(`It failed: ${RESULTS}/r1. Also ${RESULTS}/test/t2, and ${RESULTS}/r3!`, CONVERSATION),
    ).toEqual({ runs: ["r1", "r3"], tests: ["t2"] });
  });

  it(`keeps at most ${MAX_LINKED_RUNS} runs and ${MAX_LINKED_TESTS} tests`, () => {
    const runs = Array.from({ length: 8 }, (_, i) => `${RESULTS}/run${i}`);
    const tests = Array.from({ length: 60 }, (_, i) => `${RESULTS}/test/t${i}`);

    const links = resultLinks([...runs, ...tests].join("\n"), CONVERSATION);

    expect(links.runs).toEqual(Array.from({ length: MAX_LINKED_RUNS }, (_, i) => `run${i}`));
    expect(links.tests).toEqual(Array.from({ length: MAX_LINKED_TESTS }, (_, i) => `t${i}`));
  });

  it("finds nothing when the conversation url is not one of QA.tech's", () => {
    expect(resultLinks(`${RESULTS}/r1`, "http://app.qa.tech/p/shop/chat/c")).toEqual({ runs: [], tests: [] });
    expect(resultLinks(`${RESULTS}/r1`, "")).toEqual({ runs: [], tests: [] });
  });

  // Pieces that make links, almost-links and everything that ends or breaks one.
  const pieces = fc.constantFrom(
    RESULTS,
    `${RESULTS}/`,
    `${RESULTS}/test/`,
    "https://app.qa.tech",
    "https://",
    "http://",
    "/p/shop/results/",
    "/p/other/results/",
    "test/",
    "r1",
    "T_2-x",
    "..",
    "%2F",
    "@",
    ":443",
    "?",
    "#",
    "/",
    "\\",
    "(",
    ")",
    "[x](",
    "<",
    ">",
    " ",
    "\n",
    "*",
    ".",
    "\u0000",
    "\uD800",
    "é",
  );
  const replies = fc.oneof(
    fc.array(pieces, { maxLength: 40 }).map((parts) => parts.join("")),
    fc.string({ unit: "binary", maxLength: 200 }),
  );

  it("never throws, and what it finds is an id in a link to this project, within the caps", () => {
    fc.assert(
      fc.property(
        replies,
        fc.oneof(fc.constant(CONVERSATION), fc.string({ maxLength: 60 })),
        (reply, url) => {
          const links = resultLinks(reply, url);
          expect(links.runs.length).toBeLessThanOrEqual(MAX_LINKED_RUNS);
          expect(links.tests.length).toBeLessThanOrEqual(MAX_LINKED_TESTS);
          expect(new Set(links.runs).size).toBe(links.runs.length);
          expect(new Set(links.tests).size).toBe(links.tests.length);
          const project = projectSlugOf(url);
          if (!project) expect(links).toEqual({ runs: [], tests: [] });
          for (const id of [...links.runs, ...links.tests]) expect(id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
          const lower = reply.toLowerCase();
          for (const id of links.runs)
            expect(lower).toContain(`${project?.origin}/p/${project?.slug}/results/${id}`.toLowerCase());
          for (const id of links.tests)
            expect(lower).toContain(`${project?.origin}/p/${project?.slug}/results/test/${id}`.toLowerCase());
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it("never throws on what is not a string", () => {
    expect(resultLinks(undefined as unknown as string, CONVERSATION)).toEqual({ runs: [], tests: [] });
    expect(resultLinks(`${RESULTS}/r1`, null as unknown as string)).toEqual({ runs: [], tests: [] });
  });
});

describe("parseVerdictLine", () => {
  it.each([
    ["Verdict: passed", "passed"],
    ["verdict: FAILED", "failed"],
    ["Verdict: could not verify", "unverified"],
    ["Verdict: Could Not Verify.", "unverified"],
    ["**Verdict: passed**", "passed"],
    ["**Verdict:** failed", "failed"],
    ["**Verdict**: failed.", "failed"],
    ["_Verdict: passed._", "passed"],
    ["*Verdict: passed*.", "passed"],
    ["  Verdict:passed  ", "passed"],
    ["Verdict: could  not verify", "unverified"],
  ] as const)("reads %j as %s", (line, outcome) => {
    expect(parseVerdictLine(`I tested the checkout.\n\n${line}\n`)).toBe(outcome);
  });

  it.each([
    "The verdict: passed",
    "Verdict: passed, mostly",
    "Verdict: passed because the button works",
    "Verdict: pass",
    "Verdict - passed",
    "# Verdict: passed",
    "> Verdict: passed",
    "- Verdict: passed",
    "`Verdict: passed`",
    "Verdict: passed|failed|could not verify",
    "",
  ])("reads no verdict in %j", (line) => {
    expect(parseVerdictLine(`Some text.\n${line}`)).toBeNull();
  });

  it("takes the last verdict line", () => {
    expect(parseVerdictLine("Verdict: passed\nThen the retry failed.\r\nVerdict: failed\nThanks!")).toBe(
      "failed",
    );
    expect(parseVerdictLine("Verdict: failed\r\nVerdict: could not verify")).toBe("unverified");
  });

  it("documents the format it reads", () => {
    expect(VERDICT_LINE_FORMAT).toBe("Verdict: passed|failed|could not verify");
  });

  it("never throws", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (text) => {
        expect([null, "passed", "failed", "unverified"]).toContain(parseVerdictLine(text));
      }),
    );
    expect(parseVerdictLine(undefined as unknown as string)).toBeNull();
  });
});

describe("runsFinal", () => {
  it("is true when every run and every test is COMPLETED, ERROR or CANCELLED", () => {
    expect(runsFinal([])).toBe(true);
    expect(
      runsFinal([
        run([test(), test({ status: "ERROR", result: null })]),
        run([test({ status: "CANCELLED", result: null })], { status: "CANCELLED" }),
        run([], { status: "ERROR", result: null }),
      ]),
    ).toBe(true);
  });

  it.each(["INITIATED", "RUNNING"] as const)("is false while a run or a test is %s", (status) => {
    expect(runsFinal([run([test()]), run([], { status, result: null })])).toBe(false);
    expect(runsFinal([run([test(), test({ status, result: null })])])).toBe(false);
  });
});

describe("decideVerdict", () => {
  it("says passed when every test passed and every run completed, with the runs' pages", () => {
    const verdict = decideVerdict(
      [
        run([test(), test({ shortId: "t2", name: "Login" })]),
        run([test({ shortId: "t3" })], { shortId: "r2" }),
      ],
      runUrl,
    );

    expect(verdict).toEqual({
      outcome: "passed",
      source: "runs",
      tests: [
        { name: "Checkout", result: "passed" },
        { name: "Login", result: "passed" },
        { name: "Checkout", result: "passed" },
      ],
      more: 0,
      runUrls: [`${RESULTS}/r1`, `${RESULTS}/r2`],
    });
  });

  it.each([
    ["TEST_FAILED", "TEST_FAILED"],
    ["an error code not read", undefined],
    ["an error code we do not know", "SOMETHING_NEW"],
    ["an empty error code", ""],
  ])(
    "says failed for a test that FAILED with %s, failures first with their title and thought",
    (_, errorCode) => {
      const verdict = decideVerdict(
        [
          run(
            [
              test({ shortId: "ok", name: "Login", resultTitle: "fine", evaluationThought: "all good" }),
              test({
                shortId: "bad",
                name: "Checkout",
                result: "FAILED",
                errorCode,
                resultTitle: "Pay button does nothing",
                evaluationThought: "Clicking Pay left the cart unchanged.",
                url: "https://app.qa.tech/p/shop/results/test/bad",
              }),
            ],
            { result: "FAILED" },
          ),
        ],
        runUrl,
      );

      expect(verdict.outcome).toBe("failed");
      expect(verdict.reason).toBeUndefined();
      expect(verdict.tests).toEqual([
        {
          name: "Checkout",
          result: "failed",
          title: "Pay button does nothing",
          thought: "Clicking Pay left the cart unchanged.",
          url: "https://app.qa.tech/p/shop/results/test/bad",
        },
        { name: "Login", result: "passed" },
      ]);
    },
  );

  it("says failed even when another run ended with an error or was cancelled", () => {
    const runs = [
      run([test({ result: "FAILED", errorCode: "TEST_FAILED" })]),
      run([], { shortId: "r2", status: "ERROR", result: null }),
      run([test({ shortId: "t3", status: "CANCELLED", result: null })], {
        shortId: "r3",
        status: "CANCELLED",
      }),
    ];

    expect(decideVerdict(runs, runUrl).outcome).toBe("failed");
  });

  it.each<[string, RunRead[], string]>([
    ["no run", [], "no tests ran"],
    ["a run without tests", [run([])], "no tests ran"],
    [
      "a run that ended with an error",
      [run([test()], { status: "ERROR", result: null })],
      "a run ended with an error",
    ],
    [
      "two runs that ended with an error and no tests",
      [run([], { status: "ERROR", result: null }), run([], { shortId: "r2", status: "ERROR", result: null })],
      "no tests ran; 2 runs ended with an error",
    ],
    ["a cancelled run", [run([test()], { status: "CANCELLED", result: null })], "a run was cancelled"],
    ["an unfinished run", [run([test()], { status: "RUNNING", result: null })], "a run had not finished"],
    [
      "agent and platform failures only",
      [
        run([
          test({ result: "FAILED", errorCode: "AGENT_TIMEOUT" }),
          test({ shortId: "t2", result: "FAILED", errorCode: "PLATFORM_BROWSER_CRASHED" }),
          test({ shortId: "t3" }),
        ]),
      ],
      "2 tests could not run (QA.tech's agent or platform failed, not the product)",
    ],
    [
      "a test that errored",
      [run([test({ status: "ERROR", result: null })])],
      "1 test could not run (QA.tech's agent or platform failed, not the product)",
    ],
    ["a skipped test", [run([test(), test({ shortId: "t2", result: "SKIPPED" })])], "1 test was skipped"],
    [
      "skipped tests",
      [run([test({ result: "SKIPPED" }), test({ shortId: "t2", result: "SKIPPED" })])],
      "2 tests were skipped",
    ],
    [
      "a cancelled test",
      [run([test(), test({ shortId: "t2", status: "CANCELLED", result: null })])],
      "1 test did not run",
    ],
    [
      "a run that FAILED with all tests passed",
      [run([test()], { result: "FAILED" })],
      "a run reported a failure that none of its tests shows",
    ],
  ])("could not verify with %s", (_, runs, reason) => {
    const verdict = decideVerdict(runs, runUrl);

    expect(verdict).toMatchObject({ outcome: "unverified", source: "runs", reason, more: 0 });
  });

  it("calls a test that failed for the agent or the platform 'could not run', without its title", () => {
    const verdict = decideVerdict(
      [
        run([
          test({
            result: "FAILED",
            errorCode: "AGENT_LOST",
            resultTitle: "Agent lost",
            evaluationThought: "x",
          }),
        ]),
      ],
      runUrl,
    );

    expect(verdict.tests).toEqual([{ name: "Checkout", result: "could not run" }]);
  });

  it("cuts a long thought, and keeps only https recordings", () => {
    const verdict = decideVerdict(
      [
        run([
          test({ result: "FAILED", evaluationThought: "é".repeat(1_000), url: "javascript:alert(1)" }),
          test({ shortId: "t2", url: "http://app.qa.tech/p/shop/results/test/t2" }),
          test({ shortId: "t3", url: "https://me@evil.example/x" }),
          test({ shortId: "t5", url: "https://app.qa.tech/p/shop/\u0001x" }),
          test({ shortId: "t4", url: "https://app.qa.tech/p/shop/results/test/t4" }),
        ]),
      ],
      runUrl,
    );

    const [failed, ...rest] = verdict.tests;
    expect(Array.from(failed.thought ?? "")).toHaveLength(THOUGHT_MAX_CHARS);
    expect(failed.thought?.endsWith("…")).toBe(true);
    expect(failed.url).toBeUndefined();
    expect(rest.map((row) => row.url)).toEqual([
      undefined,
      undefined,
      undefined,
      "https://app.qa.tech/p/shop/results/test/t4",
    ]);
  });

  it("counts a test read in its run and on its own once, with what either read had", () => {
    const inRun = test({ shortId: "t1", result: "FAILED" });
    const alone = test({
      shortId: "t1",
      result: "FAILED",
      errorCode: "AGENT_TIMEOUT",
      url: "https://x.example/t1",
    });

    const verdict = decideVerdict([run([inRun]), run([alone], { shortId: "r2" })], runUrl);

    expect(verdict.tests).toEqual([
      { name: "Checkout", result: "could not run", url: "https://x.example/t1" },
    ]);
    expect(verdict.outcome).toBe("unverified");
  });

  it("counts a test read more than once as its worst read, and errs on 'failed' with its error codes", () => {
    const twice = (a: Partial<RunTestRead>, b: Partial<RunTestRead>) =>
      decideVerdict([run([test(a)]), run([test(b)], { shortId: "r2" })], runUrl);

    expect(twice({ result: "PASSED" }, { result: "SKIPPED" })).toMatchObject({
      outcome: "unverified",
      tests: [{ result: "skipped" }],
    });
    expect(twice({ status: "RUNNING", result: null }, {}).outcome).toBe("unverified");
    expect(
      twice({ result: "FAILED", errorCode: "AGENT_LOST" }, { result: "FAILED", errorCode: "TEST_FAILED" })
        .outcome,
    ).toBe("failed");
    expect(twice({}, { result: "FAILED", resultTitle: "Broken" }).tests).toEqual([
      { name: "Checkout", result: "failed", title: "Broken" },
    ]);
  });

  it("names a run's page only for a run whose short id is safe in a path", () => {
    const verdict = decideVerdict([run([test()]), run([test()], { shortId: "../other" })], runUrl);

    expect(verdict.runUrls).toEqual([`${RESULTS}/r1`]);
  });

  const statuses = fc.constantFrom("INITIATED", "RUNNING", "COMPLETED", "ERROR", "CANCELLED" as const);
  const results = fc.constantFrom("PASSED", "FAILED", "SKIPPED", null);
  const errorCodes = fc.option(
    fc.oneof(
      fc.constantFrom("TEST_FAILED", "AGENT_TIMEOUT", "PLATFORM_ERROR", "SOMETHING_ELSE", ""),
      fc.string({ maxLength: 12 }),
    ),
    { nil: undefined },
  );
  // Few short ids, so that the same test is often read twice.
  const shortIds = fc.constantFrom("", "a", "b", "c");
  const anyTest = fc.record({
    shortId: shortIds,
    name: fc.string({ maxLength: 10 }),
    status: statuses,
    result: results,
    errorCode: errorCodes,
  }) as fc.Arbitrary<RunTestRead>;
  const anyRun = (tests: fc.Arbitrary<RunTestRead[]>) =>
    fc.record({
      shortId: fc.string({ maxLength: 4 }),
      status: statuses,
      result: results,
      tests,
    }) as fc.Arbitrary<RunRead>;
  // TEST_FAILED whatever else reads the same test; an error code not read only when nothing else read it
  // (another read's AGENT_ code is then the code).
  const productFailure = fc.record({
    shortId: fc.constantFrom("", "a", "b", "c", "failure"),
    name: fc.string({ maxLength: 10 }),
    status: statuses,
    result: fc.constant("FAILED" as const),
    errorCode: fc.constantFrom("TEST_FAILED", undefined),
  }) as fc.Arbitrary<RunTestRead>;

  it("never reports a failed product test as anything but failed", () => {
    fc.assert(
      fc.property(
        fc.array(anyRun(fc.array(anyTest, { maxLength: 5 })), { maxLength: 4 }),
        anyRun(fc.array(anyTest, { maxLength: 5 })),
        productFailure,
        fc.nat(),
        fc.array(anyRun(fc.array(anyTest, { maxLength: 5 })), { maxLength: 4 }),
        (before, host, failure, at, after) => {
          const read = failure.errorCode === undefined ? { ...failure, shortId: "failure" } : failure;
          const tests = [...host.tests];
          tests.splice(at % (tests.length + 1), 0, read);
          const verdict = decideVerdict([...before, { ...host, tests }, ...after], runUrl);
          expect(verdict.outcome).toBe("failed");
          expect(verdict.tests[0].result).toBe("failed");
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it("says passed only when every test PASSED and every run COMPLETED, never with a run not read in full", () => {
    fc.assert(
      fc.property(fc.array(anyRun(fc.array(anyTest, { maxLength: 5 })), { maxLength: 4 }), (runs) => {
        const verdict = decideVerdict(runs, runUrl);
        const tests = runs.flatMap((r) => r.tests);
        const passed =
          tests.length > 0 &&
          tests.every((t) => t.result === "PASSED") &&
          runs.every((r) => r.status === "COMPLETED" && r.result !== "FAILED");
        expect(verdict.outcome === "passed").toBe(passed);
        if (verdict.outcome === "unverified") expect(verdict.reason).toMatch(/\S/);
        else expect(verdict.reason).toBeUndefined();
        const firstOther = verdict.tests.findIndex((row) => row.result !== "failed");
        if (firstOther >= 0)
          expect(verdict.tests.slice(firstOther).some((row) => row.result === "failed")).toBe(false);
        for (const row of verdict.tests)
          if (row.result !== "failed") expect(row.title ?? row.thought).toBeUndefined();
      }),
    );
  });
});

describe("verdictFromReply", () => {
  it.each([
    ["FAILED", "QA.tech's reply failed"],
    ["CANCELLED", "QA.tech's reply was cancelled"],
  ] as const)("could not verify when the reply is %s, whatever it says", (status, reason) => {
    expect(verdictFromReply({ status, text: "Verdict: passed" })).toEqual({
      outcome: "unverified",
      source: "none",
      reason,
      tests: [],
      more: 0,
      runUrls: [],
    });
  });

  it.each(["passed", "failed"] as const)("takes the assistant's verdict line: %s", (outcome) => {
    expect(verdictFromReply({ status: "COMPLETED", text: `Tested.\n**Verdict: ${outcome}**` })).toEqual({
      outcome,
      source: "assistant",
      tests: [],
      more: 0,
      runUrls: [],
    });
  });

  it("takes the assistant's 'could not verify' with a reason", () => {
    expect(verdictFromReply({ status: "COMPLETED", text: "Verdict: could not verify." })).toMatchObject({
      outcome: "unverified",
      source: "assistant",
      reason: "QA.tech's assistant could not verify the change",
    });
  });

  it("could not verify without a verdict line", () => {
    expect(verdictFromReply({ status: "COMPLETED", text: "All looks fine to me." })).toEqual(
      unverifiedVerdict("QA.tech's reply linked no test run and gave no verdict line"),
    );
  });
});

describe("unverifiedVerdict and planRerun", () => {
  it("could not verify for the caller's reason", () => {
    expect(unverifiedVerdict("the runs could not be read (403)")).toEqual({
      outcome: "unverified",
      source: "none",
      reason: "the runs could not be read (403)",
      tests: [],
      more: 0,
      runUrls: [],
    });
  });

  it("reruns the failed tests when any failed, else all of them", () => {
    expect(planRerun(run([test(), test({ result: "FAILED", errorCode: "AGENT_X" })]))).toEqual({
      failedOnly: true,
    });
    expect(planRerun(run([test(), test({ result: "SKIPPED" })]))).toEqual({ failedOnly: false });
    expect(planRerun(run([], { status: "ERROR", result: null }))).toEqual({ failedOnly: false });
  });
});

const rowResults = fc.constantFrom("passed", "failed", "skipped", "not run", "could not run" as const);
const nasty = fc.oneof(
  fc.string({ unit: "binary", maxLength: 3_000 }),
  fc
    .array(
      fc.constantFrom(
        "|",
        "\\|",
        "\\",
        "\n",
        "\r",
        "\r\n",
        "\t",
        "\u2028",
        "`",
        "```",
        "<",
        ">",
        "<adf>",
        "<script>",
        "[",
        "]",
        "](",
        "[x](javascript:alert(1))",
        "[y](https://evil.example)",
        "![i](https://evil.example/i.png)",
        "https://evil.example",
        "www.evil.example",
        "me@evil.example",
        "#",
        "-",
        "+",
        "1.",
        "*",
        "_",
        "~",
        "&amp;",
        "&#124;",
        "---",
        "===",
        " ",
        "a",
        "é",
        "\u0000",
        "\uD800",
      ),
      { maxLength: 30 },
    )
    .map((parts) => parts.join("")),
);
const rows = fc.record(
  {
    name: nasty,
    result: rowResults,
    title: nasty,
    thought: nasty,
    url: fc.oneof(fc.constant("https://app.qa.tech/p/shop/results/test/t1"), nasty),
  },
  { requiredKeys: ["name", "result"] },
) as fc.Arbitrary<VerdictTest>;
const verdicts = fc.record({
  outcome: fc.constantFrom("passed", "failed", "unverified" as const),
  source: fc.constantFrom("runs", "assistant", "none" as const),
  reason: fc.option(nasty, { nil: undefined }),
  tests: fc.array(rows, { maxLength: 40 }),
  more: fc.nat({ max: 1_000 }),
  runUrls: fc.array(fc.oneof(fc.constant(`${RESULTS}/r1`), nasty), { maxLength: 8 }),
}) as fc.Arbitrary<Verdict>;

describe("boundedVerdict", () => {
  it("leaves a small verdict as it is", () => {
    const verdict = decideVerdict(
      [run([test({ result: "FAILED", resultTitle: "Broken" }), test({ shortId: "t2" })])],
      runUrl,
    );

    expect(boundedVerdict(verdict)).toEqual(verdict);
  });

  it("stays within its budget and keeps the count of rows, with what it carries sanitized", () => {
    fc.assert(
      fc.property(verdicts, (verdict) => {
        const bounded = boundedVerdict(verdict);
        expect(jsonBytes(bounded)).toBeLessThanOrEqual(VERDICT_MAX_BYTES);
        expect(bounded.tests.length + bounded.more).toBe(verdict.tests.length + verdict.more);
        expect(bounded.runUrls.length).toBeLessThanOrEqual(MAX_LINKED_RUNS);
        expect(JSON.stringify(bounded)).not.toMatch(/\\u0000|\\ud800/i);
      }),
      { numRuns: 200 },
    );
  });

  it("drops rows from the end into `more` when they do not fit", () => {
    const long = "x".repeat(400);
    const tests = Array.from({ length: 100 }, (_, i) => ({
      name: `test ${i}`,
      result: "failed" as const,
      title: long,
      thought: long,
    }));

    const bounded = boundedVerdict({
      outcome: "failed",
      source: "runs",
      tests,
      more: 3,
      runUrls: [`${RESULTS}/r1`],
    });

    expect(bounded.tests.length).toBeGreaterThan(5);
    expect(bounded.tests.length).toBeLessThan(100);
    expect(bounded.tests).toEqual(tests.slice(0, bounded.tests.length));
    expect(bounded.more).toBe(103 - bounded.tests.length);
  });
});

/** The first table in an ADF document. */
function tableOf(node: AdfNode): AdfNode | undefined {
  if (node.type === "table") return node;
  for (const child of node.content ?? []) {
    const found = tableOf(child);
    if (found) return found;
  }
  return undefined;
}

function linksIn(node: AdfNode): string[] {
  const own = (node.marks ?? []).flatMap((mark) => (mark.type === "link" ? [String(mark.attrs?.href)] : []));
  return [...own, ...(node.content ?? []).flatMap(linksIn)];
}

function textOf(node: AdfNode): string {
  return (node.text ?? "") + (node.content ?? []).map(textOf).join("");
}

describe("verdictMarkdown", () => {
  it("opens with the outcome in bold, then the table of tests", () => {
    const verdict = decideVerdict(
      [
        run([
          test({ shortId: "t2", name: "Login" }),
          test({
            name: "Checkout",
            result: "FAILED",
            resultTitle: "Pay does nothing",
            evaluationThought: "The cart stayed.",
            url: "https://app.qa.tech/p/shop/results/test/t1",
          }),
        ]),
      ],
      runUrl,
    );

    expect(verdictMarkdown(verdict)).toBe(
      [
        "**Failed**",
        "",
        "| Test | Result | Details |",
        "| --- | --- | --- |",
        "| Checkout | failed | Pay does nothing — The cart stayed\\. — [recording](https://app.qa.tech/p/shop/results/test/t1) |",
        "| Login | passed |  |",
      ].join("\n"),
    );
  });

  it.each<[string, Verdict, string]>([
    ["passed", { outcome: "passed", source: "runs", tests: [], more: 0, runUrls: [] }, "**Passed**"],
    [
      "could not verify, with the reason",
      unverifiedVerdict("the runs could not be read (403)"),
      "**Could not verify**: the runs could not be read \\(403\\)",
    ],
    [
      "the assistant's failed",
      { outcome: "failed", source: "assistant", tests: [], more: 0, runUrls: [] },
      "**Failed** (as reported by the assistant)",
    ],
    [
      "the assistant's could not verify",
      verdictFromReply({ status: "COMPLETED", text: "Verdict: could not verify" }),
      "**Could not verify** (as reported by the assistant)",
    ],
  ])("%s", (_, verdict, markdown) => {
    expect(verdictMarkdown(verdict)).toBe(markdown);
  });

  it("says how many rows were left out, with links to the runs", () => {
    const row: VerdictTest = { name: "Login", result: "passed" };
    const one = { outcome: "passed" as const, source: "runs" as const, tests: [row], more: 7 };

    expect(
      verdictMarkdown({ ...one, runUrls: [`${RESULTS}/r1`] })
        .split("\n")
        .at(-1),
    ).toBe(`and 7 more: see [the run](${RESULTS}/r1) in QA.tech`);
    expect(
      verdictMarkdown({ ...one, runUrls: [`${RESULTS}/r1`, `${RESULTS}/r2`] })
        .split("\n")
        .at(-1),
    ).toBe(`and 7 more: see the runs in QA.tech ([run 1](${RESULTS}/r1), [run 2](${RESULTS}/r2))`);
    expect(
      verdictMarkdown({ ...one, runUrls: ["javascript:alert(1)"] })
        .split("\n")
        .at(-1),
    ).toBe("and 7 more");
  });

  it("keeps every untrusted name, title and thought in its own cell, as text", () => {
    fc.assert(
      fc.property(verdicts, (verdict) => {
        const markdown = verdictMarkdown(verdict);
        // The link filter untrusted markdown goes through (safe-links.ts) finds nothing to rewrite in it.
        expect(stripUnsafeLinks(markdown)).toBe(markdown);
        const lines = markdown.split("\n");
        const table = lines.filter((line) => line.startsWith("|"));
        expect(table).toHaveLength(verdict.tests.length === 0 ? 0 : verdict.tests.length + 2);
        expect(lines[0]).toMatch(/^\*\*(Passed|Failed|Could not verify)\*\*/);

        const adf = markdownToAdf(markdown);
        const node = tableOf(adf);
        if (verdict.tests.length === 0) {
          expect(node).toBeUndefined();
          return;
        }
        expect(node?.content).toHaveLength(verdict.tests.length + 1);
        for (const tableRow of node?.content ?? []) expect(tableRow.content).toHaveLength(3);
        const cells = (node?.content ?? []).slice(1).map((r) => (r.content ?? []).map(textOf));
        cells.forEach(([name, result], i) => {
          expect(result).toBe(verdict.tests[i].result);
          const expected = escapeMarkdownText(verdict.tests[i].name).replace(/\\(.)/g, "$1");
          expect(name).toBe(expected || "-");
        });
        const plain = (url: string | undefined) =>
          url !== undefined && /^https:\/\/[^\s\p{Cc}\p{Cs}<>()[\]"'`|\\@]+$/iu.test(url);
        const allowed = new Set([...verdict.tests.map((row) => row.url), ...verdict.runUrls].filter(plain));
        for (const href of linksIn(adf)) expect(allowed).toContain(href);
      }),
      { numRuns: 150 },
    );
  });
});
