import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
} from "@aws-sdk/client-sfn";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { jsonBytes, URL_MAX_BYTES } from "../shared/domain/limits";
import { composeTicketMessage } from "../shared/domain/message";
import { firstPoll } from "../shared/domain/poll-schedule";
import type { Ticket } from "../shared/domain/ticket";
import type { WorkflowState } from "../shared/domain/workflow-state";
import { ConfigError, TransientError } from "../shared/platform/errors";
import { forRun, functionLogger } from "../shared/platform/log";
import { pollSchedule, requireEnv, type Settings, settings } from "../shared/platform/settings";
import { qatechClientFromSettings } from "../shared/qatech/from-settings";
import { findPullRequest, type PullRequest } from "../shared/qatech/pull-request";
import { trackerOf } from "../shared/trackers";

const logger = functionLogger("start-conversation");

/**
 * The pull request to review instead of chatting, by CHANGE_REVIEW: auto, always or never. The ticket's
 * text is searched first (someone wrote that link on purpose), then the links it carries outside its text
 * (`links`: Linear's attachments), which are only read when a change review could start.
 */
export async function reviewTarget(
  ticket: Ticket,
  settings: Settings["qatech"],
  links: () => Promise<string[]>,
): Promise<PullRequest | null> {
  const mode = settings.changeReview;
  if (mode === "never") return null;
  const canReview = settings.applicationOverrides.length > 0;
  if (mode === "auto" && !canReview) return null; // QA.tech's change review requires application overrides
  const pr =
    findPullRequest(`${ticket.title}\n${ticket.description}`, settings.gitlabHosts) ??
    firstPullRequest(await links(), settings.gitlabHosts);
  if (!pr) return null;
  if (!canReview) {
    throw new ConfigError(
      "qatech.changeReview is always, but a change review needs qatech.applicationOverrides",
    );
  }
  return pr;
}

/** The first of `urls` that is a pull request, by the same rules as a link in the ticket's text. */
function firstPullRequest(urls: string[], gitlabHosts: string[]): PullRequest | null {
  for (const url of urls) {
    // A longer one is no pull request URL, and would not fit the state's budget for it.
    if (jsonBytes(url) > URL_MAX_BYTES) continue;
    const pr = findPullRequest(url, gitlabHosts);
    if (pr) return pr;
  }
  return null;
}

/**
 * The ticket's links outside its text. A transient failure is the state machine's to retry; any other
 * must not block the conversation, which then starts from the ticket's text alone.
 */
async function linksOf(state: WorkflowState): Promise<string[]> {
  try {
    return await (await trackerOf(state.ticket.tracker)).linkedUrls(state.ticket);
  } catch (error) {
    if (error instanceof TransientError) throw error;
    forRun(logger, state.runId).warn("links not read: the change review is chosen from the ticket's text", {
      error,
    });
    return [];
  }
}

/** What a queued request asks for: open the ticket's conversation, or send a follow-up to it. */
export type StartKind = "start" | "follow-up";

/**
 * Opens the QA.tech conversation for the ticket (a change review when it links a pull request) and sets up
 * the first wait. A Retry-After is not waited out here: that would hold one of the bounded slots while
 * QA.tech asks us to slow down; the consumer puts the request back in the queue for that long instead.
 */
export async function startConversation(state: WorkflowState): Promise<WorkflowState> {
  const client = await qatechClientFromSettings({ maxInlineRetryAfterSeconds: 0 });
  const { qatech } = settings();
  const message = composeTicketMessage(state.ticket, qatech.instruction);
  const pr = await reviewTarget(state.ticket, qatech, () => linksOf(state));
  const conversation = pr
    ? await client.startChangeReview(pr, message)
    : await client.startConversation(message);
  forRun(logger, state.runId).info("conversation started", {
    conversation: conversation.id,
    review: pr?.url,
  });
  const review = pr ? { prUrl: pr.url } : undefined;
  return { ...state, conversation, review, poll: firstPollState() };
}

/** Sends a follow-up question to the thread's conversation and sets up the first wait for its answer. */
export async function sendFollowUp(state: WorkflowState): Promise<WorkflowState> {
  const thread = state.thread;
  if (thread?.action !== "ask" || !thread.conversation || !state.followUp)
    throw new ConfigError("SendFollowUp ran without a question and its thread's conversation");
  const client = await qatechClientFromSettings({ maxInlineRetryAfterSeconds: 0 });
  const conversation = await client.sendMessage(thread.conversation.id, state.followUp.text);
  forRun(logger, state.runId).info("follow-up sent", { conversation: conversation.id });
  return { ...state, conversation, poll: firstPollState() };
}

function firstPollState() {
  return { ...firstPoll(pollSchedule(settings())), status: "pending" as const };
}

/** What the workflow puts on the start queue (lib/constructs/ticket-workflow.ts builds it). */
export interface StartRequest {
  taskToken: string;
  kind: StartKind;
  state: WorkflowState;
  /** How often QA.tech's Retry-After already sent this request back to the queue. */
  postponed?: number;
}

/** How the consumer hands a task's outcome back to the waiting execution, or puts it back in the queue. */
export interface TaskResults {
  succeed(taskToken: string, output: WorkflowState): Promise<void>;
  fail(taskToken: string, error: string, cause: string): Promise<void>;
  /** Confirms that the execution still waits on the task (SendTaskHeartbeat); throws TaskTimedOut if not. */
  heartbeat(taskToken: string): Promise<void>;
  /** Puts the request back in the queue, to be delivered again after `delaySeconds`. */
  postpone(request: StartRequest, delaySeconds: number): Promise<void>;
}

/**
 * QA.tech's Retry-After is honoured by sending the request back to the queue with that delay: the slot is
 * free for others meanwhile, and the execution keeps waiting on the same task. SQS delays a message by at
 * most 15 minutes; after 10 postponements the error goes to the state machine's Retry like any other.
 */
const MAX_POSTPONE_SECONDS = 900;
const MAX_POSTPONEMENTS = 10;

/** Step Functions' answers that mean the waiting task is gone (timed out, execution stopped). */
const TASK_GONE = new Set(["TaskTimedOut", "TaskDoesNotExist", "InvalidToken"]);

/**
 * Pauses between further attempts to report a task's outcome. QA.tech's POSTs are not idempotent: a report
 * that never arrives sends the message back to the queue, and its second delivery would open a second
 * conversation. These (with the SDK's own retries) fit the consumer's 30 s beside QA.tech's 10 s call.
 */
export const REPORT_RETRY_DELAYS_MS = [500, 1_000, 2_000, 4_000];

/** Runs `report` until it succeeds, pausing as REPORT_RETRY_DELAYS_MS says; a gone task is not retried. */
async function reportWithRetries(report: () => Promise<void>, onRetry: (error: unknown) => void) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await report();
    } catch (error) {
      const gone = error instanceof Error && TASK_GONE.has(error.name);
      if (gone || attempt >= REPORT_RETRY_DELAYS_MS.length) throw error;
      onRetry(error);
      await new Promise((resolve) => setTimeout(resolve, REPORT_RETRY_DELAYS_MS[attempt]));
    }
  }
}

/**
 * Reports to Step Functions (SendTaskSuccess / SendTaskFailure) and postpones through SQS (START_QUEUE_URL);
 * the clients are reused across invocations.
 */
export function awsTaskResults(env: NodeJS.ProcessEnv = process.env): TaskResults {
  let client: SFNClient | undefined;
  let queue: SQSClient | undefined;
  const sfn = () => {
    client ??= new SFNClient({});
    return client;
  };
  return {
    async postpone(request, delaySeconds) {
      queue ??= new SQSClient({});
      await queue.send(
        new SendMessageCommand({
          QueueUrl: requireEnv(env, "START_QUEUE_URL"),
          MessageBody: JSON.stringify(request),
          DelaySeconds: delaySeconds,
        }),
      );
    },
    async succeed(taskToken, output) {
      await sfn().send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
    },
    async heartbeat(taskToken) {
      await sfn().send(new SendTaskHeartbeatCommand({ taskToken }));
    },
    async fail(taskToken, error, cause) {
      await sfn().send(
        new SendTaskFailureCommand({ taskToken, error: error.slice(0, 256), cause: cause.slice(0, 32_768) }),
      );
    },
  };
}

const WORK: Record<StartKind, (state: WorkflowState) => Promise<WorkflowState>> = {
  start: startConversation,
  "follow-up": sendFollowUp,
};

function parseRequest(record: SQSRecord): StartRequest {
  const request = JSON.parse(record.body) as Partial<StartRequest>;
  const known = typeof request.kind === "string" && Object.hasOwn(WORK, request.kind);
  if (typeof request.taskToken !== "string" || !request.state || !known)
    throw new ConfigError(`Start queue message ${record.messageId} is not a start request`);
  return request as StartRequest;
}

/**
 * The start queue's consumer. The queue's event source runs at most `qatech.maxConcurrency` of these at
 * once: that, and nothing with a retry budget, is the bound on conversations started, so a bulk relabel
 * of any size waits its turn instead of failing. Every outcome, errors included, goes back to the waiting
 * execution, whose Retry and Catch decide what happens next. Messages from the dead-letter queue (those
 * whose consumer kept crashing) are answered with a failure, so their tickets still get a comment.
 */
export function createStartConsumer(results: TaskResults, env: NodeJS.ProcessEnv = process.env) {
  return async (event: SQSEvent): Promise<void> => {
    for (const record of event.Records) {
      const request = parseRequest(record);
      const runLog = forRun(logger, request.state.runId);
      let settle: () => Promise<void>;
      if (env.START_DEAD_LETTER_QUEUE_ARN && record.eventSourceARN === env.START_DEAD_LETTER_QUEUE_ARN) {
        runLog.error("start request dead-lettered", { kind: request.kind, messageId: record.messageId });
        const cause = "the request to QA.tech could not be processed (its consumer failed repeatedly)";
        settle = () => results.fail(request.taskToken, "StartFailed", cause);
      } else {
        // QA.tech's POSTs are not idempotent, and its conversations spend credits: first confirm that the
        // execution still waits on this task. Stopped (a Linear agent's stop) or timed out, it never will, so
        // the message is dropped instead of opening a conversation nobody follows.
        try {
          await results.heartbeat(request.taskToken);
        } catch (error) {
          if (error instanceof Error && TASK_GONE.has(error.name)) {
            runLog.warn("start dropped: the execution no longer waits", { kind: request.kind, error });
            continue;
          }
          throw error; // Step Functions unreachable: SQS delivers the message again.
        }
        try {
          const output = await WORK[request.kind](request.state);
          settle = () => results.succeed(request.taskToken, output);
        } catch (error) {
          const e = error instanceof Error ? error : new Error(String(error));
          const postponed = request.postponed ?? 0;
          if (
            e instanceof TransientError &&
            e.retryAfterSeconds !== undefined &&
            postponed < MAX_POSTPONEMENTS
          ) {
            const delay = Math.min(MAX_POSTPONE_SECONDS, e.retryAfterSeconds);
            runLog.warn("start postponed", { kind: request.kind, delaySeconds: delay, error: e });
            await results.postpone({ ...request, postponed: postponed + 1 }, delay);
            continue;
          }
          runLog.warn("start failed", { kind: request.kind, error: e });
          settle = () => results.fail(request.taskToken, e.name, e.message);
        }
      }
      try {
        await reportWithRetries(settle, (error) =>
          runLog.warn("start result not reported yet: trying again", { kind: request.kind, error }),
        );
      } catch (error) {
        // The execution stopped waiting (or was stopped): nobody is left to answer.
        if (error instanceof Error && TASK_GONE.has(error.name)) {
          runLog.warn("start result not delivered: the execution no longer waits", { error });
          continue;
        }
        // Step Functions unreachable through every retry: SQS delivers the message again, and a second
        // conversation may start (docs/architecture.md, Known limitations).
        throw error;
      }
    }
  };
}

/** The Lambda entry point, invoked by the start queue's event source. */
export const handler = createStartConsumer(awsTaskResults());
