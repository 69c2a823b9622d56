import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
} from "@aws-sdk/client-sfn";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { requireEnv } from "../shared/platform/settings";
import type { TaskResults } from "./consumer";

/**
 * Reports to Step Functions (SendTaskSuccess / SendTaskFailure) and postpones through SQS (START_QUEUE_URL);
 * the clients are reused across invocations.
 */
export function awsTaskResults(env: NodeJS.ProcessEnv = process.env): TaskResults {
  let client: SFNClient | undefined;
  let queue: SQSClient | undefined;
  const sfn = () => {
    client ??= new SFNClient({});
    return client;
  };
  return {
    async postpone(request, delaySeconds) {
      queue ??= new SQSClient({});
      await queue.send(
        new SendMessageCommand({
          QueueUrl: requireEnv(env, "START_QUEUE_URL"),
          MessageBody: JSON.stringify(request),
          DelaySeconds: delaySeconds,
        }),
      );
    },
    async succeed(taskToken, output) {
      await sfn().send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
    },
    async heartbeat(taskToken) {
      await sfn().send(new SendTaskHeartbeatCommand({ taskToken }));
    },
    async fail(taskToken, error, cause) {
      await sfn().send(
        new SendTaskFailureCommand({ taskToken, error: error.slice(0, 256), cause: cause.slice(0, 32_768) }),
      );
    },
  };
}
