// The QA.tech, Linear and Jira simulators in a process of their own, for measurements where their work
// must not compete with the local runner's (as real services would not): prints their URLs as one JSON
// line and serves until its standard input closes.

import { JIRA_API_TOKEN, JIRA_EMAIL, LINEAR_API_KEY, QATECH_API_KEY } from "../simulators/harness";
import { startFakeJira } from "../simulators/jira";
import { startFakeLinear } from "../simulators/linear";
import { startFakeQaTech } from "../simulators/qatech";

async function main() {
  const [qatech, linear, jira] = await Promise.all([
    startFakeQaTech({ apiKey: QATECH_API_KEY }),
    startFakeLinear({ apiKey: LINEAR_API_KEY }),
    startFakeJira({ email: JIRA_EMAIL, apiToken: JIRA_API_TOKEN }),
  ]);
  process.stdout.write(`${JSON.stringify({ qatech: qatech.url, linear: linear.url, jira: jira.url })}\n`);
  process.stdin.resume();
  process.stdin.on("end", async () => {
    await Promise.all([qatech.close(), linear.close(), jira.close()]);
    process.exit(0);
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
