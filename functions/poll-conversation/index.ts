import { capText, REPLY_MAX_BYTES } from "../shared/domain/limits";
import { afterPoll } from "../shared/domain/poll-schedule";
import { nextProgress } from "../shared/domain/progress";
import { parseVerdictLine, resultLinks } from "../shared/domain/verdict";
import type { WorkflowState } from "../shared/domain/workflow-state";
import { ConfigError } from "../shared/platform/errors";
import { forRun, functionLogger } from "../shared/platform/log";
import { emitMetric, METRIC } from "../shared/platform/metrics";
import { pollSchedule, settings } from "../shared/platform/settings";
import { QATECH_TIMEOUT_MS, qatechClientFromSettings } from "../shared/qatech/from-settings";
import { findReply, noteOurMessage, partialReply, type Reply } from "../shared/qatech/reply";

const logger = functionLogger("poll-conversation");

const CUT_NOTICE = "\n\n[The reply was cut; read it in full in QA.tech.]";

/**
 * The reply as the state carries it: sanitized and within its budget of JSON bytes (see limits.ts), with the
 * result pages it links in the conversation's own project and its verdict line, both read from the whole text
 * before any cut (domain/verdict.ts).
 */
function boundedReply(reply: Reply, conversationUrl: string): Reply {
  const links = resultLinks(reply.text, conversationUrl);
  const verdictLine = parseVerdictLine(reply.text);
  return {
    ...reply,
    text: capText(reply.text, REPLY_MAX_BYTES, CUT_NOTICE),
    ...(links.runs.length + links.tests.length > 0 ? { links } : {}),
    ...(verdictLine ? { verdictLine } : {}),
  };
}

/**
 * A wait this short costs less inside the Lambda than as a round of the state machine's loop: one round
 * is 3 transitions ($0.000075), the price of about 22 s of a 256 MB arm64 Lambda. So the function waits
 * out short waits itself, up to INLINE_BUDGET_SECONDS per invocation; the schedule is the same either way.
 */
export const INLINE_WAIT_MAX_SECONDS = 10;
export const INLINE_BUDGET_SECONDS = 60;

/**
 * Time kept free at the end of an invocation. What follows a read (matching, a log line, returning the
 * state) takes milliseconds; the rest covers timers that fire late.
 */
const END_MARGIN_MS = 2_000;

/** What the handler reads of its Lambda context: how long the invocation may still run. */
export interface InvocationClock {
  getRemainingTimeInMillis(): number;
}

/**
 * The longest Retry-After a read may wait out inside the call with `remainingMs` left: the read, the wait and
 * the read sent again must all fit. -1 when not even the second read fits (see RequestOptions).
 */
function retryAfterLimit(remainingMs: number): number | undefined {
  if (remainingMs === Number.POSITIVE_INFINITY) return undefined;
  return Math.max(-1, Math.floor((remainingMs - 2 * QATECH_TIMEOUT_MS - END_MARGIN_MS) / 1000));
}

/** WAIT_SCALE: set by the local runner to shrink waits; never set in Lambda. */
function waitScale(): number {
  const scale = Number(process.env.WAIT_SCALE ?? "1");
  return Number.isFinite(scale) && scale > 0 ? scale : 1;
}

/** What the poll handler waits with; tests pass a virtual clock's so no test depends on real time. */
export interface PollDependencies {
  /** Waits out an inline wait of the schedule and a short Retry-After; default: a real timer. */
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Reads the conversation: the reply when it is final, else the next wait for the state machine, or the
 * deadline. Short waits of the schedule are waited out here (see INLINE_WAIT_MAX_SECONDS), but only while
 * the wait and a read after it fit in what is left of the invocation (`context`, Lambda's; without one, no
 * limit is known): a Lambda timeout would end in a failure comment while QA.tech is fine.
 */
export function createPollHandler({ sleep = realSleep }: PollDependencies = {}) {
  return (state: WorkflowState, context?: InvocationClock) => pollConversation(state, context, sleep);
}

/** The Lambda's handler, waiting on real timers. */
export const handler = createPollHandler();

async function pollConversation(
  state: WorkflowState,
  context: InvocationClock | undefined,
  sleep: (ms: number) => Promise<void>,
): Promise<WorkflowState> {
  if (!state.conversation || !state.poll)
    throw new ConfigError("poll-conversation ran without a conversation");
  const log = forRun(logger, state.runId);
  const client = await qatechClientFromSettings({ sleep });
  const schedule = pollSchedule(settings());
  let poll = state.poll;
  let ref = state.conversation;
  let waitedInline = 0;
  const remaining = () => context?.getRemainingTimeInMillis() ?? Number.POSITIVE_INFINITY;
  for (;;) {
    // A fresh invocation has POLL_TIMEOUT_SECONDS, far more than one read; each later read was checked below.
    const conversation = await client.getConversation(ref.id, {
      maxInlineRetryAfterSeconds: retryAfterLimit(remaining()),
    });
    ref = noteOurMessage(conversation.messages, ref);
    const reply = findReply(conversation.messages, ref);
    const n = poll.n + 1;
    if (reply) {
      log.info("reply final", { n, status: reply.status });
      // Schedule time, not clock time: what the reply took as the loop saw it, the same in Lambda and locally.
      emitMetric(METRIC.replySeconds, poll.elapsedSeconds + poll.waitSeconds, { unit: "Seconds" });
      emitMetric(METRIC.pollsPerRun, n);
      return {
        ...state,
        conversation: ref,
        poll: { ...poll, n, status: "final" },
        reply: boundedReply(reply, ref.url),
      };
    }
    const next = afterPoll(poll, schedule);
    if (!next) {
      log.warn("reply deadline reached", { n });
      emitMetric(METRIC.pollsPerRun, n);
      return { ...state, conversation: ref, poll: { ...poll, n, status: "deadline" } };
    }
    // An agent session shows QA.tech's partial text as it grows (throttled, domain/progress.ts), and a thought
    // at least every 25 minutes of a long run so the session never goes stale: the state machine posts it,
    // then waits as it would have.
    if (state.ticket.tracker === "linear-agent") {
      const progress = nextProgress(
        state.progress,
        partialReply(conversation.messages, ref),
        next.elapsedSeconds,
        next.waitSeconds,
      );
      if (progress) return { ...state, conversation: ref, poll: { ...next, status: "progress" }, progress };
    }
    const inline =
      next.waitSeconds <= INLINE_WAIT_MAX_SECONDS && waitedInline + next.waitSeconds <= INLINE_BUDGET_SECONDS;
    if (!inline) return { ...state, conversation: ref, poll: { ...next, status: "pending" } };
    const waitMs = next.waitSeconds * 1000 * waitScale();
    if (remaining() < waitMs + QATECH_TIMEOUT_MS + END_MARGIN_MS) {
      log.info("poll handed back early: the invocation's time runs out", { n });
      return { ...state, conversation: ref, poll: { ...next, status: "pending" } };
    }
    await sleep(waitMs);
    waitedInline += next.waitSeconds;
    poll = { ...next, status: "pending" };
  }
}
