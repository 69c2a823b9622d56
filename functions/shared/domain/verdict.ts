/**
 * Verdicts: whether the change a ticket asked about works, from the test results QA.tech publishes.
 * Pure rules (no I/O): which result links of a reply count, what a set of runs says, what the assistant's
 * own verdict line says, and how a verdict reads on a ticket. QA.tech's API reference for runs:
 * https://docs.qa.tech/api-reference (Get run, Get run test case, Rerun Tests).
 */

import { capText, jsonBytes, longestFitting, sanitizeText, URL_MAX_BYTES } from "./limits";
import { isSafeUrl } from "./safe-links";

/** What a labelled ticket ends as: the change works, it does not, or QA.tech could not tell. */
export type VerdictOutcome = "passed" | "failed" | "unverified";

/**
 * Where a verdict comes from: the runs QA.tech published ("runs"), or only the assistant's own verdict line
 * ("assistant", said on the ticket as "as reported by the assistant"), or neither ("none").
 */
export type VerdictSource = "runs" | "assistant" | "none";

/** A run's status as QA.tech's run API reports it. */
export type RunStatus = "INITIATED" | "RUNNING" | "COMPLETED" | "ERROR" | "CANCELLED";

/** A run's or a test's result once COMPLETED; null before, or when QA.tech gives none. */
export type RunResult = "PASSED" | "FAILED" | "SKIPPED" | null;

/** One test case's execution in a run, as read (all text untrusted, bounded by the reader). */
export interface RunTestRead {
  shortId: string;
  name: string;
  status: RunStatus;
  result: RunResult;
  /** Short summary of the outcome. */
  resultTitle?: string;
  /** The evaluator's reasoning. */
  evaluationThought?: string;
  /** From GET /v1/run-test-case: `TEST_FAILED` is a product failure; `AGENT_...`/`PLATFORM_...` are not. */
  errorCode?: string;
  /** Durable deep link to the recording and trace. */
  url?: string;
}

/** A run as read with its test cases. */
export interface RunRead {
  shortId: string;
  status: RunStatus;
  result: RunResult;
  tests: RunTestRead[];
}

/** The result pages a reply links, on the conversation's own app host and project only. */
export interface ResultLinks {
  /** Run short ids (`/p/<slug>/results/<runShortId>`), first seen first, without duplicates. */
  runs: string[];
  /** Run test case short ids (`/p/<slug>/results/test/<shortId>`), first seen first, without duplicates. */
  tests: string[];
}

/** One row of a verdict's table. */
export interface VerdictTest {
  name: string;
  result: "passed" | "failed" | "skipped" | "not run" | "could not run";
  /** For failures: QA.tech's resultTitle and a short evaluationThought. */
  title?: string;
  thought?: string;
  /** The test's recording (`url` of the run test case), when it is a safe https link. */
  url?: string;
}

/** What a ticket is told: the outcome, why, the tests behind it, and where to read the runs. */
export interface Verdict {
  outcome: VerdictOutcome;
  source: VerdictSource;
  /** Why QA.tech could not verify (outcome "unverified"), in a sentence a ticket's reader understands. */
  reason?: string;
  /** The table's rows, at most the verdict's budget; `more` counts the rows left out. */
  tests: VerdictTest[];
  more: number;
  /** The runs' result pages in QA.tech, for "read it all there". */
  runUrls: string[];
}

// ---------------------------------------------------------------------------------------------------------
// Which result links of a reply count

/** At most this many runs, and this many run test cases, are read for one reply. */
export const MAX_LINKED_RUNS = 5;
export const MAX_LINKED_TESTS = 50;

/** A run's or run test case's short id as we accept it: a conservative charset, so it is safe in a path. */
const SHORT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const HOST = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
const CONVERSATION_URL =
  /^https:\/\/([^/?#\\@:]+)\/p\/([A-Za-z0-9_-]{1,64})\/chat\/([A-Za-z0-9_-]{1,64})\/?(?:[?#].*)?$/is;

/**
 * The app's origin and the project's slug of a conversation url as QA.tech's Chat API gives it
 * (`https://app.qa.tech/p/<slug>/chat/<chatId>`): https only, no userinfo, no port; null for anything else.
 */
export function projectSlugOf(conversationUrl: string): { origin: string; slug: string } | null {
  if (typeof conversationUrl !== "string" || conversationUrl.length > 2_048) return null;
  const match = CONVERSATION_URL.exec(conversationUrl);
  if (!match) return null;
  const host = match[1].toLowerCase();
  if (!HOST.test(host)) return null;
  return { origin: `https://${host}`, slug: match[2] };
}

// A link starts where a markdown link, an autolink, emphasis, a table cell or a blank may open it, so
// text glued before it ("evilhttps://...") is not read as one; it ends at what neither a bare url nor a
// markdown destination takes.
const LINK_CANDIDATE = /(?<=^|[\s(<[*_~"'>|`])https?:\/\/[^\s<>()[\]"'`|\\]+/gi;
const TRAILING_PUNCTUATION = /[.,;:!?*~'"]+$/;

/**
 * The runs (`<origin>/p/<slug>/results/<runShortId>`) and run test cases
 * (`<origin>/p/<slug>/results/test/<shortId>`) a reply links, on the conversation's own app origin and
 * project only: a link to another host or project, with userinfo or a port, over http, with `..` or
 * percent-encoding in its path, is ignored. First seen first, without duplicates, at most
 * MAX_LINKED_RUNS runs and MAX_LINKED_TESTS tests. Never throws.
 */
export function resultLinks(replyMarkdown: string, conversationUrl: string): ResultLinks {
  const links: ResultLinks = { runs: [], tests: [] };
  const project = projectSlugOf(conversationUrl);
  if (!project || typeof replyMarkdown !== "string") return links;
  const prefix = `${project.origin}/p/${project.slug}/results/`;
  for (const [candidate] of replyMarkdown.matchAll(LINK_CANDIDATE)) {
    const link = candidate.replace(TRAILING_PUNCTUATION, "");
    // The scheme and host are case-insensitive; the project's slug and the ids are not.
    const origin = link.slice(0, project.origin.length).toLowerCase();
    if (origin !== project.origin || !link.startsWith(prefix.slice(project.origin.length), origin.length))
      continue;
    const path = /^(test\/)?([A-Za-z0-9_-]{1,64})\/?(?:[?#].*)?$/s.exec(link.slice(prefix.length));
    if (!path) continue;
    const [, test, shortId] = path;
    const into = test ? links.tests : links.runs;
    const cap = test ? MAX_LINKED_TESTS : MAX_LINKED_RUNS;
    // `/results/test` alone is the page's path segment, not a run.
    if (!test && shortId === "test") continue;
    if (into.length < cap && !into.includes(shortId)) into.push(shortId);
    if (links.runs.length >= MAX_LINKED_RUNS && links.tests.length >= MAX_LINKED_TESTS) break;
  }
  return links;
}

// ---------------------------------------------------------------------------------------------------------
// The assistant's own verdict line

/** The line QA.tech's assistant is asked to end its reply with (the README shows it). */
export const VERDICT_LINE_FORMAT = "Verdict: passed|failed|could not verify";

/** Appended to the message sent to QA.tech: link what was run, and end with the verdict line. */
export const VERDICT_INSTRUCTION =
  "In your reply, link the result page in QA.tech of every test run and test case you ran for this " +
  "ticket. End your reply with one line that says whether the change works, in exactly this form: " +
  "`Verdict: passed`, `Verdict: failed` or `Verdict: could not verify`.";

const EMPHASIS = "[*_]{0,3}";
const VERDICT_LINE = new RegExp(
  `^${EMPHASIS}\\s*verdict\\s*${EMPHASIS}\\s*:\\s*${EMPHASIS}\\s*(passed|failed|could\\s+not\\s+verify)` +
    `\\s*${EMPHASIS}\\s*\\.?\\s*${EMPHASIS}\\s*\\.?$`,
  "i",
);

/**
 * The assistant's own verdict: a line `Verdict: passed|failed|could not verify` (any case, optionally in
 * bold or italics, optionally ending with a period); the last such line wins; null when there is none.
 */
export function parseVerdictLine(text: string): "passed" | "failed" | "unverified" | null {
  if (typeof text !== "string") return null;
  let found: "passed" | "failed" | "unverified" | null = null;
  for (const line of text.split(/\r\n?|\n/)) {
    if (line.length > 200) continue;
    const match = VERDICT_LINE.exec(line.trim());
    if (!match) continue;
    const word = match[1].toLowerCase();
    found = word === "passed" ? "passed" : word === "failed" ? "failed" : "unverified";
  }
  return found;
}

// ---------------------------------------------------------------------------------------------------------
// What a set of runs says

const FINAL: ReadonlySet<RunStatus> = new Set(["COMPLETED", "ERROR", "CANCELLED"]);

/** Whether every run and every test read is in a final status (COMPLETED, ERROR or CANCELLED). */
export function runsFinal(runs: RunRead[]): boolean {
  return runs.every((run) => FINAL.has(run.status) && run.tests.every((test) => FINAL.has(test.status)));
}

/** A failure of the agent or of QA.tech's platform, not of the product under test. */
function isInfrastructureCode(errorCode: string | undefined): boolean {
  return typeof errorCode === "string" && /^(?:AGENT|PLATFORM)_/.test(errorCode);
}

/**
 * Whether a test failed because the product did: FAILED with `TEST_FAILED`, or with an error code that is
 * unknown or was not read (which errs on "failed", never on "passed").
 */
function isProductFailure(test: RunTestRead): boolean {
  return test.result === "FAILED" && !isInfrastructureCode(test.errorCode);
}

/** A test's result in words. */
function resultOf(test: RunTestRead): VerdictTest["result"] {
  if (test.result === "PASSED") return "passed";
  if (test.result === "FAILED") return isProductFailure(test) ? "failed" : "could not run";
  if (test.result === "SKIPPED") return "skipped";
  return test.status === "ERROR" ? "could not run" : "not run";
}

/** How much of the evaluator's reasoning a failure's row shows. */
export const THOUGHT_MAX_CHARS = 280;

/** The text cut to `max` characters (code points), with an ellipsis when something was cut. */
function shorten(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max
    ? text
    : `${chars
        .slice(0, max - 1)
        .join("")
        .trimEnd()}…`;
}

/**
 * The link when it is a plain https url: no userinfo, no control character or lone surrogate, nothing a
 * markdown destination or a table cell would end at.
 */
function safeHttpsUrl(url: unknown): string | undefined {
  if (typeof url !== "string" || url.length > 2_048) return undefined;
  if (!/^https:\/\/[^\s\p{Cc}\p{Cs}<>()[\]"'`|\\@]+$/iu.test(url) || !isSafeUrl(url)) return undefined;
  return url;
}

/** How bad a read's result is: a test read more than once counts as its worst read. */
function badness(test: RunTestRead): number {
  return test.result === "FAILED" ? 3 : test.result === "SKIPPED" ? 2 : test.result === "PASSED" ? 0 : 1;
}

/**
 * One test read more than once (in its run and on its own): its worst read, so it passes only when no read
 * says otherwise; the error code that errs on "failed" (a product code before an agent's or the platform's,
 * either before none, which only means it was not read); and of each text the first there is.
 */
function merged(reads: RunTestRead[]): RunTestRead {
  if (reads.length === 1) return reads[0];
  const ordered = [...reads].sort((a, b) => badness(b) - badness(a));
  const { resultTitle, evaluationThought, errorCode, url, ...worst } = ordered[0];
  const codes = ordered.map((read) => read.errorCode).filter((code) => code !== undefined);
  const first = (key: "resultTitle" | "evaluationThought" | "url") =>
    ordered.map((read) => read[key]).find((value) => value !== undefined);
  const out: RunTestRead = { ...worst };
  const code = codes.find((c) => !isInfrastructureCode(c)) ?? codes[0];
  if (code !== undefined) out.errorCode = code;
  for (const key of ["resultTitle", "evaluationThought", "url"] as const) {
    const value = first(key);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** The tests of all runs in the order read, a test read more than once (by its short id) once. */
function testsOf(runs: RunRead[]): RunTestRead[] {
  const groups: RunTestRead[][] = [];
  const byId = new Map<string, RunTestRead[]>();
  for (const run of runs)
    for (const test of run.tests) {
      const group = test.shortId ? byId.get(test.shortId) : undefined;
      if (group) group.push(test);
      else {
        groups.push([test]);
        if (test.shortId) byId.set(test.shortId, groups[groups.length - 1]);
      }
    }
  return groups.map(merged);
}

function count(n: number, one: string, many: string): string {
  return n === 1 ? `1 ${one}` : `${n} ${many}`;
}

/** Why a set of runs neither failed nor passed, in plain words. */
function unverifiedReason(runs: RunRead[], rows: VerdictTest[]): string {
  const reasons: string[] = [];
  if (rows.length === 0) reasons.push("no tests ran");
  const runsWith = (status: RunStatus) => runs.filter((run) => run.status === status).length;
  const errored = runsWith("ERROR");
  const cancelled = runsWith("CANCELLED");
  const unfinished = runs.filter((run) => !FINAL.has(run.status)).length;
  if (errored)
    reasons.push(errored === 1 ? "a run ended with an error" : `${errored} runs ended with an error`);
  if (cancelled) reasons.push(cancelled === 1 ? "a run was cancelled" : `${cancelled} runs were cancelled`);
  if (unfinished)
    reasons.push(unfinished === 1 ? "a run had not finished" : `${unfinished} runs had not finished`);
  const rowsWith = (result: VerdictTest["result"]) => rows.filter((row) => row.result === result).length;
  const couldNotRun = rowsWith("could not run");
  if (couldNotRun)
    reasons.push(
      `${count(couldNotRun, "test", "tests")} could not run (QA.tech's agent or platform failed, not the product)`,
    );
  const skipped = rowsWith("skipped");
  if (skipped) reasons.push(`${count(skipped, "test was", "tests were")} skipped`);
  const notRun = rowsWith("not run");
  if (notRun) reasons.push(`${count(notRun, "test", "tests")} did not run`);
  if (reasons.length === 0 && runs.some((run) => run.result === "FAILED"))
    reasons.push("a run reported a failure that none of its tests shows");
  return reasons.length ? reasons.join("; ") : "the results were not conclusive";
}

/**
 * The verdict of the runs a reply linked, as read (issue 19): any test that FAILED with `TEST_FAILED` or
 * an unknown error code -> failed (a failed product test is never reported as anything else); at least one
 * test, every test PASSED and every run COMPLETED -> passed; anything else -> unverified, with the reason.
 * Rows: failures first, then the others in the order read; only failures carry a title and a short thought.
 * `runUrl` makes a run's result page from its short id (the caller knows the app's origin and project).
 */
export function decideVerdict(runs: RunRead[], runUrl: (shortId: string) => string): Verdict {
  const tests = testsOf(runs);
  const rows = tests.map((test): VerdictTest => {
    const result = resultOf(test);
    const row: VerdictTest = { name: test.name || test.shortId || "(unnamed test)", result };
    if (result === "failed") {
      if (test.resultTitle) row.title = test.resultTitle;
      if (test.evaluationThought) row.thought = shorten(test.evaluationThought, THOUGHT_MAX_CHARS);
    }
    const url = safeHttpsUrl(test.url);
    if (url) row.url = url;
    return row;
  });
  const ordered = [
    ...rows.filter((row) => row.result === "failed"),
    ...rows.filter((row) => row.result !== "failed"),
  ];
  const runUrls = [
    ...new Set(runs.map((run) => run.shortId).filter((id) => typeof id === "string" && SHORT_ID.test(id))),
  ].map(runUrl);
  const verdict = (outcome: VerdictOutcome, reason?: string): Verdict => ({
    outcome,
    source: "runs",
    ...(reason === undefined ? {} : { reason }),
    tests: ordered,
    more: 0,
    runUrls,
  });
  if (tests.some(isProductFailure)) return verdict("failed");
  const passed =
    tests.length > 0 &&
    tests.every((test) => test.result === "PASSED") &&
    runs.every((run) => run.status === "COMPLETED" && run.result !== "FAILED");
  return passed ? verdict("passed") : verdict("unverified", unverifiedReason(runs, rows));
}

/**
 * The verdict when the reply linked no run: a reply that failed or was cancelled could not verify; else the
 * assistant's own verdict line, said on the ticket as the assistant's; without one, could not verify.
 */
export function verdictFromReply(reply: {
  status: "COMPLETED" | "FAILED" | "CANCELLED";
  text: string;
}): Verdict {
  return verdictFromLine(reply.status, parseVerdictLine(reply.text));
}

/**
 * The same, from a verdict line already read: the workflow reads it from the whole reply before the reply is
 * cut to its budget for the state (poll-conversation), and decides later (read-runs).
 */
export function verdictFromLine(
  status: "COMPLETED" | "FAILED" | "CANCELLED",
  outcome: VerdictOutcome | null | undefined,
): Verdict {
  if (status === "FAILED") return unverifiedVerdict("QA.tech's reply failed");
  if (status === "CANCELLED") return unverifiedVerdict("QA.tech's reply was cancelled");
  if (!outcome) return unverifiedVerdict("QA.tech's reply linked no test run and gave no verdict line");
  return {
    outcome,
    source: "assistant",
    ...(outcome === "unverified" ? { reason: "QA.tech's assistant could not verify the change" } : {}),
    tests: [],
    more: 0,
    runUrls: [],
  };
}

/** Could not verify, for a reason the caller knows (the runs could not be read, the deadline passed...). */
export function unverifiedVerdict(reason: string): Verdict {
  return { outcome: "unverified", source: "none", reason, tests: [], more: 0, runUrls: [] };
}

/** Could not verify because QA.tech's results could not be read (refused, or an outage past the retries). */
export function unreadableVerdict(detail: string): Verdict {
  return unverifiedVerdict(`QA.tech's test results could not be read: ${detail}`);
}

/** What `@qa rerun` asks of a run: its failed tests again when any failed, else all of them. */
export function planRerun(run: RunRead): { failedOnly: boolean } {
  return { failedOnly: run.tests.some((test) => test.result === "FAILED") };
}

// ---------------------------------------------------------------------------------------------------------
// The verdict as the workflow's state carries it

/** A verdict's share of the workflow state, in bytes of JSON (see limits.ts). */
export const VERDICT_MAX_BYTES = 20 * 1024;

const NAME_MAX_BYTES = 300;
const TITLE_MAX_BYTES = 500;
const THOUGHT_MAX_BYTES = 1_200;
const REASON_MAX_BYTES = 1_024;
const CUT = "…";

function boundedRow(row: VerdictTest): VerdictTest {
  const out: VerdictTest = { name: capText(String(row.name), NAME_MAX_BYTES, CUT), result: row.result };
  if (row.title !== undefined) out.title = capText(String(row.title), TITLE_MAX_BYTES, CUT);
  if (row.thought !== undefined) out.thought = capText(String(row.thought), THOUGHT_MAX_BYTES, CUT);
  const url = safeHttpsUrl(row.url);
  if (url && jsonBytes(url) <= URL_MAX_BYTES) out.url = url;
  return out;
}

/**
 * The verdict within VERDICT_MAX_BYTES of JSON: every string sanitized and cut to its own budget, links
 * that are not plain https (or too long to be whole) dropped, at most MAX_LINKED_RUNS run urls, and rows
 * dropped from the end into `more` until it fits (so `tests.length + more` is what it was).
 */
export function boundedVerdict(v: Verdict): Verdict {
  const runUrls = v.runUrls
    .map(safeHttpsUrl)
    .filter((url): url is string => url !== undefined && jsonBytes(url) <= URL_MAX_BYTES)
    .slice(0, MAX_LINKED_RUNS);
  const rows = v.tests.map(boundedRow);
  const total = v.tests.length + v.more;
  const withRows = (n: number): Verdict => ({
    outcome: v.outcome,
    source: v.source,
    ...(v.reason === undefined ? {} : { reason: capText(String(v.reason), REASON_MAX_BYTES, CUT) }),
    tests: rows.slice(0, n),
    more: total - n,
    runUrls,
  });
  const whole = withRows(rows.length);
  if (jsonBytes(whole) <= VERDICT_MAX_BYTES) return whole;
  return withRows(longestFitting(rows.length, (n) => jsonBytes(withRows(n)) <= VERDICT_MAX_BYTES));
}

// ---------------------------------------------------------------------------------------------------------
// How a verdict reads on a ticket

const HEADLINE: Record<VerdictOutcome, string> = {
  passed: "**Passed**",
  failed: "**Failed**",
  unverified: "**Could not verify**",
};

/**
 * Text that stays text in a markdown table cell or a line: on one line (a run of blanks and line breaks is
 * one space), every ASCII punctuation character backslash-escaped (CommonMark lets any be), so no pipe,
 * backtick, bracket, `<`, emphasis, entity or block marker of an untrusted name can end the cell or make a
 * link, code or html; autolinks lose their `://` and `www.` shape too.
 */
export function escapeMarkdownText(text: string): string {
  return sanitizeText(String(text))
    .replace(/\s+/g, " ")
    .replace(/[!-/:-@[-`{-~]/g, "\\$&")
    .trim();
}

/**
 * What opens the reply comment: the outcome in bold, then the reason when QA.tech could not verify, or
 * "(as reported by the assistant)" when only its verdict line said so, then a table of the tests (name,
 * result, details: a failure's title and thought, a link to the recording), then "and N more" with links
 * to the runs when rows were left out. Every cell is escaped: untrusted text cannot leave its cell.
 */
export function verdictMarkdown(v: Verdict): string {
  let headline = HEADLINE[v.outcome] ?? HEADLINE.unverified;
  // The assistant's own "could not verify" has no reason beyond its say-so, which the suffix tells.
  if (v.source === "assistant") headline += " (as reported by the assistant)";
  else if (v.outcome === "unverified" && escapeMarkdownText(v.reason ?? ""))
    headline += `: ${escapeMarkdownText(v.reason ?? "")}`;
  const lines = [headline];
  if (v.tests.length > 0) {
    lines.push("", "| Test | Result | Details |", "| --- | --- | --- |");
    for (const row of v.tests) {
      const details = [row.title, row.thought]
        .filter((part): part is string => typeof part === "string" && part.trim() !== "")
        .map(escapeMarkdownText);
      const url = safeHttpsUrl(row.url);
      if (url) details.push(`[recording](${url})`);
      lines.push(
        `| ${escapeMarkdownText(row.name) || "\\-"} | ${escapeMarkdownText(row.result)} | ${details.join(" — ")} |`,
      );
    }
  }
  if (v.more > 0) {
    const runs = v.runUrls.map(safeHttpsUrl).filter((url): url is string => url !== undefined);
    const where =
      runs.length === 1
        ? `: see [the run](${runs[0]}) in QA.tech`
        : runs.length > 1
          ? `: see the runs in QA.tech (${runs.map((url, i) => `[run ${i + 1}](${url})`).join(", ")})`
          : "";
    lines.push("", `and ${v.more} more${where}`);
  }
  return lines.join("\n");
}
