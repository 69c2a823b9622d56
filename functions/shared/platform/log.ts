import { Logger } from "@aws-lambda-powertools/logger";
import type { ConstructorOptions } from "@aws-lambda-powertools/logger/types";
import { redactSecrets } from "./redact";

/**
 * One logger for every function: Powertools for AWS Lambda's Logger (structured JSON lines, errors with
 * their stack and cause), with the service and the function on every line, and the run id on every line of
 * a run (`forRun`). Two things are ours: no credential this process holds reaches a line (fields may quote a
 * peer's answer), and the lines go to a sink that tests and the local runner can redirect.
 */
export type { Logger } from "@aws-lambda-powertools/logger";

type Sink = (line: string) => void;

let sink: Sink = (line) => process.stdout.write(`${line}\n`);

/** Redirects every logger's output (tests capture lines; the local runner may show them its own way). */
export function setLogSink(next: Sink): Sink {
  const previous = sink;
  sink = next;
  return previous;
}

/** Writes one line where log lines go (metrics in embedded metric format travel the same way). */
export function writeLine(line: string): void {
  sink(line);
}

class QaTicketLogger extends Logger {
  protected override printLog(_level: number, log: Parameters<Logger["printLog"]>[1]): void {
    sink(redactSecrets(JSON.stringify(log.getAttributes(), this.getJsonReplacer())));
  }

  protected override createLogger(options?: ConstructorOptions): Logger {
    return new QaTicketLogger(options);
  }
}

/** The logger of one function (or part of the local runner): `fn` on every line. */
export function functionLogger(fn: string): Logger {
  return new QaTicketLogger({ serviceName: "qa-ticket", persistentKeys: { fn } });
}

/**
 * A logger for one run's invocation: the run id on every line, set once when the invocation starts. A
 * child, not keys appended to the function's logger: the local runner runs many invocations at once.
 */
export function forRun(logger: Logger, runId: string): Logger {
  return logger.createChild({ persistentKeys: { runId } });
}
