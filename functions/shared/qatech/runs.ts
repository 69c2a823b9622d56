/**
 * QA.tech's runs API: the test runs a conversation started, their test cases, and reruns. Published in
 * QA.tech's API reference:
 * - Get run: https://docs.qa.tech/api-reference (GET /v1/run/{shortId}?testCases=all|failed)
 * - Get run test case: https://docs.qa.tech/api-reference (GET /v1/run-test-case/{shortId})
 * - Rerun Tests: https://docs.qa.tech/api-reference (POST /v1/run/{shortId})
 *
 * Everything QA.tech answers is untrusted: ids must have a conservative form, texts are sanitised and cut to
 * their budgets, links must be https and bounded, and a status or result the reference does not list is
 * refused by name rather than guessed at.
 */
import * as z from "zod/mini";
import { capText, jsonBytes, URL_MAX_BYTES } from "../domain/limits";
import type { RunRead, RunResult, RunStatus, RunTestRead } from "../domain/verdict";
import { PermanentError } from "../platform/errors";
import { requestJson } from "../platform/http";
import { emitMetric, METRIC } from "../platform/metrics";
import { registerSecret } from "../platform/redact";

/** Budgets of QA.tech's texts, in bytes of their JSON encoding (see domain/limits.ts). */
export const RUN_TEXT_MAX_BYTES = {
  name: 200,
  resultTitle: 500,
  evaluationThought: 2 * 1024,
} as const;

/** Failed tests whose details (errorCode, url) one readRun looks up, at most. */
export const RUN_DETAILS_MAX = 20;

/** Requests to QA.tech one readRun keeps in flight at once. */
const DETAIL_CONCURRENCY = 4;

/**
 * A run's or run test case's short id as we accept it from QA.tech: letters, digits, `_` and `-`, at most 64,
 * the form domain/verdict.ts accepts in a reply's result links, so what one takes the other does too.
 */
export const RUN_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** An error code: upper-case letters, digits and `_` (`TEST_FAILED`, `AGENT_...`, `PLATFORM_...`). */
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,99}$/;

const STATUSES: readonly RunStatus[] = ["INITIATED", "RUNNING", "COMPLETED", "ERROR", "CANCELLED"];
const RESULTS: readonly Exclude<RunResult, null>[] = ["PASSED", "FAILED", "SKIPPED"];

/** A final status: the run (or test) will not change any more. */
export function isFinalStatus(status: RunStatus): boolean {
  return status === "COMPLETED" || status === "ERROR" || status === "CANCELLED";
}

/**
 * The runs cannot be read with this key: QA.tech answered 401, 403 or 404 to a read. Either the key may not
 * read runs (whether an organisation key may is not documented), or the run does not exist (for this key).
 * Permanent: the verdict becomes "could not verify", with this message as the reason.
 */
export class RunsUnreadableError extends PermanentError {
  override name = "RunsUnreadableError";
}

export interface QaTechRunsOptions {
  apiUrl: string;
  apiKey: string;
  /** The project a rerun names (required of organisation-scoped keys, like every POST's). */
  projectShortId?: string;
  timeoutMs?: number;
  /** A Retry-After up to this many seconds is waited out inside the call; default 10 (see requestJson). */
  maxInlineRetryAfterSeconds?: number;
  /** How a Retry-After is waited out (see requestJson); tests pass one that records the delay. */
  sleep?: (ms: number) => Promise<void>;
}

/** What a rerun started: the new run, its result page and how many tests it runs. */
export interface RerunStarted {
  shortId: string;
  url: string;
  testCount: number;
}

/** An https URL of bounded size; anything else is no link at all. */
function httpsUrl(value: unknown): string | undefined {
  if (typeof value !== "string" || jsonBytes(value) > URL_MAX_BYTES) return undefined;
  try {
    return new URL(value).protocol === "https:" ? value : undefined;
  } catch {
    return undefined;
  }
}

const id = z.string().check(z.regex(RUN_ID));
/** A text QA.tech may leave out or null. */
const text = z.nullish(z.string());
/** Strings first, checked against the reference's list after parsing, so an unknown value is named. */
const status = z.string().check(z.maxLength(100));
const result = z.nullable(z.string().check(z.maxLength(100)));

const testCaseSummary = z.object({
  shortId: id,
  name: z.string(),
  status,
  result,
  resultTitle: text,
  evaluationThought: text,
});

const runBody = z.object({
  id: z.optional(id),
  shortId: id,
  status,
  result,
  runTestCases: z.array(testCaseSummary),
});

const testCaseBody = z.extend(testCaseSummary, {
  errorCode: z.nullish(z.string().check(z.regex(ERROR_CODE))),
  runShortId: id,
  url: z.optional(z.unknown()),
});

const rerunBody = z.object({
  success: z.literal(true),
  run: z.object({
    id: z.optional(id),
    shortId: id,
    url: z.string(),
    testCount: z.number().check(z.int(), z.nonnegative()),
  }),
});

/** A status the reference lists, or a PermanentError naming the one QA.tech sent. */
function checkStatus(value: string, where: string): RunStatus {
  if ((STATUSES as readonly string[]).includes(value)) return value as RunStatus;
  throw new PermanentError(
    `QA.tech answered ${where} with an unknown status ${JSON.stringify(capText(value, 40, "…"))}`,
  );
}

function checkResult(value: string | null | undefined, where: string): RunResult {
  if (value === null || value === undefined) return null;
  if ((RESULTS as readonly string[]).includes(value)) return value as RunResult;
  throw new PermanentError(
    `QA.tech answered ${where} with an unknown result ${JSON.stringify(capText(value, 40, "…"))}`,
  );
}

/** An untrusted text, sanitised and cut to its budget; absent when QA.tech gave none. */
function bounded(value: string | null | undefined, maxBytes: number): string | undefined {
  return value ? capText(value, maxBytes, "…") : undefined;
}

/** Parses a 2xx body against its schema: a body of another shape is a PermanentError saying where. */
function parse<T>(schema: z.ZodMiniType<T>, body: unknown, where: string): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const at = issue?.path.length ? issue.path.join(".") : "the body";
  // Not retried: a body of the wrong shape does not become right by asking again.
  throw new PermanentError(
    `QA.tech answered ${where} with a body we do not accept (${at}: ${issue?.message ?? "invalid"})`,
  );
}

function testRead(test: z.infer<typeof testCaseSummary>, where: string): RunTestRead {
  const read: RunTestRead = {
    shortId: test.shortId,
    name: capText(test.name, RUN_TEXT_MAX_BYTES.name, "…"),
    status: checkStatus(test.status, where),
    result: checkResult(test.result, where),
  };
  const title = bounded(test.resultTitle, RUN_TEXT_MAX_BYTES.resultTitle);
  if (title) read.resultTitle = title;
  const thought = bounded(test.evaluationThought, RUN_TEXT_MAX_BYTES.evaluationThought);
  if (thought) read.evaluationThought = thought;
  return read;
}

/** Runs `work` over `items`, at most `limit` at a time, keeping the order of `items`. */
async function mapLimited<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** A short id that has the form of QA.tech's but names no run: what probeAccess asks for. */
const PROBE_RUN_ID = "qa-ticket-access-probe-0000";

/** A small client for QA.tech's runs API, built like QaTechClient (client.ts). */
export class QaTechRuns {
  private readonly base: string;

  constructor(private readonly options: QaTechRunsOptions) {
    this.base = options.apiUrl.replace(/\/+$/, "");
    registerSecret(options.apiKey);
  }

  private request(path: string, json?: unknown) {
    return requestJson<unknown>(`${this.base}${path}`, {
      peer: "QA.tech",
      json,
      timeoutMs: this.options.timeoutMs,
      maxInlineRetryAfterSeconds: this.options.maxInlineRetryAfterSeconds,
      sleep: this.options.sleep,
      headers: { authorization: `Bearer ${this.options.apiKey}` },
    });
  }

  /**
   * A read: 401/403/404 become RunsUnreadableError. They are not counted as a refused key (the alarm's
   * metric): a key that may chat but not read runs still works for everything else.
   */
  private async read(path: string, what: string): Promise<unknown> {
    try {
      return (await this.request(path)).body;
    } catch (error) {
      if (error instanceof PermanentError && [401, 403, 404].includes(error.status ?? 0)) {
        const why =
          error.status === 404
            ? "the run does not exist, or this key may not see it"
            : "this API key may not read test runs";
        throw new RunsUnreadableError(`QA.tech answered ${error.status} to a read of ${what}: ${why}`, {
          status: error.status,
          cause: error,
        });
      }
      throw error;
    }
  }

  private checkId(shortId: string, what: string): string {
    if (!RUN_ID.test(shortId))
      throw new PermanentError(`Not a QA.tech ${what} id: ${JSON.stringify(capText(shortId, 40, "…"))}`);
    return encodeURIComponent(shortId);
  }

  /** A run with all its test cases (GET /v1/run/{shortId}?testCases=all), without errorCode and url. */
  async getRun(shortId: string): Promise<RunRead> {
    const path = `/v1/run/${this.checkId(shortId, "run")}`;
    const where = `GET ${path}`;
    const body = parse(runBody, await this.read(`${path}?testCases=all`, `run ${shortId}`), where);
    if (body.shortId !== shortId)
      throw new PermanentError(`QA.tech answered ${where} with another run (${body.shortId})`);
    return {
      shortId: body.shortId,
      status: checkStatus(body.status, where),
      result: checkResult(body.result, where),
      tests: body.runTestCases.map((test) => testRead(test, where)),
    };
  }

  /** One test's execution (GET /v1/run-test-case/{shortId}): adds errorCode and the durable link `url`. */
  async getRunTestCase(shortId: string): Promise<RunTestRead & { runShortId: string }> {
    const path = `/v1/run-test-case/${this.checkId(shortId, "run test case")}`;
    const where = `GET ${path}`;
    const body = parse(testCaseBody, await this.read(path, `run test case ${shortId}`), where);
    if (body.shortId !== shortId)
      throw new PermanentError(`QA.tech answered ${where} with another test case (${body.shortId})`);
    const read: RunTestRead & { runShortId: string } = {
      ...testRead(body, where),
      runShortId: body.runShortId,
    };
    if (body.errorCode) read.errorCode = body.errorCode;
    const url = httpsUrl(body.url);
    if (url) read.url = url;
    return read;
  }

  /**
   * The run as a verdict needs it: getRun, then, once the run is final, getRunTestCase for each FAILED test
   * (the first RUN_DETAILS_MAX), to learn its errorCode (a product failure or not) and its link. A run not
   * yet final is returned as getRun read it: it will be read again.
   */
  async readRun(shortId: string): Promise<RunRead> {
    const run = await this.getRun(shortId);
    if (!isFinalStatus(run.status)) return run;
    const failed = run.tests.filter((test) => test.result === "FAILED").slice(0, RUN_DETAILS_MAX);
    const details = await mapLimited(failed, DETAIL_CONCURRENCY, (test) => this.getRunTestCase(test.shortId));
    const byId = new Map(details.map((detail) => [detail.shortId, detail]));
    return {
      ...run,
      tests: run.tests.map((test) => {
        const detail = byId.get(test.shortId);
        if (!detail) return test;
        const merged: RunTestRead = { ...test };
        if (detail.errorCode) merged.errorCode = detail.errorCode;
        if (detail.url) merged.url = detail.url;
        return merged;
      }),
    };
  }

  /**
   * Reruns a run's tests (POST /v1/run/{shortId}): the failed ones with `failedOnly`, else all; names the
   * project when the client has one, as organisation-scoped keys require. A refusal stays a PermanentError
   * (401/402/403 counted as a refused key, as QaTechClient counts them).
   */
  async rerun(
    shortId: string,
    options: { failedOnly: boolean; projectShortId?: string },
  ): Promise<RerunStarted> {
    const path = `/v1/run/${this.checkId(shortId, "run")}`;
    const body: Record<string, unknown> = options.failedOnly ? { failedOnly: true } : {};
    // The conversation's own project (a route's, from the signed marker) where given, else the client's.
    const projectShortId = options.projectShortId ?? this.options.projectShortId;
    if (projectShortId) body.projectShortId = projectShortId;
    let answered: unknown;
    try {
      answered = (await this.request(path, body)).body;
    } catch (error) {
      if (error instanceof PermanentError && [401, 402, 403].includes(error.status ?? 0))
        emitMetric(METRIC.qatechRefused, 1, { metadata: { status: String(error.status) } });
      throw error;
    }
    const { run } = parse(rerunBody, answered, `POST ${path}`);
    const url = httpsUrl(run.url);
    if (!url) throw new PermanentError(`QA.tech answered POST ${path} without an https link to the new run`);
    return { shortId: run.shortId, url, testCount: run.testCount };
  }

  /**
   * Whether this key may read runs, without knowing a run (for setup and doctor). It reads a run id of a valid
   * form that names no run: QA.tech checks the key before it looks the run up, so 404 means the key got past
   * authentication and authorisation for runs (readable), 401/403 that it did not (not readable); a 200 would
   * also be readable. Anything else (5xx, network, another 4xx) says nothing about the key and is thrown.
   * Optimistic at worst: were QA.tech to answer 404 for runs a key may not see, the probe says readable and
   * the verdict's own read ends in RunsUnreadableError ("could not verify"), never in a wrong verdict.
   */
  async probeAccess(): Promise<{ readable: boolean; detail: string }> {
    try {
      await this.read(`/v1/run/${PROBE_RUN_ID}`, "a probe run");
      return { readable: true, detail: "QA.tech let this key read test runs" };
    } catch (error) {
      if (!(error instanceof RunsUnreadableError)) throw error;
      if (error.status === 404)
        return {
          readable: true,
          detail: "QA.tech let this key look up test runs (404 for a run that does not exist)",
        };
      return {
        readable: false,
        detail: `QA.tech answered ${error.status} to a read of test runs: this key may not read them`,
      };
    }
  }
}
