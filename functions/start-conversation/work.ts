/** The work a queued request asks for: open the conversation or send a follow-up (QA.tech, the tracker). */
import { composeTicketMessage } from "../shared/domain/message";
import { firstPoll } from "../shared/domain/poll-schedule";
import {
  choosePreviews,
  type PreviewChoice,
  type PreviewUrls,
  pullRequestNumber,
  requestedPreview,
  withPreviews,
} from "../shared/domain/preview-env";
import { reviewTarget } from "../shared/domain/review-target";
import type { WorkflowState } from "../shared/domain/workflow-state";
import { ConfigError, TransientError } from "../shared/platform/errors";
import { forRun, functionLogger } from "../shared/platform/log";
import { pollSchedule, settings } from "../shared/platform/settings";
import { qatechClientFromSettings } from "../shared/qatech/from-settings";
import { findPullRequest } from "../shared/qatech/pull-request";
import { trackerOf } from "../shared/trackers";

/** The function's logger (the consumer logs under the same name). */
export const logger = functionLogger("start-conversation");

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
  const { qatech } = settings();
  let links: Promise<string[]> | undefined;
  const linked = () => {
    links ??= linksOf(state);
    return links;
  };
  const previews = await previewsOf(state, qatech.previewUrls, linked);
  const applicationOverrides = withPreviews(qatech.applicationOverrides, previews, state.ticket.key);
  const client = await qatechClientFromSettings({ maxInlineRetryAfterSeconds: 0, applicationOverrides });
  const message = composeTicketMessage(state.ticket, qatech.instruction);
  const pr = await reviewTarget(state.ticket, { ...qatech, applicationOverrides }, linked);
  const conversation = pr
    ? await client.startChangeReview(pr, message)
    : await client.startConversation(message);
  forRun(logger, state.runId).info("conversation started", {
    conversation: conversation.id,
    review: pr?.url,
    previews: previews.map((p) => ({ application: p.applicationShortId, url: p.url, source: p.source })),
  });
  const review = pr ? { prUrl: pr.url } : undefined;
  return {
    ...state,
    conversation,
    review,
    ...(previews.length ? { previews } : {}),
    poll: firstPollState(),
  };
}

/**
 * The preview deployments to test on: the one asked for with `@qa retry on <url>` (checked against the
 * allowlist when it was asked, and again here), else those the ticket links (its links, then its text, then
 * `{pr}` patterns with its pull request's number). None without qatech.previewUrls.
 */
async function previewsOf(
  state: WorkflowState,
  previewUrls: PreviewUrls,
  links: () => Promise<string[]>,
): Promise<PreviewChoice[]> {
  if (Object.keys(previewUrls).length === 0) return [];
  const asked = state.thread?.previewUrl;
  if (asked) {
    const requested = requestedPreview(previewUrls, asked);
    return requested.ok ? [requested.choice] : [];
  }
  const linked = await links();
  const text = `${state.ticket.title}\n${state.ticket.description}`;
  const { gitlabHosts } = settings().qatech;
  const pr =
    findPullRequest(text, gitlabHosts) ??
    linked.map((url) => findPullRequest(url, gitlabHosts)).find(Boolean);
  return choosePreviews(previewUrls, {
    links: linked,
    texts: [state.ticket.description],
    pullRequest: pr ? pullRequestNumber(pr.url) : undefined,
  });
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
