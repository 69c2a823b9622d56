import { adfToText } from "../../functions/shared/trackers/jira/adf-text";
import { type LocalRunner, startLocalRunner } from "../../local/runner";
import {
  agentEnv,
  type Harness,
  JIRA_API_TOKEN,
  JIRA_EMAIL,
  JIRA_WEBHOOK_SECRET,
  jiraFixture,
  LINEAR_API_KEY,
  LINEAR_WEBHOOK_SECRET,
  QATECH_API_KEY,
  startHarness,
} from "../../simulators/harness";
import { signedLinearDelivery } from "../../simulators/signing";
import { LINEAR_ISSUE, linearCommentEvent } from "../support/linear-thread"; // ENG-42, labelled "Bug" and "Needs Test"

/**
 * Issue 20, routes: on Linear, Jira and the agent, routes by team, by project and by label reach their QA.tech
 * project and application (the simulator records each POST), the acknowledgement says where, and a thread's
 * follow-up stays in the project its conversation was opened in after the route table changed.
 */
const app = (id: string) => ({ applicationShortId: id, environment: { shortId: `env_${id}` } });
const BY_HOME = [
  {
    name: "eng",
    match: { linearTeams: ["ENG"] },
    projectShortId: "proj_eng",
    applicationOverrides: [app("app_web")],
  },
  {
    name: "proj",
    match: { jiraProjects: ["PROJ"] },
    projectShortId: "proj_jira",
    applicationOverrides: [app("app_desk")],
  },
];
const BY_LABEL = [
  { name: "ops", match: { linearTeams: ["OPS"], jiraProjects: ["OPS"] }, projectShortId: "proj_ops" },
  {
    name: "labelled",
    match: { labels: ["needs test", "needs-test"] },
    projectShortId: "proj_label",
    applicationOverrides: [app("app_ios")],
  },
];

/** The body of the POST that opened the newest conversation. */
function opened(h: Harness): Record<string, unknown> {
  return h.qatech.conversations().at(-1)?.body as Record<string, unknown>;
}

function jiraCommentEvent(id: string, body: string, accountId: string) {
  const base = jiraFixture("comment_created");
  return { ...base, comment: { ...(base.comment as object), id, body, author: { accountId } } };
}

/** POSTs a delivery to a runner; the outcome it answered. */
async function post(runner: LocalRunner, path: string, headers: Record<string, string>, body: string) {
  const res = await fetch(`${runner.url}${path}`, { method: "POST", headers, body });
  return (await res.json()) as { outcome?: string };
}

describe("routes, end to end through the local runner", () => {
  let h: Harness;
  let later: LocalRunner | undefined;
  afterEach(async () => {
    // The second runner first: closing it gives the process environment back to the first.
    await later?.close();
    later = undefined;
    await h.runner.settled();
    await h.close();
  });

  /**
   * The same deployment after its route table changed: a second runner on the same simulators, with the
   * same keys (the marker key derives from the QA.tech key, as MARKER_KEY would be the same secret).
   */
  async function redeploy(routes: unknown[], withAgent = false) {
    later = await startLocalRunner({
      port: 0,
      env: {
        QATECH_API_KEY,
        QATECH_API_URL: h.qatech.url,
        QATECH_PROJECT_SHORT_ID: "proj_demo",
        LINEAR_API_KEY,
        LINEAR_API_URL: h.linear.url,
        LINEAR_WEBHOOK_SECRET,
        JIRA_BASE_URL: h.jira.url,
        JIRA_EMAIL,
        JIRA_API_TOKEN,
        JIRA_WEBHOOK_SECRET,
        WAIT_SCALE: "0.01",
        ROUTES: JSON.stringify(routes),
        ...(withAgent ? agentEnv(h.agent, h.linear.url, true) : {}),
      },
    });
    if (withAgent) h.agent.webhookUrl = `${later.url}/webhooks/linear-agent`;
    return later;
  }

  describe.each([
    ["a team or project", BY_HOME],
    ["a label", BY_LABEL],
  ])("by %s", (_by, routes) => {
    const expected = (tracker: "linear" | "jira") =>
      routes === BY_LABEL
        ? { project: "proj_label", app: "app_ios", name: "labelled" }
        : tracker === "linear"
          ? { project: "proj_eng", app: "app_web", name: "eng" }
          : { project: "proj_jira", app: "app_desk", name: "proj" };

    it("Linear: the labelled ticket reaches its route's project and application, and the acknowledgement says so", async () => {
      h = await startHarness({ env: { ROUTES: JSON.stringify(routes) } });
      const { project, app: application, name } = expected("linear");

      await h.sendLinear("Issue.update.label-added");
      await h.runner.settled();

      expect(opened(h)).toMatchObject({ projectShortId: project, applicationOverrides: [app(application)] });
      const [ack] = h.linearAcks();
      expect(ack.body.replaceAll("\\", "")).toContain(
        `Sent to QA.tech project ${project} (route ${name}), application ${application}.`,
      );
      expect(ack.body.split("\n").at(-1)).toContain(`@${project} `);
    });

    it("Jira: the labelled ticket reaches its route's project and application, and the acknowledgement says so", async () => {
      h = await startHarness({ env: { ROUTES: JSON.stringify(routes) } });
      const { project, app: application, name } = expected("jira");

      await h.sendJira("jira-issue_updated.label-added");
      await h.runner.settled();

      expect(opened(h)).toMatchObject({ projectShortId: project, applicationOverrides: [app(application)] });
      expect(adfToText(h.jiraAcks()[0].body)).toContain(
        `Sent to QA.tech project ${project} (route ${name}), application ${application}.`,
      );
    });

    it("the agent: a mention reaches the route of the issue's team or labels (read back from Linear)", async () => {
      h = await startHarness({ agent: {}, env: { ROUTES: JSON.stringify(routes) } });
      const { project, app: application } = expected("linear");

      await h.agent.mention(LINEAR_ISSUE, "@QA.tech check the empty cart");
      await h.runner.settled();

      expect(opened(h)).toMatchObject({ projectShortId: project, applicationOverrides: [app(application)] });
    });
  });

  it("a ticket no route fits takes the qatech block, as without routes", async () => {
    h = await startHarness({ env: { ROUTES: JSON.stringify([BY_LABEL[0]]) } });

    await h.sendLinear("Issue.update.label-added");
    await h.runner.settled();

    expect(opened(h)).toEqual({ message: expect.any(String), projectShortId: "proj_demo" });
    expect(h.linearAcks()[0].body).not.toContain("Sent to");
  });

  it("Linear: a reply stays in its conversation's project after the route table changed", async () => {
    h = await startHarness({ env: { ROUTES: JSON.stringify(BY_HOME) } });
    await h.sendLinear("Issue.update.label-added");
    await h.runner.settled();
    const [ack] = h.linearAcks();
    const chat = h.qatech.conversations()[0].shortId;

    const runner = await redeploy([{ ...BY_HOME[0], projectShortId: "proj_moved" }]);
    const body = "And on Safari?";
    const reply = h.linear.addComment({ issueId: LINEAR_ISSUE, body, userId: "user-jane", parentId: ack.id });
    const delivery = signedLinearDelivery(
      linearCommentEvent({ id: reply.id, body, parentId: ack.id, userId: "user-jane" }),
      LINEAR_WEBHOOK_SECRET,
    );
    const answer = await post(runner, "/webhooks/linear", delivery.headers, delivery.body);
    await runner.settled();

    expect(answer.outcome).toBe("started");
    expect(h.qatech.requests.filter((r) => r.method === "POST").at(-1)).toMatchObject({
      path: `/v1/chat/${chat}`,
      body: { message: body, projectShortId: "proj_eng" },
    });
    expect(h.qatech.conversations()).toHaveLength(1);
  });

  it("Linear: `@qa retry` opens its new conversation in the thread's project after the route table changed", async () => {
    h = await startHarness({ env: { ROUTES: JSON.stringify(BY_HOME) } });
    await h.sendLinear("Issue.update.label-added");
    await h.runner.settled();
    const [ack] = h.linearAcks();

    const runner = await redeploy([{ ...BY_HOME[0], projectShortId: "proj_moved" }]);
    const body = "@qa retry";
    const reply = h.linear.addComment({ issueId: LINEAR_ISSUE, body, userId: "user-jane", parentId: ack.id });
    const delivery = signedLinearDelivery(
      linearCommentEvent({ id: reply.id, body, parentId: ack.id, userId: "user-jane" }),
      LINEAR_WEBHOOK_SECRET,
    );
    const answer = await post(runner, "/webhooks/linear", delivery.headers, delivery.body);
    await runner.settled();

    expect(answer.outcome).toBe("started");
    expect(h.qatech.conversations()).toHaveLength(2);
    // The route now names another project, whose applications are not this conversation's: the retry keeps
    // the thread's project (from its signed marker) and the qatech block's applications.
    expect(opened(h)).toEqual({ message: expect.any(String), projectShortId: "proj_eng" });
  });

  it("the agent: a prompt in the session stays in its conversation's project after the routes changed", async () => {
    h = await startHarness({ agent: {}, env: { ROUTES: JSON.stringify(BY_HOME) } });
    const session = await h.agent.mention(LINEAR_ISSUE, "@QA.tech check the empty cart");
    await h.runner.settled();
    const chat = h.qatech.conversations()[0].shortId;
    expect(opened(h)).toMatchObject({ projectShortId: "proj_eng" });

    const runner = await redeploy([], true);
    await h.agent.prompt(session.id, "And on Safari?");
    await runner.settled();

    expect(h.qatech.requests.filter((r) => r.method === "POST").at(-1)).toMatchObject({
      path: `/v1/chat/${chat}`,
      body: { message: "And on Safari?", projectShortId: "proj_eng" },
    });
  });

  it("`@qa rerun` names its conversation's project after the route table changed", async () => {
    h = await startHarness({
      qatech: { plan: () => ({ runs: [{ tests: [{ name: "Checkout", result: "FAILED" }] }] }) },
      env: { ROUTES: JSON.stringify(BY_HOME) },
    });
    await h.sendLinear("Issue.update.label-added");
    await h.runner.settled();
    const [ack] = h.linearAcks();
    const [original] = h.qatech.runs();
    expect(original.project).toBe("proj_eng");

    const runner = await redeploy([]);
    const body = "@qa rerun";
    const reply = h.linear.addComment({ issueId: LINEAR_ISSUE, body, userId: "user-jane", parentId: ack.id });
    const delivery = signedLinearDelivery(
      linearCommentEvent({ id: reply.id, body, parentId: ack.id, userId: "user-jane" }),
      LINEAR_WEBHOOK_SECRET,
    );
    await post(runner, "/webhooks/linear", delivery.headers, delivery.body);
    await runner.settled();

    const reruns = h.qatech.requests.filter(
      (r) => r.method === "POST" && r.path === `/v1/run/${original.shortId}`,
    );
    expect(reruns.map((r) => r.body)).toEqual([{ failedOnly: true, projectShortId: "proj_eng" }]);
  });

  it("Jira: an @qa comment stays in its conversation's project after the route table changed", async () => {
    h = await startHarness({ env: { ROUTES: JSON.stringify(BY_HOME) } });
    await h.sendJira("jira-issue_updated.label-added");
    await h.runner.settled();
    const chat = h.qatech.conversations()[0].shortId;

    const runner = await redeploy([]);
    const human = h.jira.addComment("PROJ-123", { body: "@qa and on Safari?", authorAccountId: "jane" });
    const body = JSON.stringify(jiraCommentEvent(human.id, "@qa and on Safari?", "jane"));
    const { signedJiraHeaders } = await import("../../simulators/harness");
    const answer = await post(runner, "/webhooks/jira", signedJiraHeaders(body, JIRA_WEBHOOK_SECRET), body);
    await runner.settled();

    expect(answer.outcome).toBe("started");
    expect(h.qatech.requests.filter((r) => r.method === "POST").at(-1)).toMatchObject({
      path: `/v1/chat/${chat}`,
      body: { message: "and on Safari?", projectShortId: "proj_jira" },
    });
  });

  it("refuses a marker whose project was edited: the thread is not ours, nothing reaches QA.tech", async () => {
    h = await startHarness({ env: { ROUTES: JSON.stringify(BY_HOME) } });
    await h.sendLinear("Issue.update.label-added");
    await h.runner.settled();
    const [ack] = h.linearAcks();
    expect(ack.body).toContain("@proj_eng ");
    ack.body = ack.body.replace("@proj_eng ", "@proj_evil ");
    const before = h.qatech.requests.length;

    const reply = h.linear.addComment({
      issueId: LINEAR_ISSUE,
      body: "Try it",
      userId: "user-jane",
      parentId: ack.id,
    });
    const res = await h.sendLinear(
      linearCommentEvent({ id: reply.id, body: "Try it", parentId: ack.id, userId: "user-jane" }),
    );
    await h.runner.settled();

    expect(res.body.outcome).toBe("started");
    expect(h.qatech.requests.slice(before)).toEqual([]);
    // Ours under the acknowledgement: the first run's reply only, nothing answered the forged thread.
    const ours = h.linearReplies().filter((c) => c.parentId === ack.id && c.userId === "user-qa-bot");
    expect(ours).toHaveLength(1);
  });
});
