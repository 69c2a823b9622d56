import type { ConversationRef } from "../qatech/client";
import type { Reply } from "../qatech/reply";
import type { PollState } from "./poll-schedule";
import type { PreviewChoice } from "./preview-env";
import type { ProgressState } from "./progress";
import type { WorkflowInput } from "./ticket";
import type { ResultLinks, Verdict } from "./verdict";

/** Where the poll loop stands: still waiting, progress to show (agent runs), a final reply, or the deadline. */
export type PollStatus = "pending" | "final" | "deadline" | "progress";

/** An error as Step Functions hands it to a Catch (`Cause` is the Lambda's JSON error, or plain text locally). */
export interface CaughtError {
  Error: string;
  Cause?: string;
}

/** What a comment in the thread asked for, once the thread is known to be ours. */
export type ThreadAction = "ask" | "retry" | "rerun" | "status" | "help" | "refused" | "ignore";

/** A follow-up's thread: our acknowledgement at its root and the conversation it links to. */
export interface ThreadState {
  action: ThreadAction;
  rootId?: string;
  /**
   * The thread's conversation, as our marker names it, with the project it was opened in when a route chose
   * one (the marker's, signed: never from the ticket's text); its url once QA.tech was asked (status).
   */
  conversation?: { id: string; url?: string; projectShortId?: string };
  /** For `status`: the state of the conversation's newest assistant message, or "none". */
  latest?: string;
  /** For `status`: the runs the conversation's newest reply links, as one line each ("R-12: RUNNING"). */
  runs?: string[];
  /** For `retry on <url>`: the preview asked for, once the allowlist accepted it (its origin only). */
  previewUrl?: string;
  /** For a refused request (`retry on` a URL the allowlist refuses): why, for the answer. */
  refusal?: string;
}

/**
 * Where the wait for QA.tech's test runs stands (ReadRuns -> AreRunsFinal -> WaitForRuns). Only ids travel
 * here: they come from QA.tech's reply, filtered to the conversation's own project (domain/verdict.ts).
 */
export interface RunsState {
  /** "waiting": WaitForRuns, then ReadRuns again; "final": the verdict is known; "none": nothing to wait for. */
  status: "waiting" | "final" | "none";
  /** The runs and single test executions to read: the reply's links, or the runs a rerun started. */
  links: ResultLinks;
  /** The result pages' base (`https://app.qa.tech/p/<slug>`): the conversation's own, from QA.tech's API. */
  base: string;
  /** `@qa rerun`: the runs it started, each from the run it reran. */
  reruns?: { from: string; to: string; failedOnly: boolean; testCount: number }[];
  /** Why nothing was rerun (no run linked), for the answer. */
  note?: string;
}

/**
 * The state that travels through the workflow. Each Task handler takes it whole and returns it with its
 * own part added, so the definition needs no path juggling and the handlers are typed end to end.
 * Its size is bounded (domain/limits.ts): Step Functions fails a state over 256 KiB.
 */
export interface WorkflowState extends WorkflowInput {
  /** Our acknowledgement comment: the root of the ticket's thread. */
  ack?: { id: string };
  thread?: ThreadState;
  /** Set when the conversation is a change review of a linked pull request. */
  review?: { prUrl: string };
  /** The preview deployments the conversation tests on, one per application (domain/preview-env.ts). */
  previews?: PreviewChoice[];
  conversation?: ConversationRef;
  /**
   * The route the conversation was opened by (settings `routes`), for the acknowledgement: its name, its
   * project (when it sets one) and the applications it tests. Small: every field comes from the config.
   */
  route?: { name: string; projectShortId?: string; applications: string[] };
  poll?: PollState & { status: PollStatus };
  reply?: Reply;
  runs?: RunsState;
  /** What the ticket is told about the change: passed, failed or could not verify (domain/verdict.ts). */
  verdict?: Verdict;
  /** ReadRuns failed past its retries: the verdict is "could not verify", with this as the reason. */
  runsError?: CaughtError;
  /** Agent runs: the progress shown so far, and the update to post next. */
  progress?: ProgressState;
  error?: CaughtError;
  comment?: { id: string; duplicate: boolean };
}
