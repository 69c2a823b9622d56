// `npm run demo`: the whole flow on this machine, no account anywhere. The local runner runs the real
// workflow against SIMULATORS of QA.tech, Linear and Jira (simulators/, which the end-to-end tests use too).

import { setLogSink } from "../functions/shared/platform/log";
import { adfToText } from "../functions/shared/trackers/jira/adf";
import { type Harness, startHarness } from "../simulators/harness";
import type { FakeAgentSession } from "../simulators/linear-agent";
import { linearFixture } from "../simulators/signing";

const tty = process.stdout.isTTY;
const dim = (s: string) => (tty ? `\x1b[2m${s}\x1b[0m` : s);
const bold = (s: string) => (tty ? `\x1b[1m${s}\x1b[0m` : s);

async function main() {
  const t0 = Date.now();
  const at = () => dim(`[${((Date.now() - t0) / 1000).toFixed(2)}s]`);
  // Show the runner's one-line-per-step log, compactly.
  setLogSink((line) => {
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (entry._aws) return; // a metric (embedded metric format), not a step
    const fields = ["outcome", "state", "event", "status", "error"].filter((k) => entry[k] !== undefined);
    console.log(`${at()} ${dim(String(entry.message))} ${fields.map((k) => `${k}=${entry[k]}`).join(" ")}`);
  });
  const h = await startHarness({
    // QA.tech as a Linear agent too; the label keeps its comment flow here (sessionOnLabel off), so both show.
    agent: {},
    env: { LINEAR_AGENT_SESSION_ON_LABEL: "false" },
    qatech: {
      // The ticket's test run: the empty-cart test fails on the first run; `@qa rerun` reruns it and it passes
      // (the simulator's default for reruns: "the fix worked").
      plan: (message) => ({
        runs: message.includes("Safari")
          ? undefined
          : message.includes("PROJ-123")
            ? [{ tests: [{ name: "Login - remember me", result: "PASSED" as const }] }]
            : [
                {
                  readsUntilFinal: 2,
                  tests: [
                    {
                      name: "Checkout - empty cart",
                      result: "FAILED" as const,
                      resultTitle: "The page stays blank after Checkout",
                      evaluationThought:
                        "Expected the message 'Your cart is empty'; the page rendered nothing.",
                    },
                    { name: "Checkout - one item", result: "PASSED" as const },
                  ],
                },
              ],
        pollsUntilFinal: message.includes("regression") ? 1_000 : 3,
        text: message.includes("Safari")
          ? "Yes: I ran **Checkout - empty cart** on mobile Safari (iPhone 15 preset) and it fails the same way."
          : [
              "## Test created: Checkout with an empty cart",
              "",
              "I added **Checkout - empty cart** to the project and ran it against the preview.",
              "",
              "- Open the shop with an empty cart",
              "- Press **Checkout**",
              "- Expect the message *Your cart is empty*",
              "",
              "Result: **failed** - the page stays blank after pressing Checkout (see the recording).",
            ].join("\n"),
      }),
    },
  });
  const quote = (text: string) =>
    text
      .split("\n")
      .map((l) => `  | ${l}`)
      .join("\n");
  console.log(
    bold("\nqa-ticket demo: QA.tech, Linear and Jira are local simulators; the workflow is the real one.\n"),
  );
  console.log(`${at()} Local runner on ${h.runner.url}; WAIT_SCALE=0.01 (a 3 s wait takes 30 ms)`);

  console.log(bold(`\n${at()} Linear: ENG-42 gets the label "Needs Test"; sending the signed webhook`));
  const linear = await h.sendLinear("Issue.update.label-added");
  console.log(`${at()} Webhook answered ${linear.status} ${JSON.stringify(linear.body)}`);
  await h.runner.settled();
  const [ack] = h.linearAcks();
  const [reply] = h.linearReplies();
  if (!ack || !reply) throw new Error("The Linear issue did not get its acknowledgement and reply");
  if (!reply.body.startsWith("**Failed**"))
    throw new Error("The Linear issue's reply did not open with its verdict");
  console.log(bold(`\n${at()} On Linear issue ENG-42, the acknowledgement:\n`));
  console.log(quote(ack.body));
  console.log(bold(`\n${at()} ...and in its thread, the verdict and QA.tech's reply (markdown):\n`));
  console.log(quote(reply.body));

  const question = "Does it also work on mobile Safari?";
  console.log(bold(`\n${at()} Jane replies in the thread: "${question}"`));
  const asked = h.linear.addComment({
    issueId: ack.issueId,
    body: question,
    userId: "user-jane",
    parentId: ack.id,
  });
  const base = linearFixture("Comment.create");
  const data = {
    ...asked,
    issue: { id: ack.issueId, identifier: "ENG-42", title: "Checkout crashes on empty cart" },
  };
  const followUp = await h.sendLinear({ ...base, data });
  console.log(`${at()} Webhook answered ${followUp.status} ${JSON.stringify(followUp.body)}`);
  await h.runner.settled();
  const answer = h.linearReplies().at(-1);
  console.log(bold(`\n${at()} The answer, from the same conversation, in the same thread:\n`));
  console.log(quote(answer?.body ?? "(none)"));

  console.log(bold(`\n${at()} The fix is deployed; Jane writes "@qa rerun" in the thread`));
  const rerun = h.linear.addComment({
    issueId: ack.issueId,
    body: "@qa rerun",
    userId: "user-jane",
    parentId: ack.id,
  });
  const reran = await h.sendLinear({ ...base, data: { ...rerun, issue: data.issue } });
  console.log(`${at()} Webhook answered ${reran.status} ${JSON.stringify(reran.body)}`);
  await h.runner.settled();
  const [started, verdict] = h.linearReplies().slice(-2);
  console.log(bold(`\n${at()} In the thread, what was rerun, then the new verdict:\n`));
  console.log(quote(started?.body ?? "(none)"));
  console.log("");
  console.log(quote(verdict?.body ?? "(none)"));
  if (!verdict?.body.startsWith("**Passed**"))
    throw new Error("The rerun did not end with a passing verdict");

  console.log(bold(`\n${at()} Jira: PROJ-123 gets the label needs-test; sending the signed webhook`));
  const jira = await h.sendJira("jira-issue_updated.label-added");
  console.log(`${at()} Webhook answered ${jira.status} ${JSON.stringify(jira.body)}`);
  await h.runner.settled();
  const [jiraAck] = h.jiraAcks();
  const [jiraReply] = h.jiraReplies();
  if (!jiraAck || !jiraReply) throw new Error("The Jira issue did not get its acknowledgement and reply");
  console.log(
    bold(`\n${at()} On Jira issue ${jiraReply.issueKey} (ADF, shown as text), the acknowledgement:\n`),
  );
  console.log(quote(adfToText(jiraAck.body)));
  console.log(bold(`\n${at()} ...and the reply, linking it:\n`));
  console.log(quote(adfToText(jiraReply.body)));

  await agentDemo(h, ack.issueId, at, quote);

  const counts = `conversations opened: ${h.qatech.conversations().length}; comments posted: Linear ${h.linear.comments.length}, Jira ${h.jira.comments.length}`;
  console.log(`\n${counts}`);
  await h.close();
}

/**
 * QA.tech as a Linear agent on the demo's issue (ENG-42): a session from mention to response, a message in
 * it, and a stop.
 */
async function agentDemo(
  h: Harness,
  issueId: string,
  at: () => string,
  quote: (text: string) => string,
): Promise<void> {
  const show = (session: FakeAgentSession) =>
    session.history
      .map(
        (a) =>
          `  ${a.userId === h.agent.appUserId ? "QA.tech" : "Jane   "} ${a.content.type}${a.ephemeral ? " (ephemeral)" : ""}${a.signal ? ` [${a.signal}]` : ""}: ${(a.content.body ?? "").split("\n")[0]}`,
      )
      .join("\n");

  console.log(bold(`\n${at()} Linear agent: Jane writes "@QA.tech check the empty-cart case" in ENG-42`));
  const session = await h.agent.mention(issueId, "@QA.tech check the empty-cart case");
  console.log(
    `${at()} Webhook answered ${h.agent.deliveries.at(-1)?.status}; first activity ${h.agent.responseDelayMs(session.id)} ms after "created" (Linear allows 10 s)`,
  );
  await h.runner.settled();
  console.log(`${at()} Session's Open link: ${session.externalUrls.map((u) => u.url).join(", ")}`);
  const question = "Does it also work on mobile Safari?";
  console.log(bold(`\n${at()} Jane writes in the session: "${question}"`));
  await h.agent.prompt(session.id, question);
  await h.runner.settled();
  console.log(bold(`\n${at()} The session, as Linear shows it (first lines):\n`));
  console.log(show(session));
  const [response] = session.activities.filter((a) => a.content.type === "response");
  console.log(bold(`\n${at()} Its first response (markdown):\n`));
  console.log(quote(response?.content.body ?? "(none)"));

  console.log(
    bold(
      `\n${at()} Another session: "@QA.tech run the full regression suite", then Jane sends a stop request`,
    ),
  );
  const long = await h.agent.mention(issueId, "@QA.tech run the full regression suite");
  while (!long.history.some((a) => a.content.body?.startsWith("QA.tech is on it")))
    await new Promise((resolve) => setTimeout(resolve, 20));
  await h.agent.stop(long.id);
  await h.runner.settled();
  const stopped = [...h.runner.executions.values()].at(-1);
  console.log(`${at()} Its run: ${stopped?.status}; the session:\n`);
  console.log(show(long));
  if (h.agent.unresponsive().length) throw new Error("A session missed Linear's 10-second rule");
}

main().catch((error) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
