import {
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import type { Trigger, WorkflowInput } from "../domain/ticket";
import { requireEnv } from "../platform/settings";
import type { StopRuns } from "./handler";

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

/**
 * Stops running executions by name prefix (a Linear agent session's runs): ListExecutions has no name filter,
 * so the running ones are listed and filtered here. Stopped with error SessionStopped, so the history says why.
 */
export function stepFunctionsStopper(env: NodeJS.ProcessEnv = process.env): StopRuns {
  let client: SFNClient | undefined;
  return async (prefix, cause, accept = () => true) => {
    const stateMachineArn = requireEnv(env, "STATE_MACHINE_ARN");
    client ??= new SFNClient({});
    let stopped = 0;
    let nextToken: string | undefined;
    do {
      const page = await client.send(
        new ListExecutionsCommand({ stateMachineArn, statusFilter: "RUNNING", maxResults: 1000, nextToken }),
      );
      for (const execution of page.executions ?? []) {
        if (!execution.name?.startsWith(prefix) || !execution.executionArn || !accept(execution.name))
          continue;
        try {
          await client.send(
            new StopExecutionCommand({
              executionArn: execution.executionArn,
              error: "SessionStopped",
              cause,
            }),
          );
          stopped++;
        } catch (error) {
          // Ended on its own meanwhile: nothing left to stop.
          if (!(error instanceof Error && error.name === "ExecutionDoesNotExist")) throw error;
        }
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return stopped;
  };
}
