import { parseFollowUp } from "../shared/domain/follow-up";
import { capText, PEER_TEXT_MAX_BYTES, URL_MAX_BYTES } from "../shared/domain/limits";
import { mergePreviewUrls, requestedPreview } from "../shared/domain/preview-env";
import { threadAction } from "../shared/domain/thread";
import type { WorkflowState } from "../shared/domain/workflow-state";
import { ConfigError } from "../shared/platform/errors";
import { forRun, functionLogger } from "../shared/platform/log";
import { settings } from "../shared/platform/settings";
import type { Conversation } from "../shared/qatech/client";
import { qatechClientFromSettings, qatechRunsFromSettings } from "../shared/qatech/from-settings";
import { latestResultLinks, newestAssistantMessage } from "../shared/qatech/reply";
import { RunsUnreadableError } from "../shared/qatech/runs";
import { trackerOf } from "../shared/trackers";

const logger = functionLogger("resolve-thread");

/**
 * Decides what a comment in a thread asks for (domain/thread.ts) from the thread as the tracker holds it:
 * the thread and its conversation are read back each time, never remembered. For `status` it asks QA.tech
 * where the conversation stands; for `retry` it reads the ticket's text back for the new conversation.
 */
export async function handler(state: WorkflowState): Promise<WorkflowState> {
  const followUp = state.followUp;
  if (!followUp) throw new ConfigError("resolve-thread ran without a follow-up");
  const tracker = await trackerOf(state.ticket.tracker);
  const { own, root, labelled } = await tracker.findThread(state.ticket, followUp);
  const asked = threadAction({ own, ours: root !== null, labelled }, followUp.text, state.ticket.tracker);
  const preview = asked === "retry" ? previewAsked(followUp.text) : {};
  const action = preview.refusal ? "refused" : asked;
  let latest: string | undefined;
  let runs: string[] | undefined;
  let conversation: { id: string; url?: string; projectShortId?: string } | undefined = root?.conversation;
  if (action === "status" && root) {
    const found = await (await qatechClientFromSettings()).getConversation(root.conversation.id);
    const newest = newestAssistantMessage(found.messages);
    latest = newest ? (newest.isStreaming ? "PARTIAL" : newest.status) : "none";
    conversation = { ...root.conversation, id: found.shortId, url: found.url };
    runs = await runLines(found);
  }
  const ticket = action === "retry" ? await tracker.refreshTicket(state.ticket) : state.ticket;
  const reason =
    action === "ignore" && !own && !root
      ? "no conversation of ours on the ticket (and, for retry, no trigger label)"
      : undefined;
  forRun(logger, state.runId).info("thread resolved", {
    action,
    own,
    conversation: root?.conversation.id,
    labelled,
    reason,
  });
  return {
    ...state,
    ticket,
    thread: {
      action,
      rootId: root?.rootId,
      conversation,
      latest,
      ...(runs?.length ? { runs } : {}),
      ...preview,
    },
  };
}

/**
 * `retry on <url>`: the preview asked for when the allowlist accepts it (its origin only), else why not. The
 * URL is the commenter's text: only the organisation's allowlist (qatech.previewUrls) decides what is tested.
 */
function previewAsked(text: string): { previewUrl?: string; refusal?: string } {
  const asked = parseFollowUp(text);
  if (!("command" in asked) || !asked.url) return {};
  const url = capText(asked.url, URL_MAX_BYTES);
  // Any allowlist in force (the qatech block's and every route's); the start re-checks against the one
  // of the route the ticket takes, and tests the configured environment if that one refuses it.
  const s = settings();
  const requested = requestedPreview(
    mergePreviewUrls([s.qatech.previewUrls, ...(s.routes ?? []).map((r) => r.previewUrls ?? {})]),
    url,
  );
  return requested.ok
    ? { previewUrl: requested.choice.url }
    : {
        refusal: capText(
          `${url} is not a preview QA.tech may test here: ${requested.reason}`,
          PEER_TEXT_MAX_BYTES,
        ),
      };
}

/**
 * For `status`: where each run of the conversation's latest reply that links runs stands, one line each.
 * Links of another project or host are not read (domain/verdict.ts); runs this key may not read say so.
 */
async function runLines(conversation: Conversation): Promise<string[]> {
  const runs = latestResultLinks(conversation)?.runs ?? [];
  if (runs.length === 0) return [];
  const client = await qatechRunsFromSettings();
  const lines: string[] = [];
  for (const id of runs) {
    try {
      const run = await client.getRun(id);
      const done = run.tests.filter((test) => test.status !== "INITIATED" && test.status !== "RUNNING");
      lines.push(
        `${run.shortId}: ${run.status.toLowerCase()}${run.result ? `, ${run.result.toLowerCase()}` : ""}` +
          (run.tests.length ? ` (${done.length} of ${run.tests.length} tests done)` : ""),
      );
    } catch (error) {
      if (!(error instanceof RunsUnreadableError)) throw error;
      lines.push(capText(`${id}: could not be read (${error.message})`, PEER_TEXT_MAX_BYTES));
    }
  }
  return lines;
}
