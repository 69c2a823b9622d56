/**
 * The runs part of the fake QA.tech API: test runs, their test cases and reruns, as QA.tech's API reference
 * publishes them (https://docs.qa.tech/api-reference, pages "Get run", "Get run test case", "Rerun Tests").
 * Runs progress by reads, not by time (like a reply's pollsUntilFinal), so a test sees the same on any machine.
 */
import type { Reply } from "./server";

/** A run's status as QA.tech's run API reports it ("Get run"). */
export type FakeRunStatus = "INITIATED" | "RUNNING" | "COMPLETED" | "ERROR" | "CANCELLED";

/** How one test of a planned run ends. */
export interface TestPlan {
  name: string;
  result: "PASSED" | "FAILED" | "SKIPPED";
  /**
   * For a FAILED test: `TEST_FAILED` (the default) is a product failure; `AGENT_...`/`PLATFORM_...` mean
   * QA.tech could not execute the test cleanly ("Get run test case"). Never shown for other results.
   */
  errorCode?: string;
  resultTitle?: string;
  evaluationThought?: string;
  /**
   * The test's own final status; default COMPLETED in a COMPLETED run, else the run's status with no result
   * (a test cut short by the run's error or cancellation).
   */
  status?: "COMPLETED" | "ERROR" | "CANCELLED";
}

/** A run to create: its tests, how it ends, how many reads it takes to end, and its project. */
export interface RunPlan {
  tests: TestPlan[];
  /** The run's final status; default COMPLETED. */
  status?: "COMPLETED" | "ERROR" | "CANCELLED";
  /** GETs of the run that still show it INITIATED (the first) or RUNNING (the later ones); default 0. */
  readsUntilFinal?: number;
  /** The project's short id; default the fake's project (or the conversation's, for a reply's runs). */
  project?: string;
}

/** A test case of a run as the fake keeps it. */
export interface FakeRunTestCase {
  shortId: string;
  projectTestCaseId: string;
  name: string;
  status: FakeRunStatus;
  result: "PASSED" | "FAILED" | "SKIPPED" | null;
  errorCode: string | null;
  url: string;
}

/** What `runs()` shows of a run. */
export interface FakeRun {
  shortId: string;
  project: string;
  url: string;
  status: FakeRunStatus;
  result: "PASSED" | "FAILED" | "SKIPPED" | null;
  tests: FakeRunTestCase[];
  /** The run this one reran. */
  rerunOf?: string;
}

/** What addRun returns: where the run's (and its tests') result pages are. */
export interface AddedRun {
  shortId: string;
  url: string;
  tests: Array<{ shortId: string; name: string; url: string }>;
}

interface StoredTest {
  shortId: string;
  projectTestCaseId: string;
  plan: TestPlan;
}

interface StoredRun {
  id: string;
  shortId: string;
  project: string;
  plan: RunPlan;
  reads: number;
  tests: StoredTest[];
  rerunOf?: string;
}

export interface RunStoreOptions {
  /** The project of runs whose plan names none. */
  defaultProject: string;
  /** Decides how a rerun's tests end; default: they all pass ("the fix worked"). */
  rerunPlan?: (original: FakeRun, failedOnly: boolean) => RunPlan;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function error(status: number, message: string): Reply {
  return { status, body: { message } };
}

/** The result page of a run, in the form QA.tech's app uses. */
export function runUrl(project: string, runShortId: string): string {
  return `https://app.qa.tech/p/${project}/results/${runShortId}`;
}

/** The result page of one test's execution. */
export function runTestCaseUrl(project: string, testShortId: string): string {
  return `https://app.qa.tech/p/${project}/results/test/${testShortId}`;
}

/** The fake's runs: created by tests (addRun), by replies that link runs, and by reruns. */
export class RunStore {
  private readonly runs = new Map<string, StoredRun>();
  private readonly testCases = new Map<string, { run: StoredRun; test: StoredTest }>();
  private readonly projectTestCaseIds = new Map<string, string>();
  private testCount = 0;

  constructor(private readonly options: RunStoreOptions) {}

  /** Creates a run from a plan. */
  add(plan: RunPlan, rerunOf?: string): AddedRun {
    const project = plan.project ?? this.options.defaultProject;
    const n = this.runs.size + 1;
    const run: StoredRun = {
      id: uuid(0xa000_0000 + n),
      shortId: `run_${n}`,
      project,
      plan,
      reads: 0,
      tests: [],
      rerunOf,
    };
    for (const test of plan.tests) {
      const shortId = `rtc_${++this.testCount}`;
      // A project's test case keeps its id across runs (a rerun names it by projectTestCaseIds).
      const key = `${project}\n${test.name}`;
      let projectTestCaseId = this.projectTestCaseIds.get(key);
      if (!projectTestCaseId) {
        projectTestCaseId = uuid(0xb000_0000 + this.projectTestCaseIds.size + 1);
        this.projectTestCaseIds.set(key, projectTestCaseId);
      }
      const stored = { shortId, projectTestCaseId, plan: test };
      run.tests.push(stored);
      this.testCases.set(shortId, { run, test: stored });
    }
    this.runs.set(run.shortId, run);
    return {
      shortId: run.shortId,
      url: runUrl(project, run.shortId),
      tests: run.tests.map((t) => ({
        shortId: t.shortId,
        name: t.plan.name,
        url: runTestCaseUrl(project, t.shortId),
      })),
    };
  }

  /** Snapshot of every run, as it stands (reading it does not advance it). */
  snapshot(): FakeRun[] {
    return [...this.runs.values()].map((run) => this.show(run));
  }

  private show(run: StoredRun): FakeRun {
    const { status, result } = runState(run);
    return {
      shortId: run.shortId,
      project: run.project,
      url: runUrl(run.project, run.shortId),
      status,
      result,
      tests: run.tests.map((test) => {
        const state = testState(run, test);
        return {
          shortId: test.shortId,
          projectTestCaseId: test.projectTestCaseId,
          name: test.plan.name,
          ...state,
          errorCode: errorCodeOf(state.result, test.plan),
          url: runTestCaseUrl(run.project, test.shortId),
        };
      }),
      ...(run.rerunOf ? { rerunOf: run.rerunOf } : {}),
    };
  }

  /**
   * Routes a runs request, or returns undefined when the path is not one of the runs API's. Validates at
   * once and returns the state change as a closure, as the chat routes do (an afterCommit fault runs it).
   * `ownProject` is the project of a project-scoped key (undefined for an organisation key).
   */
  route(
    method: string,
    path: string,
    query: URLSearchParams,
    body: unknown,
    access: {
      readable: boolean;
      ownProject?: string;
      projectRefusal: (body: Record<string, unknown>) => Reply | undefined;
    },
  ): (() => Reply) | undefined {
    const runId = /^\/v1\/run\/([^/]+)$/.exec(path)?.[1];
    const testId = /^\/v1\/run-test-case\/([^/]+)$/.exec(path)?.[1];
    if (runId === undefined && testId === undefined) return undefined;
    // A key that may not read runs (runsAccess "none"): the reference documents 401 for every runs call.
    if (!access.readable) return () => error(401, "This API key may not access test runs");
    // Another project's run is not found for a project-scoped key: it may not learn that it exists.
    const visible = (run: StoredRun | undefined) =>
      run && (access.ownProject === undefined || run.project === access.ownProject) ? run : undefined;

    if (testId !== undefined) {
      if (method !== "GET") return () => error(404, `Not found: ${method} ${path}`);
      const found = this.testCases.get(decodeURIComponent(testId));
      if (!found || !visible(found.run)) return () => error(404, "Run test case not found");
      return () => ({ status: 200, body: this.testCaseDetail(found.run, found.test) });
    }

    const shortId = decodeURIComponent(runId ?? "");
    if (method === "GET") {
      const testCases = query.get("testCases");
      if (testCases !== null && testCases !== "all" && testCases !== "failed")
        return () => error(400, 'testCases must be "all" or "failed"');
      const run = visible(this.runs.get(shortId));
      if (!run) return () => error(404, "Run not found");
      return () => {
        run.reads += 1;
        return { status: 200, body: this.runBody(run, testCases) };
      };
    }
    if (method === "POST") return this.rerun(shortId, body, access, visible);
    return () => error(404, `Not found: ${method} ${path}`);
  }

  // "Rerun Tests": body {} (all), { failedOnly: true } or { projectTestCaseIds: [uuid...] }, not both; and
  // projectShortId, required of organisation keys like every POST's.
  private rerun(
    shortId: string,
    body: unknown,
    access: { projectRefusal: (body: Record<string, unknown>) => Reply | undefined },
    visible: (run: StoredRun | undefined) => StoredRun | undefined,
  ): () => Reply {
    if (typeof body !== "object" || body === null || Array.isArray(body))
      return () => error(400, "Request body must be a JSON object");
    const input = body as Record<string, unknown>;
    if (input.failedOnly !== undefined && typeof input.failedOnly !== "boolean")
      return () => error(400, "failedOnly must be a boolean");
    const ids = input.projectTestCaseIds;
    if (
      ids !== undefined &&
      (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => UUID.test(String(id))))
    )
      return () => error(400, "projectTestCaseIds must be a non-empty array of UUIDs");
    if (input.failedOnly === true && ids !== undefined)
      return () => error(400, "failedOnly cannot be combined with projectTestCaseIds");
    const refused = access.projectRefusal(input);
    if (refused) return () => refused;
    const run = visible(this.runs.get(shortId));
    // An organisation key names the project: a run of another project is not found in it either.
    if (!run || (typeof input.projectShortId === "string" && input.projectShortId !== run.project))
      return () => error(404, "Run not found");
    const failedOnly = input.failedOnly === true;
    let chosen = run.tests;
    if (failedOnly) chosen = run.tests.filter((t) => testState(run, t).result === "FAILED");
    if (Array.isArray(ids)) {
      chosen = run.tests.filter((t) => ids.includes(t.projectTestCaseId));
      if (chosen.length !== new Set(ids).size)
        return () => error(400, "projectTestCaseIds names test cases that are not in this run");
    }
    if (chosen.length === 0) return () => error(400, "The run has no failed tests to rerun");
    return () => {
      const original = this.show(run);
      const chosenNames = new Set(chosen.map((t) => t.plan.name));
      const planned = this.options.rerunPlan?.(
        { ...original, tests: original.tests.filter((t) => chosenNames.has(t.name)) },
        failedOnly,
      ) ?? {
        tests: chosen.map((t) => ({ name: t.plan.name, result: "PASSED" as const })),
        readsUntilFinal: run.plan.readsUntilFinal,
      };
      const added = this.add({ ...planned, project: run.project }, run.shortId);
      return {
        status: 200,
        body: {
          success: true,
          run: {
            id: this.runs.get(added.shortId)?.id,
            shortId: added.shortId,
            url: added.url,
            testCount: planned.tests.length,
          },
        },
      };
    };
  }

  private runBody(run: StoredRun, testCases: string | null) {
    const { status, result } = runState(run);
    const listed =
      testCases === null
        ? []
        : run.tests.filter((t) => testCases === "all" || testState(run, t).result === "FAILED");
    return {
      id: run.id,
      shortId: run.shortId,
      status,
      result,
      runTestCases: listed.map((test) => this.testCaseSummary(run, test)),
    };
  }

  private testCaseSummary(run: StoredRun, test: StoredTest) {
    const state = testState(run, test);
    const ended = state.status !== "INITIATED" && state.status !== "RUNNING";
    return {
      shortId: test.shortId,
      name: test.plan.name,
      ...state,
      resultTitle: ended ? (test.plan.resultTitle ?? defaultTitle(state.result)) : null,
      evaluationThought: ended ? (test.plan.evaluationThought ?? null) : null,
      promptGoal: `Check: ${test.plan.name}`,
      promptExamples: null,
    };
  }

  private testCaseDetail(run: StoredRun, test: StoredTest) {
    const summary = this.testCaseSummary(run, test);
    return {
      ...summary,
      errorCode: errorCodeOf(summary.result, test.plan),
      classification: null,
      runShortId: run.shortId,
      projectTestCaseId: test.projectTestCaseId,
      durationMs: summary.result === null ? null : 42_000,
      url: runTestCaseUrl(run.project, test.shortId),
      screenshotUrl: null,
      recordingUrl: null,
    };
  }
}

/** INITIATED or RUNNING while the run still has reads to go, undefined once it is final. */
function pendingStatus(run: StoredRun): "INITIATED" | "RUNNING" | undefined {
  const until = run.plan.readsUntilFinal ?? 0;
  if (until <= 0 || run.reads > until) return undefined;
  return run.reads <= 1 ? "INITIATED" : "RUNNING";
}

/** A run's state after `reads` GETs: INITIATED on the first, RUNNING until readsUntilFinal, then final. */
function runState(run: StoredRun): { status: FakeRunStatus; result: FakeRun["result"] } {
  const pending = pendingStatus(run);
  if (pending) return { status: pending, result: null };
  const status = run.plan.status ?? "COMPLETED";
  if (status !== "COMPLETED") return { status, result: null };
  const results = run.tests.map((t) => testState(run, t).result);
  const result = results.includes("FAILED") ? "FAILED" : results.includes("PASSED") ? "PASSED" : "SKIPPED";
  return { status, result };
}

function testState(run: StoredRun, test: StoredTest): { status: FakeRunStatus; result: FakeRun["result"] } {
  const pending = pendingStatus(run);
  if (pending) return { status: pending, result: null };
  const runStatus = run.plan.status ?? "COMPLETED";
  const status = test.plan.status ?? (runStatus === "COMPLETED" ? "COMPLETED" : runStatus);
  return status === "COMPLETED" ? { status, result: test.plan.result } : { status, result: null };
}

function errorCodeOf(result: FakeRun["result"], plan: TestPlan): string | null {
  return result === "FAILED" ? (plan.errorCode ?? "TEST_FAILED") : null;
}

function defaultTitle(result: FakeRun["result"]): string | null {
  if (result === "PASSED") return "All checks passed";
  if (result === "FAILED") return "A check failed";
  return null;
}

/** A stable, valid UUID (version 4 form) from a counter, so runs repeat from test to test. */
function uuid(n: number): string {
  const hex = n.toString(16).padStart(12, "0");
  return `00000000-0000-4000-8000-${hex}`;
}
