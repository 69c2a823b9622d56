import fc from "fast-check";
import { MAX_RERUNS } from "../../../../functions/read-runs";
import {
  capText,
  DESCRIPTION_MAX_BYTES,
  FOLLOW_UP_MAX_BYTES,
  jsonBytes,
  KEY_MAX_BYTES,
  PEER_TEXT_MAX_BYTES,
  REPLY_MAX_BYTES,
  STATE_MAX_BYTES,
  sanitizeText,
  TITLE_MAX_BYTES,
  URL_MAX_BYTES,
} from "../../../../functions/shared/domain/limits";
import { DEFAULT_POLL_SCHEDULE, firstPoll } from "../../../../functions/shared/domain/poll-schedule";
import { nextProgress } from "../../../../functions/shared/domain/progress";
import { boundedFollowUpText, boundedTicket } from "../../../../functions/shared/domain/ticket";
import {
  boundedVerdict,
  MAX_LINKED_RUNS,
  MAX_LINKED_TESTS,
} from "../../../../functions/shared/domain/verdict";
import type { WorkflowState } from "../../../../functions/shared/domain/workflow-state";
import { RUN_TEXT_MAX_BYTES } from "../../../../functions/shared/qatech/runs";

/** Bytes a string takes inside a JSON document, as Step Functions counts them. */
const inJson = (text: string) => jsonBytes(text) - 2;

describe("capText", () => {
  it.each([
    ["100,000 NULs", "\u0000".repeat(100_000)],
    ["300 KB of text", "lorem ipsum dolor sit amet\n".repeat(12_000)],
    ["100,000 characters on one line", "a".repeat(100_000)],
    ["quotes and backslashes (2 bytes each)", '"\\'.repeat(60_000)],
    ["emoji (4 bytes each)", "😀".repeat(40_000)],
  ])("keeps %s within the budget in JSON bytes, saying it was cut", (_name, text) => {
    const capped = capText(text, REPLY_MAX_BYTES, " [cut]");

    expect(inJson(capped)).toBeLessThanOrEqual(REPLY_MAX_BYTES);
    expect(inJson(capped)).toBeGreaterThan(REPLY_MAX_BYTES - 8);
    expect(capped.endsWith(" [cut]")).toBe(true);
  });

  it("leaves text within its budget as it is, without a notice", () => {
    expect(capText("All **3** checks passed.", 1000, " [cut]")).toBe("All **3** checks passed.");
  });

  it("holds any string to its budget and never leaves half a surrogate pair", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 3000 }),
        fc.integer({ min: 0, max: 2000 }),
        (s, max) => {
          const capped = capText(s, max);
          expect(inJson(capped)).toBeLessThanOrEqual(max);
          expect(capped).toBe(sanitizeText(capped));
        },
      ),
    );
  });
});

describe("sanitizeText", () => {
  it("shows control characters as their symbols and keeps tabs and line breaks", () => {
    expect(sanitizeText("a\u0000b\u0007c\u007Fd\te\nf\r\n")).toBe("a␀b␇c␡d\te\nf\r\n");
  });

  it("replaces unpaired surrogates, which have no UTF-8 form, and keeps pairs", () => {
    expect(sanitizeText("x\uD800y\uDC00z😀")).toBe("x\uFFFDy\uFFFDz😀");
  });
});

describe("boundedTicket", () => {
  it("holds every text field to its budget, so an execution input stays far under Step Functions' 256 KiB", () => {
    const huge = "\u0000".repeat(300_000);

    const ticket = boundedTicket({
      tracker: "linear",
      id: "539068e2-ae88-4d09-bd75-22eb4a59612f",
      key: "ENG-42",
      title: huge,
      url: `https://linear.app/${huge}`,
      description: huge,
    });

    expect(inJson(ticket.title)).toBeLessThanOrEqual(TITLE_MAX_BYTES);
    expect(inJson(ticket.url)).toBeLessThanOrEqual(URL_MAX_BYTES);
    expect(inJson(ticket.description)).toBeLessThanOrEqual(DESCRIPTION_MAX_BYTES);
    expect(
      jsonBytes({ runId: "x".repeat(80), ticket, followUp: { text: boundedFollowUpText(huge) } }),
    ).toBeLessThan(STATE_MAX_BYTES / 4);
    expect(inJson(boundedFollowUpText(huge))).toBeLessThanOrEqual(FOLLOW_UP_MAX_BYTES);
  });

  it("keeps the largest state a run can reach under 200 KiB: every field at its budget at once", () => {
    const huge = "\u0000".repeat(300_000);
    // Short ids as long as the links and the runs API accept, as many as a reply may link.
    const runId = "r".repeat(64);
    const manyLinks = {
      runs: Array.from({ length: MAX_LINKED_RUNS }, () => runId),
      tests: Array.from({ length: MAX_LINKED_TESTS }, () => runId),
    };
    const id = "x".repeat(KEY_MAX_BYTES - 2);
    const url = capText(`https://app.qa.tech/${huge}`, URL_MAX_BYTES);
    const state: WorkflowState = {
      runId: id,
      ticket: boundedTicket({
        tracker: "linear",
        id,
        key: id,
        title: huge,
        url: `https://linear.app/${huge}`,
        description: huge,
        teamId: id,
      }),
      followUp: { text: boundedFollowUpText(huge), commentId: id, parentId: id, authorId: id },
      ack: { id },
      thread: {
        action: "ask",
        rootId: id,
        conversation: { id, url },
        latest: "COMPLETED",
        runs: Array.from({ length: MAX_LINKED_RUNS }, () => capText(huge, PEER_TEXT_MAX_BYTES)),
      },
      review: { prUrl: url },
      conversation: {
        id,
        url,
        sentDigest: "d".repeat(16),
        opened: true,
        sentAt: new Date().toISOString(),
        seenAt: new Date().toISOString(),
      },
      poll: { ...firstPoll(DEFAULT_POLL_SCHEDULE), status: "final" },
      reply: {
        status: "COMPLETED",
        text: capText(huge, REPLY_MAX_BYTES, " [cut]"),
        links: manyLinks,
        verdictLine: "unverified",
      },
      // The verdict's rows, runs and reason at their budgets, and the runs being waited for.
      // The verdict of as many tests as a run may have, each text at the runs client's budget (qatech/runs.ts).
      verdict: boundedVerdict({
        outcome: "failed",
        source: "runs",
        reason: capText(huge, PEER_TEXT_MAX_BYTES),
        tests: Array(500).fill({
          name: capText(huge, RUN_TEXT_MAX_BYTES.name),
          result: "failed" as const,
          title: capText(huge, RUN_TEXT_MAX_BYTES.resultTitle),
          thought: capText(huge, RUN_TEXT_MAX_BYTES.evaluationThought),
          url,
        }),
        more: 0,
        runUrls: Array.from({ length: MAX_LINKED_RUNS }, () => url),
      }),
      runs: {
        status: "waiting",
        links: manyLinks,
        base: url,
        reruns: Array.from({ length: MAX_RERUNS }, () => ({
          from: runId,
          to: runId,
          failedOnly: true,
          testCount: 1e9,
        })),
        note: capText(huge, PEER_TEXT_MAX_BYTES),
      },
      runsError: { Error: "TransientError", Cause: capText(huge, PEER_TEXT_MAX_BYTES) },
      progress: nextProgress(undefined, huge, 0) ?? undefined,
      // Our own message quoting a peer's text (cut to PEER_TEXT_MAX_BYTES), and the stack Lambda adds.
      error: {
        Error: "PermanentError",
        Cause: JSON.stringify({
          errorMessage: `QA.tech answered 400: ${capText(huge, PEER_TEXT_MAX_BYTES)}`,
          trace: Array.from({ length: 10 }, () => `    at handler (/var/task/index.js:1:${"9".repeat(6)})`),
        }),
      },
      comment: { id, duplicate: false },
    };

    expect(jsonBytes(state)).toBeLessThan(200 * 1024);
  });

  it("keeps a Linear issue's team, which its labels are resolved in", () => {
    const ticket = boundedTicket({
      tracker: "linear",
      id: "539068e2-ae88-4d09-bd75-22eb4a59612f",
      key: "ENG-42",
      title: "Checkout",
      url: "",
      description: "",
      teamId: "72b2a2dc-6f4f-4423-9d34-24b5bd10634a",
    });

    expect(ticket.teamId).toBe("72b2a2dc-6f4f-4423-9d34-24b5bd10634a");
  });

  it.each([
    ["an id", { id: "x".repeat(1000) }],
    ["a key with a control character", { key: "ENG-\u000042" }],
  ])("refuses %s it could only cut, since cut it would name another ticket", (_name, field) => {
    const ticket = {
      tracker: "jira" as const,
      id: "10002",
      key: "PROJ-1",
      title: "",
      url: "",
      description: "",
    };

    expect(() => boundedTicket({ ...ticket, ...field })).toThrow(/not a plausible/);
  });
});
