import { handler } from "../../functions/poll-conversation";
import { firstPoll } from "../../functions/shared/poll-schedule";
import { QaTechClient } from "../../functions/shared/qatech";
import { pollScheduleSettings } from "../../functions/shared/settings";
import type { WorkflowState } from "../../functions/shared/workflow-state";
import { type FakeQaTech, type FakeQaTechOptions, startFakeQaTech } from "../fakes/qatech";

const KEY = "qa-test-key";

describe("poll-conversation", () => {
  let qa: FakeQaTech;
  const saved = { ...process.env };
  afterEach(async () => {
    process.env = { ...saved };
    await qa?.close();
  });

  /** The fake QA.tech and the environment the handler reads it from; inline waits shrunk 1000 times. */
  async function setUp(options: FakeQaTechOptions = {}) {
    qa = await startFakeQaTech({ apiKey: KEY, ...options });
    Object.assign(process.env, { QATECH_API_KEY: KEY, QATECH_API_URL: qa.url, WAIT_SCALE: "0.001" });
    delete process.env.QATECH_API_KEY_SECRET_ARN;
    delete process.env.QATECH_PROJECT_SHORT_ID;
    return new QaTechClient({ apiUrl: qa.url, apiKey: KEY });
  }

  /** The state the workflow hands the poll function after a start or a follow-up. */
  function stateFor(conversation: WorkflowState["conversation"]): WorkflowState {
    return {
      runId: "run-1",
      ticket: {
        tracker: "linear",
        id: "issue-1",
        key: "ENG-42",
        title: "Checkout",
        url: "https://linear.app/acme/issue/ENG-42",
        description: "",
      },
      conversation,
      poll: { ...firstPoll(pollScheduleSettings()), status: "pending" },
    };
  }

  it("keeps the time its follow-up showed in the state, for later reads that no longer reach it", async () => {
    const client = await setUp({ plan: (m) => (m === "And on mobile?" ? { status: "NEVER" } : {}) });
    const { id } = await client.startConversation("Create a test for ENG-42");
    const sent = await client.sendMessage(id, "And on mobile?");

    const out = await handler(stateFor(sent));

    const followUp = qa.conversations()[0].messages.find((m) => m.text === "And on mobile?");
    expect(out.poll?.status).toBe("pending");
    expect(out.conversation).toEqual({ ...sent, seenAt: followUp?.createdAt });
  });
});
