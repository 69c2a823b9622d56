/**
 * One logger for every function: JSON lines on stdout, one correlation key (the run id) per line of
 * a run. Callers pass facts, never secrets, signatures or webhook bodies.
 */
import { redactSecrets } from "./redact";

export type LogFields = Record<string, unknown>;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

type Sink = (line: string) => void;

let sink: Sink = (line) => process.stdout.write(`${line}\n`);

/** Redirects every logger's output (tests capture lines; the local runner may prefix them). */
export function setLogSink(next: Sink): Sink {
  const previous = sink;
  sink = next;
  return previous;
}

function errorFields(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

/** Creates a logger whose lines all carry `base`. */
export function createLogger(base: LogFields = {}): Logger {
  const write = (level: string, msg: string, fields?: LogFields) => {
    const line: LogFields = { level, time: new Date().toISOString(), msg, ...base };
    for (const [k, v] of Object.entries(fields ?? {})) line[k] = errorFields(v);
    // Fields may quote a peer's answer; no credential this process holds may reach a log line.
    sink(redactSecrets(JSON.stringify(line)));
  };
  return {
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
    child: (fields) => createLogger({ ...base, ...fields }),
  };
}

/** The process-wide root logger. */
export const log = createLogger({ service: "qa-ticket" });
