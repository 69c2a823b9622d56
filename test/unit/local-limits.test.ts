import "../../lib/local/polyfill";
import { StateMachine } from "aws-local-stepfunctions";
import { checkExecutionInput, withDataLimit } from "../../lib/local/tasks";

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
