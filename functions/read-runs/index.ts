import { capText, PEER_TEXT_MAX_BYTES } from "../shared/domain/limits";
import { afterPoll, firstPoll, type PollState } from "../shared/domain/poll-schedule";
import { nextProgress, type ProgressState } from "../shared/domain/progress";
import {
  boundedVerdict,
  decideVerdict,
  planRerun,
  projectSlugOf,
  type ResultLinks,
  type RunRead,
  runsFinal,
  unreadableVerdict,
  unverifiedVerdict,
  type Verdict,
  verdictFromLine,
} from "../shared/domain/verdict";
import type { RunsState, WorkflowState } from "../shared/domain/workflow-state";
import { ConfigError } from "../shared/platform/errors";
import { forRun, functionLogger, type Logger } from "../shared/platform/log";
import { pollSchedule, settings } from "../shared/platform/settings";
import { qatechClientFromSettings, qatechRunsFromSettings } from "../shared/qatech/from-settings";
import { latestResultLinks } from "../shared/qatech/reply";
import { type QaTechRuns, RunsUnreadableError } from "../shared/qatech/runs";

const logger = functionLogger("read-runs");

/** What the state machine passes: which step (ReadRuns or StartRerun) and the run's state. */
export interface ReadRunsEvent {
  step: "read" | "rerun";
  state: WorkflowState;
}

/** The most runs one `@qa rerun` restarts: a reply links a handful; each is a POST that costs credits. */
export const MAX_RERUNS = 5;

/** What the handler talks to; tests pass their own. */
export interface ReadRunsDependencies {
  runs?: () => Promise<QaTechRuns>;
}

/**
 * ReadRuns: the verdict of a final reply, from the test runs it links (waiting for runs not final yet, on the
 * ticket's one deadline); StartRerun: `@qa rerun` restarts the failed tests (else all) of the runs the
 * conversation's latest reply with run links names, and the runs loop then waits for the new runs.
 */
export function createReadRunsHandler({ runs = () => qatechRunsFromSettings() }: ReadRunsDependencies = {}) {
  return ({ step, state }: ReadRunsEvent) => (step === "rerun" ? rerun(state, runs) : read(state, runs));
}

export const handler = createReadRunsHandler();

/** The result pages' base of the conversation (`<origin>/p/<slug>`), from the url QA.tech's API gave it. */
function baseOf(conversationUrl: string | undefined): string | null {
  const project = conversationUrl ? projectSlugOf(conversationUrl) : null;
  return project ? `${project.origin}/p/${project.slug}` : null;
}

const hasLinks = (links: ResultLinks | undefined): links is ResultLinks =>
  links !== undefined && links.runs.length + links.tests.length > 0;

async function read(state: WorkflowState, client: () => Promise<QaTechRuns>): Promise<WorkflowState> {
  const log = forRun(logger, state.runId);
  if (!state.poll) throw new ConfigError("read-runs ran without a poll clock");
  const first = state.runs === undefined;
  const base = state.runs?.base ?? baseOf(state.conversation?.url);
  const links = state.runs?.links ?? state.reply?.links;
  if (!hasLinks(links) || !base) return final(log, state, replyVerdict(state), state.runs);
  const runs: RunsState = state.runs ?? { status: "waiting", links, base };
  let read: RunRead[];
  try {
    read = await readAll(await client(), links);
  } catch (error) {
    if (!(error instanceof RunsUnreadableError)) throw error;
    log.warn("runs unreadable", { error });
    return final(log, state, unreadableVerdict(error.message), runs);
  }
  const runUrl = (id: string) => `${base}/results/${id}`;
  if (runsFinal(read)) return final(log, state, decideVerdict(read, runUrl), runs);
  // The first read follows the final reply's read at once: the clock stands where that read was.
  const next = afterPoll(
    first ? { ...state.poll, n: state.poll.n - 1 } : state.poll,
    pollSchedule(settings()),
  );
  if (!next) {
    const known = decideVerdict(read, runUrl);
    const minutes = Math.round(state.poll.elapsedSeconds / 60);
    const verdict =
      known.outcome === "failed"
        ? known
        : {
            ...known,
            outcome: "unverified" as const,
            reason: `QA.tech's test runs had not finished when the ticket's ${minutes}-minute deadline came`,
          };
    return final(log, state, verdict, runs);
  }
  log.info("runs not final", { runs: links.runs, tests: links.tests.length, n: next.n });
  const progress = agentThought(state, read, next, first);
  return {
    ...state,
    runs: { ...runs, status: "waiting" },
    poll: { ...next, status: progress ? "progress" : "pending" },
    ...(progress ? { progress } : {}),
  };
}

/**
 * An agent session says what it waits for: a thought when the wait for the runs begins, then the heartbeat
 * that keeps a long wait from going stale (domain/progress.ts).
 */
function agentThought(
  state: WorkflowState,
  read: RunRead[],
  next: PollState,
  first: boolean,
): ProgressState | null {
  if (state.ticket.tracker !== "linear-agent") return null;
  if (!first) return nextProgress(state.progress, "", next.elapsedSeconds, next.waitSeconds);
  const open = read.filter((run) => !runsFinal([run])).map((run) => `${run.shortId} (${run.status})`);
  return {
    sent: (state.progress?.sent ?? 0) + 1,
    atSeconds: next.elapsedSeconds,
    digest: state.progress?.digest ?? "",
    text: `Waiting for QA.tech's test runs to finish: ${open.join(", ")}.`,
  };
}

/**
 * The verdict of a reply that links no runs: its own verdict line, else "could not verify"; none for the
 * answer to a question in the thread that gives no verdict line (it was not asked to test anything).
 */
function replyVerdict(state: WorkflowState): Verdict | undefined {
  const reply = state.reply;
  if (!reply) return unverifiedVerdict("QA.tech's reply could not be read");
  const verdict = verdictFromLine(reply.status, reply.verdictLine);
  const asked = state.followUp && state.thread?.action === "ask";
  return asked && verdict.source === "none" ? undefined : verdict;
}

function final(
  log: Logger,
  state: WorkflowState,
  verdict: Verdict | undefined,
  runs: RunsState | undefined,
): WorkflowState {
  log.info("verdict", {
    outcome: verdict?.outcome ?? "none",
    source: verdict?.source,
    reason: verdict?.reason,
  });
  const { verdict: _previous, ...rest } = state;
  return {
    ...rest,
    runs: { ...(runs ?? { links: { runs: [], tests: [] }, base: "" }), status: runs ? "final" : "none" },
    ...(verdict ? { verdict: boundedVerdict(verdict) } : {}),
  };
}

/**
 * Reads every linked run with its tests, and every linked test outside those runs (as a run of its own), one
 * at a time: a reply links a handful, and QA.tech's rate limit is shared with the conversations.
 */
async function readAll(client: QaTechRuns, links: ResultLinks): Promise<RunRead[]> {
  const read: RunRead[] = [];
  for (const id of links.runs) read.push(await client.readRun(id));
  const covered = new Set(read.flatMap((run) => run.tests.map((test) => test.shortId)));
  for (const id of links.tests) {
    if (covered.has(id)) continue;
    const { runShortId, ...test } = await client.getRunTestCase(id);
    read.push({ shortId: runShortId, status: test.status, result: test.result, tests: [test] });
  }
  return read;
}

/** The runs to rerun: those the latest reply with links links, and those of its tests, at most MAX_RERUNS. */
async function runsToRerun(client: QaTechRuns, links: ResultLinks): Promise<string[]> {
  const ids = new Set(links.runs);
  for (const id of links.tests) {
    if (ids.size >= MAX_RERUNS) break;
    ids.add((await client.getRunTestCase(id)).runShortId);
  }
  return [...ids].slice(0, MAX_RERUNS);
}

async function rerun(state: WorkflowState, client: () => Promise<QaTechRuns>): Promise<WorkflowState> {
  const log = forRun(logger, state.runId);
  const id = state.thread?.conversation?.id;
  if (!id) throw new ConfigError("rerun ran without the thread's conversation");
  // The conversation is the one our signed marker names; its url (and so the project) is QA.tech's answer.
  const conversation = await (await qatechClientFromSettings()).getConversation(id);
  const base = baseOf(conversation.url);
  const links = base ? latestResultLinks(conversation) : undefined;
  const none = (reason: string): WorkflowState => {
    const note = capText(reason, PEER_TEXT_MAX_BYTES);
    log.info("nothing rerun", { note });
    return {
      ...state,
      thread: {
        ...state.thread,
        action: "rerun",
        conversation: { ...state.thread?.conversation, id, url: conversation.url },
      },
      runs: { status: "none", links: { runs: [], tests: [] }, base: base ?? "", note },
    };
  };
  if (!base || !hasLinks(links))
    return none("No reply in this conversation links a QA.tech test run, so there is nothing to rerun.");
  const runs = await client();
  const reruns: NonNullable<RunsState["reruns"]> = [];
  try {
    for (const from of await runsToRerun(runs, links)) {
      // Which tests failed is in the run itself; the failures' details (readRun) are not needed to rerun them.
      const { failedOnly } = planRerun(await runs.getRun(from));
      // The project the conversation was opened in (the signed marker's), not today's route table's.
      const projectShortId = state.thread?.conversation?.projectShortId;
      const started = await runs.rerun(from, { failedOnly, projectShortId });
      reruns.push({ from, to: started.shortId, failedOnly, testCount: started.testCount });
    }
  } catch (error) {
    if (!(error instanceof RunsUnreadableError)) throw error;
    return none(`QA.tech's test runs could not be read or rerun with this key: ${error.message}`);
  }
  log.info("rerun started", { reruns });
  const { verdict: _previous, ...rest } = state;
  return {
    ...rest,
    thread: {
      ...state.thread,
      action: "rerun",
      conversation: { ...state.thread?.conversation, id, url: conversation.url },
    },
    runs: { status: "waiting", links: { runs: reruns.map((r) => r.to), tests: [] }, base, reruns },
    poll: { ...firstPoll(pollSchedule(settings())), status: "pending" },
  };
}
