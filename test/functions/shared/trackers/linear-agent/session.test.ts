import { markerText } from "../../../../../functions/shared/domain/marker";
import type { AgentActivityInfo } from "../../../../../functions/shared/trackers/linear-agent/api";
import {
  contentTypeOf,
  createdRunId,
  PLAN_STEPS,
  planOf,
  promptedRunId,
  sessionConversation,
  sessionRunPrefix,
  stoppedSince,
} from "../../../../../functions/shared/trackers/linear-agent/session";

const at = (s: number) => new Date(Date.UTC(2026, 10, 20, 10, 0, s)).toISOString();
const activity = (id: string, s: number, extra: Partial<AgentActivityInfo> = {}): AgentActivityInfo => ({
  id,
  type: "thought",
  body: "",
  createdAt: at(s),
  ...extra,
});
const stop = (id: string, s: number) => activity(id, s, { type: "prompt", signal: "stop", userId: "jane" });
const prompt = (id: string, s: number) =>
  activity(id, s, { type: "prompt", body: "and Safari?", userId: "jane" });

describe("whether a run's session was stopped", () => {
  it("counts any stop for a run that began with the session (created, or a label)", () => {
    expect(stoppedSince([activity("a1", 1), stop("s1", 2)])).toBe(true);
    expect(stoppedSince([activity("a1", 1)])).toBe(false);
  });

  it("ignores a stop older than the prompt that started the run (a session resumed after a stop)", () => {
    const activities = [activity("a1", 1), stop("s1", 2), prompt("p1", 3)];

    expect(stoppedSince(activities, "p1")).toBe(false);
    expect(stoppedSince([...activities, stop("s2", 4)], "p1")).toBe(true);
  });
});

describe("a session's conversation, read back from its activities", () => {
  const key = "marker-key";
  const ticket = { tracker: "linear-agent" as const, id: "issue-1" };
  const ours = (conversationId: string, ticketId = "issue-1") =>
    `QA.tech is on it\n\n---\n\`${markerText(key, { ...ticket, id: ticketId }, { runId: "run-1", kind: "ack", conversationId })}\``;

  it("is the one our app's newest marker names", () => {
    const activities = [
      activity("a1", 1, { userId: "app", body: ours("chat_1") }),
      activity("a2", 2, { userId: "app", body: ours("chat_2") }),
    ];
    expect(sessionConversation(activities, "app", key, ticket)?.id ?? null).toBe("chat_2");
  });

  it("is never read from someone else's text, nor from a marker signed for another issue", () => {
    const activities = [
      activity("a1", 1, { userId: "jane", body: ours("chat_evil") }),
      activity("a2", 2, { userId: "app", body: ours("chat_other", "issue-2") }),
    ];
    expect(sessionConversation(activities, "app", key, ticket)?.id ?? null).toBeNull();
  });
});

describe("a session's runs", () => {
  it("are named from the session, so one prefix finds them all (and a redelivery names the same run)", () => {
    const prefix = sessionRunPrefix("session-1");

    expect(createdRunId("session-1")).toBe(createdRunId("session-1"));
    expect(promptedRunId("session-1", "p1").startsWith(prefix)).toBe(true);
    expect(promptedRunId("session-1", "p1")).not.toBe(promptedRunId("session-1", "p2"));
    expect(promptedRunId("session-1", "p1").length).toBeLessThanOrEqual(80);
    expect(sessionRunPrefix("session-2")).not.toBe(prefix);
  });

  it("post what failed as an error, progress and the acknowledgement as thoughts, the rest as responses", () => {
    expect(contentTypeOf("failure")).toBe("error");
    expect(contentTypeOf("reply", true)).toBe("error");
    expect(contentTypeOf("reply")).toBe("response");
    expect(contentTypeOf("answer")).toBe("response");
    expect(contentTypeOf("ack")).toBe("thought");
    expect(contentTypeOf("progress")).toBe("thought");
  });
});

describe("the session's plan after each comment", () => {
  const link = { url: "https://app.qa.tech/c/chat_1", label: "Open the conversation in QA.tech" };
  const statuses = (comment: Parameters<typeof planOf>[0]) => {
    const plan = planOf(comment);
    if (plan) expect(plan.map((s) => s.content)).toEqual([...PLAN_STEPS]);
    return plan?.map((s) => s.status) ?? null;
  };

  it("moves through the four steps with the run, whole each time", () => {
    expect(statuses({ kind: "ack", markdown: "", link })).toEqual([
      "completed",
      "inProgress",
      "pending",
      "pending",
    ]);
    expect(statuses({ kind: "progress", markdown: "" })).toEqual([
      "completed",
      "inProgress",
      "pending",
      "pending",
    ]);
    expect(statuses({ kind: "progress", markdown: "", step: "runs" })).toEqual([
      "completed",
      "completed",
      "inProgress",
      "pending",
    ]);
    expect(statuses({ kind: "reply", markdown: "", link })).toEqual([
      "completed",
      "completed",
      "completed",
      "completed",
    ]);
  });

  it("cancels what was not done when something failed, and leaves the plan alone for an answer", () => {
    expect(statuses({ kind: "reply", markdown: "", link, failed: true })).toEqual([
      "completed",
      "canceled",
      "canceled",
      "completed",
    ]);
    expect(statuses({ kind: "failure", markdown: "", link, failed: true })).toEqual([
      "completed",
      "canceled",
      "canceled",
      "canceled",
    ]);
    expect(statuses({ kind: "failure", markdown: "", failed: true })).toEqual([
      "canceled",
      "canceled",
      "canceled",
      "canceled",
    ]);
    expect(statuses({ kind: "answer", markdown: "", link })).toBeNull();
  });
});
