import { SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { Trigger, WorkflowInput } from "../domain/ticket";
import { requireEnv } from "../platform/settings";

/**
 * Largest webhook body accepted: what the platform can deliver. Lambda takes a request of at most 6 MB,
 * and API Gateway base64-encodes bodies it does not treat as text (4 MiB becomes 5.3 MB, plus the event's
 * envelope). Linear and Jira send a few KB; a genuine delivery that is large (a huge description) is
 * handled, its fields cut (limits.ts). Anything larger is refused with 413 and logged as an error.
 */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Starts the run a trigger asks for: "started", or "duplicate" when that change was already handled. */
export type StartRun = (trigger: Trigger) => Promise<"started" | "duplicate">;

/** The execution input for a trigger: nothing time-dependent, so a redelivery maps to the same input. */
export function workflowInput(trigger: Trigger): WorkflowInput {
  const input: WorkflowInput = { runId: trigger.runId, ticket: trigger.ticket };
  if (trigger.followUp) input.followUp = trigger.followUp;
  return input;
}

/**
 * Starts runs as Step Functions executions named after the change (STATE_MACHINE_ARN). A name already
 * used (ExecutionAlreadyExists) means a redelivery of a change we already acted on.
 */
export function stepFunctionsStarter(env: NodeJS.ProcessEnv = process.env): StartRun {
  let client: SFNClient | undefined;
  return async (trigger) => {
    const stateMachineArn = requireEnv(env, "STATE_MACHINE_ARN");
    client ??= new SFNClient({});
    try {
      await client.send(
        new StartExecutionCommand({
          stateMachineArn,
          name: trigger.runId,
          input: JSON.stringify(workflowInput(trigger)),
        }),
      );
      return "started";
    } catch (error) {
      if (error instanceof Error && error.name === "ExecutionAlreadyExists") return "duplicate";
      throw error;
    }
  };
}

/** The raw body bytes, exactly as signed (API Gateway base64-encodes bodies it does not treat as text). */
export function rawBody(event: APIGatewayProxyEventV2): Buffer {
  if (event.body === undefined || event.body === null) return Buffer.alloc(0);
  return Buffer.from(event.body, event.isBase64Encoded ? "base64" : "utf8");
}

/** A request header by name, case-insensitively; API Gateway joins repeated headers with commas. */
export function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

/** A small JSON answer; webhook senders only read the status, people debugging read the rest. */
export function respond(
  statusCode: number,
  body: Record<string, unknown>,
): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}
