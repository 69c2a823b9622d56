import "./polyfill";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { StateMachine } from "aws-local-stepfunctions";
import { createJiraWebhookHandler } from "../../functions/jira-webhook";
import { createLinearWebhookHandler } from "../../functions/linear-webhook";
import { handler as pollConversation } from "../../functions/poll-conversation";
import { handler as postComment } from "../../functions/post-comment";
import { handler as resolveThread } from "../../functions/resolve-thread";
import { ConfigError } from "../../functions/shared/errors";
import { createLogger, type Logger } from "../../functions/shared/log";
import { jiraSettings, pollScheduleSettings, qatechSettings } from "../../functions/shared/settings";
import type { TrackerName, WorkflowInput } from "../../functions/shared/ticket";
import type { StartRun } from "../../functions/shared/webhook";
import { MAX_BODY_BYTES, workflowInput } from "../../functions/shared/webhook";
import type { WorkflowState } from "../../functions/shared/workflow-state";
import { handler as startConversation } from "../../functions/start-conversation";
import { THROTTLED } from "../workflow";
import { renderWorkflowDefinition, type StateMachineDefinition } from "./definition";

/** An entry of an execution's event log (the library does not export the type). */
export type EventLog =
  ReturnType<StateMachine["run"]>["eventLogs"] extends AsyncGenerator<infer E> ? E : never;

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
  /** Resolves when no execution is running. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

type TaskHandler = (state: WorkflowState) => Promise<WorkflowState>;

/** The Task states of the definition and the Lambda handler each one invokes. */
const TASK_HANDLERS: Record<string, { fn: string; handler: TaskHandler }> = {
  StartConversation: { fn: "start-conversation", handler: startConversation },
  PollConversation: { fn: "poll-conversation", handler: pollConversation },
  PostAcknowledgement: { fn: "post-comment", handler: postComment },
  ResolveThread: { fn: "resolve-thread", handler: resolveThread },
  SendFollowUp: { fn: "start-conversation", handler: startConversation },
  PostReply: { fn: "post-comment", handler: postComment },
  PostFailure: { fn: "post-comment", handler: postComment },
};

/** The function whose reserved concurrency bounds the conversations started (config qatech.maxConcurrency). */
const BOUNDED_FUNCTIONS = ["start-conversation"];

/** What Lambda answers an invocation of a function already at its reserved concurrency. */
class ThrottledError extends Error {
  override name = THROTTLED;
}

/** The variables each tracker needs on the local runner; a tracker is on when any of its variables is set. */
const TRACKER_VARIABLES: Record<TrackerName, string[]> = {
  linear: ["LINEAR_API_KEY", "LINEAR_WEBHOOK_SECRET"],
  jira: ["JIRA_BASE_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_WEBHOOK_SECRET"],
};

export interface LocalSettings {
  trackers: TrackerName[];
  /** QATECH_MAX_CONCURRENCY: conversations being started at once, as the stack reserves; 0 = no bound. */
  maxConcurrency: number;
  waitScale: number;
  replyTimeoutSeconds: number;
}

/** Checks the local runner's variables up front, so a missing one is named at start, not mid-run. */
export function checkLocalEnv(env: NodeJS.ProcessEnv): LocalSettings {
  const set = (name: string) => Boolean(env[name]?.trim());
  const trackers = (Object.keys(TRACKER_VARIABLES) as TrackerName[]).filter((t) =>
    TRACKER_VARIABLES[t].some(set),
  );
  const needed: TrackerName[] = trackers.length ? trackers : ["linear"];
  const missing = ["QATECH_API_KEY", ...needed.flatMap((t) => TRACKER_VARIABLES[t])].filter(
    (name) => !set(name),
  );
  if (missing.length) {
    const them = missing.length > 1 ? "them" : "it";
    throw new ConfigError(`Missing ${missing.join(", ")}: set ${them} in the environment or .env`);
  }
  qatechSettings(env);
  if (trackers.includes("jira")) jiraSettings(env);
  const waitScale = Number(env.WAIT_SCALE ?? "1");
  if (!Number.isFinite(waitScale) || waitScale <= 0 || waitScale > 1) {
    throw new ConfigError(`WAIT_SCALE must be a number above 0 and at most 1, got "${env.WAIT_SCALE}"`);
  }
  const maxConcurrency = Number(env.QATECH_MAX_CONCURRENCY ?? "4");
  if (!Number.isInteger(maxConcurrency) || maxConcurrency < 0) {
    throw new ConfigError(
      `QATECH_MAX_CONCURRENCY must be a whole number (0 = no bound), got "${env.QATECH_MAX_CONCURRENCY}"`,
    );
  }
  return {
    trackers,
    waitScale,
    maxConcurrency,
    replyTimeoutSeconds: pollScheduleSettings(env).replyTimeoutSeconds,
  };
}

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: string;
}

/**
 * Scales the execution's pauses by WAIT_SCALE. aws-local-stepfunctions reads its wait and retry overrides
 * each time a Wait or Retry happens, so setting them after each Task reproduces the deployed schedule,
 * backoff and jitter included, only faster.
 */
function timeScaler(definition: StateMachineDefinition, scale: number) {
  const waitTimeOverrides: Record<string, number> = {};
  const retryIntervalOverrides: Record<string, number[]> = {};
  const attempts = new Map<string, number[]>();
  return {
    overrides: scale === 1 ? {} : { waitTimeOverrides, retryIntervalOverrides },
    succeeded(stateName: string, output: WorkflowState) {
      attempts.delete(stateName);
      if (output.poll) waitTimeOverrides.WaitForReply = output.poll.waitSeconds * 1000 * scale;
    },
    failed(stateName: string, error: unknown) {
      const retriers = (definition.States[stateName]?.Retry ?? []) as Retrier[];
      const name = error instanceof Error ? error.name : "Error";
      const i = retriers.findIndex(
        (r) => r.ErrorEquals.includes(name) || r.ErrorEquals.includes("States.ALL"),
      );
      if (i === -1) return;
      const counts = attempts.get(stateName) ?? retriers.map(() => 0);
      const r = retriers[i];
      const base = (r.IntervalSeconds ?? 1) * (r.BackoffRate ?? 2) ** counts[i];
      let seconds = Math.min(base, r.MaxDelaySeconds ?? Number.POSITIVE_INFINITY);
      if (r.JitterStrategy === "FULL") seconds *= Math.random();
      counts[i]++;
      attempts.set(stateName, counts);
      retryIntervalOverrides[stateName] = retriers.map((_, j) => (j === i ? seconds * 1000 * scale : -1));
    },
  };
}

/** The request body, or null once it passes MAX_BODY_BYTES (the rest is not buffered). */
function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners("data");
        req.resume();
        resolve(null);
      } else chunks.push(chunk);
    });
    req.once("end", () => resolve(size > MAX_BODY_BYTES ? null : Buffer.concat(chunks, size)));
    req.once("error", reject);
  });
}

/** The API Gateway (HTTP API, payload 2.0) event for a request, as the deployed endpoint hands it over. */
function toApiGatewayEvent(req: IncomingMessage, body: Buffer): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(",") : value;
  }
  const url = new URL(req.url ?? "/", "http://localhost");
  return {
    version: "2.0",
    routeKey: `${req.method} ${url.pathname}`,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    requestContext: { http: { method: req.method ?? "", path: url.pathname } },
    body: body.toString("base64"),
    isBase64Encoded: true,
  } as unknown as APIGatewayProxyEventV2;
}

function send(res: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
  res.end(result.body ?? "");
}

/**
 * Runs qa-ticket on one machine: serves the webhook routes on 127.0.0.1 and runs the deployed state
 * machine definition in-process with aws-local-stepfunctions, each Task running the Lambda's own handler.
 */
export async function startLocalRunner(options: LocalRunnerOptions = {}): Promise<LocalRunner> {
  const env = options.env ?? process.env;
  // The handlers read process.env, as in Lambda: make the runner's environment theirs until it closes.
  const previous = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const restoreEnv = () => {
    for (const [k, v] of Object.entries(previous)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  if (env !== process.env) Object.assign(process.env, env);
  let settings: LocalSettings;
  try {
    settings = checkLocalEnv(process.env);
  } catch (error) {
    restoreEnv();
    throw error;
  }
  const { trackers, waitScale, replyTimeoutSeconds, maxConcurrency } = settings;
  const log = options.log ?? createLogger({ service: "qa-ticket", fn: "local-runner" });
  const definition = renderWorkflowDefinition(replyTimeoutSeconds);
  const machine = new StateMachine(definition as never);
  const executions = new Map<string, LocalExecution>();
  // Closing the runner stops what still runs, as StopExecution would, so nothing outlives it.
  const aborts = new Set<() => void>();
  let closing = false;
  // Reserved concurrency, as Lambda enforces it: an invocation over the limit fails at once, throttled.
  const inFlight = new Map<string, number>();
  const concurrencyLimits: Record<string, number> = {};
  if (maxConcurrency > 0) for (const fn of BOUNDED_FUNCTIONS) concurrencyLimits[fn] = maxConcurrency;

  const run = (name: string, input: WorkflowInput): LocalExecution => {
    const scaler = timeScaler(definition, waitScale);
    const taskResourceLocalHandlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [stateName, { fn, handler }] of Object.entries(TASK_HANDLERS)) {
      taskResourceLocalHandlers[stateName] = async (stateInput) => {
        const running = inFlight.get(fn) ?? 0;
        try {
          if (running >= (concurrencyLimits[fn] ?? Number.POSITIVE_INFINITY)) {
            throw new ThrottledError("Rate Exceeded.");
          }
          inFlight.set(fn, running + 1);
          const output = await handler(stateInput as WorkflowState).finally(() =>
            inFlight.set(fn, (inFlight.get(fn) ?? 1) - 1),
          );
          scaler.succeeded(stateName, output);
          return output;
        } catch (error) {
          scaler.failed(stateName, error);
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
    const runLog = log.child({ runId: name });
    // Like StartExecution, starting only schedules the run: the webhook answers before the first state.
    record.done = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      if (closing) {
        record.status = "ABORTED";
        return;
      }
      const execution = machine.run(input as never, {
        overrides: { taskResourceLocalHandlers, ...scaler.overrides } as never,
        context: { Execution: { Name: name, Id: `local:${name}` } },
        noThrowOnAbort: true,
      });
      aborts.add(execution.abort);
      const collect = (async () => {
        for await (const event of execution.eventLogs) {
          record.events.push(event);
          if ("state" in event && event.type !== "StateEntered") {
            const fields: Record<string, unknown> = { state: event.state.name, event: event.type };
            if ("Error" in event) fields.error = event.Error;
            runLog.info("step", fields);
          }
        }
      })();
      try {
        const output = await execution.result;
        record.output = output as unknown as WorkflowState;
        record.status = output === null && closing ? "ABORTED" : "SUCCEEDED";
      } catch (error) {
        record.status = "FAILED";
        record.error = { name: (error as Error).name, message: (error as Error).message };
      }
      aborts.delete(execution.abort);
      await collect;
      // Report the error as Step Functions does: the Fail state's Error and Cause, not the library's wrapper.
      const failed = record.events.find((e) => e.type === "ExecutionFailed");
      if (failed && "Error" in failed)
        record.error = { name: failed.Error, message: String(failed.Cause ?? "") };
      record.stoppedAt = Date.now();
      runLog.info("execution finished", { status: record.status, error: record.error?.message });
    });
    return record;
  };

  // StartExecution's naming rules: a name is used once; a second start with the same name and input while
  // the first runs returns it, anything else is ExecutionAlreadyExists.
  const startRun: StartRun = async (trigger) => {
    const input = workflowInput(trigger);
    const existing = executions.get(trigger.runId);
    if (existing) {
      const same = existing.status === "RUNNING" && JSON.stringify(existing.input) === JSON.stringify(input);
      return same ? "started" : "duplicate";
    }
    executions.set(trigger.runId, run(trigger.runId, input));
    return "started";
  };

  const webhooks = { linear: createLinearWebhookHandler, jira: createJiraWebhookHandler };
  const routes: Record<
    string,
    (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>
  > = {};
  for (const tracker of trackers) routes[`/webhooks/${tracker}`] = webhooks[tracker](startRun);

  const server: Server = createServer(async (req, res) => {
    try {
      const path = (req.url ?? "/").split("?")[0];
      const route = routes[path];
      if (!route) return send(res, { statusCode: 404, body: '{"outcome":"no such route"}' });
      if (req.method !== "POST") return send(res, { statusCode: 405, body: '{"outcome":"use POST"}' });
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
    async settled() {
      for (;;) {
        const running = [...executions.values()].filter((e) => e.status === "RUNNING");
        if (running.length === 0) return;
        await Promise.all(running.map((e) => e.done));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        for (const abort of aborts) abort();
        server.closeAllConnections();
        server.close(() => {
          if (env !== process.env) restoreEnv();
          resolve();
        });
      }),
  };
}
