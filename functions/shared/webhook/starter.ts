import { SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import type { Trigger, WorkflowInput } from "../domain/ticket";
import { requireEnv } from "../platform/settings";

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
