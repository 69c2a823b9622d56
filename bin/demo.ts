// `npm run demo`: the whole flow on this machine, no account anywhere. The local runner runs the real
// workflow against SIMULATORS of QA.tech, Linear and Jira (the fakes the end-to-end tests use, test/fakes/).
import { adfToText } from "../functions/shared/adf";
import { setLogSink } from "../functions/shared/log";
import { startHarness } from "../test/support/harness";

const tty = process.stdout.isTTY;
const dim = (s: string) => (tty ? `\x1b[2m${s}\x1b[0m` : s);
const bold = (s: string) => (tty ? `\x1b[1m${s}\x1b[0m` : s);

async function main() {
  const t0 = Date.now();
  const at = () => dim(`[${((Date.now() - t0) / 1000).toFixed(2)}s]`);
  // Show the runner's one-line-per-step log, compactly.
  setLogSink((line) => {
    const entry = JSON.parse(line) as Record<string, unknown>;
    const fields = ["outcome", "state", "event", "status", "error"].filter((k) => entry[k] !== undefined);
    console.log(`${at()} ${dim(String(entry.msg))} ${fields.map((k) => `${k}=${entry[k]}`).join(" ")}`);
  });
  const h = await startHarness({
    qatech: {
      plan: () => ({
        pollsUntilFinal: 3,
        text: [
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
  const [comment] = h.linear.comments;
  if (!comment) throw new Error("The Linear issue received no comment");
  console.log(bold(`\n${at()} Comment posted on Linear issue ENG-42 (markdown):\n`));
  console.log(quote(comment.body));

  console.log(bold(`\n${at()} Jira: PROJ-123 gets the label needs-test; sending the signed webhook`));
  const jira = await h.sendJira("jira-issue_updated.label-added");
  console.log(`${at()} Webhook answered ${jira.status} ${JSON.stringify(jira.body)}`);
  await h.runner.settled();
  const [jiraComment] = h.jira.comments;
  if (!jiraComment) throw new Error("The Jira issue received no comment");
  console.log(bold(`\n${at()} Comment posted on Jira issue ${jiraComment.issueKey} (ADF, shown as text):\n`));
  console.log(quote(adfToText(jiraComment.body)));

  const counts = `conversations opened: ${h.qatech.conversations().length}; comments posted: Linear ${h.linear.comments.length}, Jira ${h.jira.comments.length}`;
  console.log(`\n${counts}`);
  await h.close();
}

main().catch((error) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
