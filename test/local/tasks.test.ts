import "../../local/polyfill";
import { StateMachine } from "aws-local-stepfunctions";
import { POLL_TIMEOUT_SECONDS } from "../../functions/poll-conversation/timeout";
import { checkExecutionInput, withDataLimit } from "../../local/tasks";

/** A Task whose errors a catch-all Catch sends to "Caught". */
const definition = {
  StartAt: "Work",
  States: {
    Work: {
      Type: "Task",
      Resource: "arn:aws:lambda:us-east-1:123456789012:function:work",
      Catch: [{ ErrorEquals: ["States.ALL"], Next: "Caught" }],
      End: true,
    },
    Caught: { Type: "Pass", End: true },
  },
};

async function runWith(output: unknown) {
  const machine = new StateMachine(definition as never);
  const execution = machine.run({ ticket: "small" } as never, {
    overrides: { taskResourceLocalHandlers: { Work: withDataLimit("Work", async () => output) } } as never,
  });
  const events: Array<{ type: string; state?: { name: string }; Error?: string }> = [];
  const collect = (async () => {
    for await (const event of execution.eventLogs) events.push(event as (typeof events)[number]);
  })();
  const result = await execution.result.then(
    (value) => ({ value }),
    (error: Error) => ({ error }),
  );
  await collect;
  return { result, events };
}

describe("the local runner's Step Functions data limits", () => {
  it("fails the execution with States.DataLimitExceeded when a state passes 256 KiB, past any Catch", async () => {
    const { result, events } = await runWith({ reply: "\u0000".repeat(50_000) });

    expect("error" in result).toBe(true);
    const failed = events.find((e) => e.type === "ExecutionFailed");
    expect(failed?.Error).toBe("States.DataLimitExceeded");
    expect(events.some((e) => e.type === "StateEntered" && e.state?.name === "Caught")).toBe(false);
  });

  it("lets a state just under the limit through", async () => {
    const { result } = await runWith({ reply: "x".repeat(200_000) });

    expect(result).toEqual({ value: { reply: "x".repeat(200_000) } });
  });

  it("refuses an execution input over 256 KiB of JSON as StartExecution does, counting a NUL as 6 bytes", () => {
    expect(() => checkExecutionInput({ ticket: "\u0000".repeat(45_000) })).toThrow(
      expect.objectContaining({ name: "ValidationException" }),
    );
    expect(() => checkExecutionInput({ ticket: "x".repeat(200_000) })).not.toThrow();
  });
});

describe("the local runner's Lambda contexts", () => {
  it("gives the poll function the time its Lambda timeout gives it, counting down", async () => {
    // The invocation's clock is Date.now(): driven by hand here, so the test neither waits nor depends on speed.
    let now = Date.parse("2026-12-01T10:00:00.000Z");
    const clock = jest.spyOn(Date, "now").mockImplementation(() => now);
    let remaining: number[] = [];
    let run: Promise<unknown> | undefined;
    jest.isolateModules(() => {
      jest.doMock("../../functions/poll-conversation", () => ({
        handler: async (_: unknown, context: { getRemainingTimeInMillis(): number }) => {
          remaining = [context.getRemainingTimeInMillis()];
          now += 50;
          remaining.push(context.getRemainingTimeInMillis());
          return {};
        },
      }));
      const { localTasks } = require("../../local/tasks") as typeof import("../../local/tasks");
      const { renderWorkflowDefinition } =
        require("../../local/definition") as typeof import("../../local/definition");
      const tasks = localTasks(renderWorkflowDefinition(3600), {} as never);
      run = tasks.PollConversation({});
    });
    try {
      await run;
    } finally {
      clock.mockRestore();
    }

    expect(remaining).toEqual([POLL_TIMEOUT_SECONDS * 1000, POLL_TIMEOUT_SECONDS * 1000 - 50]);
  });
});
