/**
 * Verdicts: whether the change a ticket asked about works, from the test results QA.tech publishes.
 * Pure rules (no I/O): which result links of a reply count, what a set of runs says, what the assistant's
 * own verdict line says, and how a verdict reads on a ticket. QA.tech's API reference for runs:
 * https://docs.qa.tech/api-reference (Get run, Get run test case, Rerun Tests).
 */

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
