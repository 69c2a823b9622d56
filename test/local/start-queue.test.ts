import type { SQSEvent } from "aws-lambda";
import type { StartRequest, TaskResults } from "../../functions/start-conversation";
import { LocalStartQueue } from "../../local/start-queue";

/**
 * The local start queue answers SendTaskHeartbeat as Step Functions does
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskHeartbeat.html): fine while the
 * task waits, TaskTimedOut once its execution stopped or its TimeoutSeconds passed.
 */
describe("the local start queue's SendTaskHeartbeat", () => {
  const request = (token: string): StartRequest =>
    ({ taskToken: token, kind: "start", state: { runId: token } }) as unknown as StartRequest;

  /** A queue whose consumer only records the heartbeat's answer for each message, then reports success. */
  function queueWith(answers: string[], hold?: Promise<void>) {
    let results: TaskResults | undefined;
    const queue = new LocalStartQueue(0, (r) => {
      results = r;
      return async (event: SQSEvent) => {
        await hold;
        const { taskToken } = JSON.parse(event.Records[0].body) as StartRequest;
        try {
          await r.heartbeat(taskToken);
          answers.push("waiting");
          await r.succeed(taskToken, { runId: taskToken } as never);
        } catch (error) {
          answers.push((error as Error).name);
        }
      };
    });
    return { queue, results: () => results as TaskResults };
  }

  it("confirms a task that still waits, and the task ends with the consumer's output", async () => {
    const answers: string[] = [];
    const { queue } = queueWith(answers);
    await expect(queue.send(request("t-1"))).resolves.toEqual({ runId: "t-1" });
    expect(answers).toEqual(["waiting"]);
  });

  it("answers TaskTimedOut for the task of a stopped execution, and the message is consumed without effect", async () => {
    const answers: string[] = [];
    let release = () => {};
    const { queue } = queueWith(answers, new Promise<void>((r) => (release = r)));
    const task = queue.send(request("t-2"));
    queue.forget("t-2"); // StopExecution
    release();
    await expect(task).rejects.toThrow();
    await queue.idle();
    expect(answers).toEqual(["TaskTimedOut"]);
  });

  it("ends a task with States.Timeout after its TimeoutSeconds; its token then answers TaskTimedOut", async () => {
    const answers: string[] = [];
    let release = () => {};
    const { queue } = queueWith(answers, new Promise<void>((r) => (release = r)));
    const task = queue.send(request("t-3"), 0.001);
    await expect(task).rejects.toMatchObject({ name: "States.Timeout" });
    release();
    await queue.idle();
    expect(answers).toEqual(["TaskTimedOut"]);
  });
});
