import "./polyfill";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { StateMachine } from "aws-local-stepfunctions";
import { createWebhook as jiraWebhook } from "../functions/jira-webhook";
import { createWebhook as linearAgentWebhook } from "../functions/linear-agent-webhook";
import { handler as linearInstall } from "../functions/linear-install";
import { createWebhook as linearWebhook } from "../functions/linear-webhook";
import type { TrackerName, WorkflowInput } from "../functions/shared/domain/ticket";
import type { WorkflowState } from "../functions/shared/domain/workflow-state";
import { forRun, functionLogger, type Logger } from "../functions/shared/platform/log";
import { pollSchedule, SETTINGS_VARIABLE } from "../functions/shared/platform/settings";
import { TRACKER_CATALOG } from "../functions/shared/trackers/catalog";
import type { WebhookEntry } from "../functions/shared/trackers/webhooks";
import type { StopRuns } from "../functions/shared/webhook/handler";
import type { StartRun } from "../functions/shared/webhook/starter";
import { workflowInput } from "../functions/shared/webhook/starter";
import { createStartConsumer } from "../functions/start-conversation";
import { renderWorkflowDefinition } from "./definition";
import { checkLocalEnv, localMarkerKey } from "./env";
import { readBody, send, toApiGatewayEvent } from "./http";
import { type MemoryTokenStore, useLocalAgentTokens } from "./linear-agent";
import { LocalStartQueue } from "./start-queue";
import { checkExecutionInput, localTasks, withDataLimit } from "./tasks";
import { timeScaler } from "./time-scale";

export { checkLocalEnv } from "./env";

/** Each tracker's webhook function (functions/<entry>/index.ts, TRACKER_CATALOG's webhookEntry), in process. */
const WEBHOOK_ENTRIES: Record<TrackerName, WebhookEntry["createWebhook"]> = {
  linear: linearWebhook,
  jira: jiraWebhook,
  "linear-agent": linearAgentWebhook,
};

/** The task token of an execution's queued task (one waits at a time per execution). */
function taskToken(executionName: string): string {
  return `local-token:${executionName}`;
}

/** An entry of an execution's event log (the library does not export the type). */
export type EventLog =
  ReturnType<StateMachine["run"]>["eventLogs"] extends AsyncGenerator<infer E> ? E : never;

/** The messages of an error's causes, outermost first ("fetch failed: connect ECONNREFUSED ..."), if any. */
export function causeChain(error: Error): string | undefined {
  const parts: string[] = [];
  let cause: unknown = error.cause;
  while (cause !== undefined && parts.length < 5) {
    // By shape, not instanceof: fetch's errors come from Node's own realm, which is not always ours.
    if (typeof cause === "object" && cause !== null && typeof (cause as Error).message === "string") {
      const { message, code } = cause as Error & { code?: unknown };
      parts.push(typeof code === "string" && !message.includes(code) ? `${message} (${code})` : message);
      cause = (cause as Error).cause;
    } else {
      parts.push(String(cause));
      cause = undefined;
    }
  }
  return parts.length ? parts.join(": ") : undefined;
}

/**
 * A failed state's Cause as text. The library hands over what the task threw, which may be an Error (of
 * Node's realm or ours): written as is, it would log as `{}` and hide what went wrong.
 */
export function causeText(cause: unknown): string | undefined {
  if (cause === undefined || cause === null) return undefined;
  if (typeof cause === "string") return cause;
  if (typeof cause === "object" && typeof (cause as Error).message === "string")
    return (cause as Error).message;
  return JSON.stringify(cause);
}

/**
 * What a failed step's log line says went wrong: the error's own message and every cause under it
 * ("QA.tech could not be reached (GET ...): fetch failed: connect ECONNREFUSED ..."), not just its name.
 */
function failureText(error: Error | undefined, cause: unknown): string | undefined {
  if (!error) return causeText(cause);
  return [error.message, causeChain(error)].filter(Boolean).join(": ");
}

/** One workflow execution on the local runner, like a Step Functions execution. */
export interface LocalExecution {
  name: string;
  input: WorkflowInput;
  status: "RUNNING" | "SUCCEEDED" | "FAILED" | "ABORTED";
  output?: WorkflowState;
  error?: { name: string; message: string };
  /** The execution's event log (state entered/exited/retried/caught...), as Step Functions keeps it. */
  events: EventLog[];
  startedAt: number;
  stoppedAt?: number;
  done: Promise<void>;
}

export interface LocalRunnerOptions {
  /** Environment the functions read, as they would in Lambda. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Default PORT or 3000; 0 picks a free port. */
  port?: number;
  log?: Logger;
}

export interface LocalRunner {
  /** Base URL, e.g. http://127.0.0.1:3000. */
  url: string;
  executions: Map<string, LocalExecution>;
  /** The Linear agent's token store, when the agent is on. */
  agentTokens?: MemoryTokenStore;
  /** Resolves when no execution is running and the start queue is empty. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Runs qa-ticket on one machine: serves the webhook routes on 127.0.0.1 and runs the deployed state
 * machine definition in-process with aws-local-stepfunctions, each Task running the Lambda's own handler.
 */
export async function startLocalRunner(options: LocalRunnerOptions = {}): Promise<LocalRunner> {
  const given = options.env ?? process.env;
  // What the stack would set: the settings as one value (from the runner's variables, checked up front) and
  // the marker key it generates (derived from the QA.tech key unless MARKER_KEY is set).
  const local = checkLocalEnv(given);
  const env: NodeJS.ProcessEnv = {
    ...given,
    MARKER_KEY: localMarkerKey(given),
    [SETTINGS_VARIABLE]: JSON.stringify(local.settings),
  };
  // The handlers read process.env, as in Lambda: make the runner's environment theirs until it closes.
  const previous = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const restoreEnv = () => {
    for (const [k, v] of Object.entries(previous)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  Object.assign(process.env, env);
  const { settings, trackers, waitScale } = local;
  const log = options.log ?? functionLogger("local-runner");
  const definition = renderWorkflowDefinition(pollSchedule(settings).replyTimeoutSeconds);
  const machine = new StateMachine(definition as never);
  // The start queue and its consumer, bounded as the stack bounds the queue's event source.
  const queue = new LocalStartQueue(settings.qatech.maxConcurrency, (results) =>
    createStartConsumer(results, {
      ...process.env,
      START_DEAD_LETTER_QUEUE_ARN: LocalStartQueue.deadLetterArn,
    }),
  );
  const tasks = localTasks(definition, queue);
  const executions = new Map<string, LocalExecution>();
  // Closing the runner stops what still runs, as StopExecution would, so nothing outlives it.
  const aborts = new Set<() => void>();
  // StopExecution by name: a stopped execution ends ABORTED, as in Step Functions.
  const abortByName = new Map<string, () => void>();
  const stopped = new Set<string>();
  let closing = false;

  const run = (name: string, input: WorkflowInput): LocalExecution => {
    const scaler = timeScaler(definition, waitScale);
    const runLog = forRun(log, name);
    // What each task last threw: the library's Cause keeps only the error's `cause` (or its message).
    const thrown = new Map<string, Error>();
    const taskResourceLocalHandlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [stateName, task] of Object.entries(tasks)) {
      const limited = withDataLimit(stateName, task);
      taskResourceLocalHandlers[stateName] = async (stateInput) => {
        try {
          const output = await limited(stateInput);
          scaler.succeeded(stateName, output);
          return output;
        } catch (error) {
          scaler.failed(stateName, error);
          if (typeof error === "object" && error !== null) thrown.set(stateName, error as Error);
          throw error;
        }
      };
    }
    const record: LocalExecution = {
      name,
      input,
      status: "RUNNING",
      events: [],
      startedAt: Date.now(),
      done: Promise.resolve(),
    };
    // Like StartExecution, starting only schedules the run: the webhook answers before the first state.
    record.done = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      if (closing || stopped.has(name)) {
        record.status = "ABORTED";
        return;
      }
      const execution = machine.run(input as never, {
        overrides: { taskResourceLocalHandlers, ...scaler.overrides } as never,
        // The task token a queued task hands to the queue (one task waits at a time per execution).
        context: { Execution: { Name: name, Id: `local:${name}` }, Task: { Token: taskToken(name) } },
        noThrowOnAbort: true,
      });
      aborts.add(execution.abort);
      abortByName.set(name, execution.abort);
      const collect = (async () => {
        for await (const event of execution.eventLogs) {
          record.events.push(event);
          if ("state" in event && event.type !== "StateEntered") {
            const fields: Record<string, unknown> = { state: event.state.name, event: event.type };
            if ("Error" in event) fields.error = event.Error;
            if ("Cause" in event && event.type === "StateFailed")
              fields.cause = failureText(thrown.get(event.state.name), event.Cause);
            runLog.info("step", fields);
          }
        }
      })();
      try {
        const output = await execution.result;
        record.output = output as unknown as WorkflowState;
        record.status = output === null && (closing || stopped.has(name)) ? "ABORTED" : "SUCCEEDED";
      } catch (error) {
        record.status = "FAILED";
        record.error = { name: (error as Error).name, message: (error as Error).message };
      }
      aborts.delete(execution.abort);
      abortByName.delete(name);
      // Ended, however it ended: no task of it waits any more.
      queue.forget(taskToken(name));
      await collect;
      // Report the error as Step Functions does: the Fail state's Error and Cause, not the library's wrapper.
      const failed = record.events.find((e) => e.type === "ExecutionFailed");
      if (failed && "Error" in failed)
        record.error = { name: failed.Error, message: causeText(failed.Cause) ?? "" };
      record.stoppedAt = Date.now();
      runLog.info("execution finished", { status: record.status, error: record.error?.message });
    });
    return record;
  };

  // StartExecution's rules: the input is at most 256 KiB of JSON; a name is used once; a second start with
  // the same name and input while the first runs returns it, anything else is ExecutionAlreadyExists.
  const startRun: StartRun = async (trigger) => {
    const input = workflowInput(trigger);
    checkExecutionInput(input);
    const existing = executions.get(trigger.runId);
    if (existing) {
      const same = existing.status === "RUNNING" && JSON.stringify(existing.input) === JSON.stringify(input);
      return same ? "started" : "duplicate";
    }
    executions.set(trigger.runId, run(trigger.runId, input));
    return "started";
  };

  // StopExecution for each running execution whose name starts with the prefix (a Linear agent's stop).
  const stopRuns: StopRuns = async (prefix, _cause, accept = () => true) => {
    let count = 0;
    for (const [name, record] of executions) {
      if (!name.startsWith(prefix) || record.status !== "RUNNING" || !accept(name)) continue;
      stopped.add(name);
      // Its waiting task ends with it: the start queue's consumer then hears TaskTimedOut for its token.
      queue.forget(taskToken(name));
      const abort = abortByName.get(name);
      if (abort) abort();
      else record.status = "ABORTED"; // scheduled, not yet running: it never runs (see run)
      count++;
    }
    return count;
  };

  // Routes by method and path, as the HTTP API's routes are.
  const routes: Record<
    string,
    (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>
  > = {};
  for (const tracker of trackers)
    routes[`POST ${TRACKER_CATALOG[tracker].webhookPath}`] = WEBHOOK_ENTRIES[tracker](
      startRun,
      process.env,
      stopRuns,
    );
  // The Linear agent: its install pages and its tokens
  const agent = trackers.includes("linear-agent") ? useLocalAgentTokens(env) : undefined;
  if (agent) {
    routes["GET /linear/install"] = linearInstall;
    routes["GET /linear/callback"] = linearInstall;
  }

  const server: Server = createServer(async (req, res) => {
    try {
      const path = (req.url ?? "/").split("?")[0];
      const route = routes[`${req.method} ${path}`];
      if (!route) {
        const known = Object.keys(routes).some((key) => key.endsWith(` ${path}`));
        return known
          ? send(res, { statusCode: 405, body: '{"outcome":"method not allowed"}' })
          : send(res, { statusCode: 404, body: '{"outcome":"no such route"}' });
      }
      const body = await readBody(req);
      if (!body) {
        res.setHeader("connection", "close");
        return send(res, { statusCode: 413, body: '{"outcome":"too large"}' });
      }
      send(res, await route(toApiGatewayEvent(req, body)));
    } catch (error) {
      log.error("request failed", { error });
      if (!res.headersSent) send(res, { statusCode: 500, body: '{"outcome":"error"}' });
    }
  });
  const port = options.port ?? Number(env.PORT ?? 3000);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  log.info("local runner listening", { url, routes: Object.keys(routes), waitScale });

  return {
    url,
    executions,
    agentTokens: agent?.store,
    async settled() {
      for (;;) {
        const running = [...executions.values()].filter((e) => e.status === "RUNNING");
        // The start queue too: a stopped run's message is still delivered (and must be dropped).
        if (running.length === 0 && queue.depth === 0 && queue.busy === 0) return;
        await Promise.all([...running.map((e) => e.done), queue.idle()]);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        queue.clear();
        for (const abort of aborts) abort();
        server.closeAllConnections();
        server.close(() => {
          agent?.close();
          restoreEnv();
          resolve();
        });
      }),
  };
}
