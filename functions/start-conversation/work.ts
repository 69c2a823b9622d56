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
import { destination, routesUseLabels } from "./routing";

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

/**
 * The labels routing matches on: the ticket's, as its webhook stated them; read back from the tracker when
 * the payload states none (an agent session, a comment's `retry`) and a route matches on labels.
 */
async function labelsOf(state: WorkflowState): Promise<readonly string[]> {
  if (state.ticket.labels !== undefined) return state.ticket.labels;
  if (!routesUseLabels(settings().routes ?? [])) return [];
  const refreshed = await (await trackerOf(state.ticket.tracker)).refreshTicket(state.ticket);
  return refreshed.labels ?? [];
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
  const s = settings();
  const to = destination({ qatech: s.qatech, routes: s.routes ?? [] }, state, await labelsOf(state));
  let links: Promise<string[]> | undefined;
  const linked = () => {
    links ??= linksOf(state);
    return links;
  };
  // The ticket's own preview, where the route's (else the top-level) allowlist accepts one.
  const previews = await previewsOf(state, to.previewUrls, linked);
  const applicationOverrides = withPreviews(to.applicationOverrides, previews, state.ticket.key);
  const message = composeTicketMessage(state.ticket, to.instruction);
  const pr = await reviewTarget(state.ticket, { ...to, applicationOverrides }, linked);
  const target = { projectShortId: to.projectShortId, applicationOverrides };
  const opened = pr
    ? await client.startChangeReview(pr, message, target)
    : await client.startConversation(message, target);
  // A project other than the top-level one travels with the conversation (the marker signs it).
  const conversation =
    to.projectShortId && to.projectShortId !== s.qatech.projectShortId
      ? { ...opened, projectShortId: to.projectShortId }
      : opened;
  forRun(logger, state.runId).info("conversation started", {
    conversation: conversation.id,
    review: pr?.url,
    route: to.route?.name,
    previews: previews.map((p) => ({ application: p.applicationShortId, url: p.url, source: p.source })),
  });
  const review = pr ? { prUrl: pr.url } : undefined;
  const { route: _previous, previews: _before, ...rest } = state;
  return {
    ...rest,
    conversation,
    review,
    ...(to.route ? { route: to.route } : {}),
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
    if (!requested.ok)
      forRun(logger, state.runId).warn("preview asked for is not allowed for this ticket's route", {
        url: asked,
        reason: requested.reason,
      });
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
  // The project the conversation was opened in, from our signed marker: never today's route table's.
  const { projectShortId } = thread.conversation;
  const sent = await client.sendMessage(thread.conversation.id, state.followUp.text, projectShortId);
  const conversation = projectShortId ? { ...sent, projectShortId } : sent;
  forRun(logger, state.runId).info("follow-up sent", { conversation: conversation.id });
  return { ...state, conversation, poll: firstPollState() };
}

function firstPollState() {
  return { ...firstPoll(pollSchedule(settings())), status: "pending" as const };
}
