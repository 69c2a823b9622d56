import { EventEmitter } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";

/** A failure a fake produces instead of (or after) its normal answer. */
export type Fault =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { reset: true }
  | { hang: true }
  | { malformed: true }
  | { afterCommit: Fault };

/** Which requests a queued fault applies to; unset fields match anything. */
export interface FaultRule {
  method?: string;
  path?: string | RegExp;
  /** GraphQL operation name (Linear only). */
  operation?: string;
  /** Which of the operation's requests, by their GraphQL variables (Linear only). */
  variables?: (variables: Record<string, unknown>) => boolean;
  fault: Fault;
  /** How many matching requests get the fault; default 1. */
  times?: number;
}

/** What a fake's handler wants to send: a status and a JSON body. */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** The parts of a request that fault rules match on. */
export interface RequestKey {
  method: string;
  path: string;
  operation?: string;
  variables?: Record<string, unknown>;
}

/** FIFO of fault rules; each request consumes the first rule that matches it. */
export class FaultQueue {
  private readonly rules: Array<{ rule: FaultRule; remaining: number }> = [];

  add(rule: FaultRule): void {
    this.rules.push({ rule, remaining: rule.times ?? 1 });
  }

  take(key: RequestKey): Fault | undefined {
    const index = this.rules.findIndex(({ rule }) => matches(rule, key));
    if (index < 0) return undefined;
    const entry = this.rules[index];
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.rules.splice(index, 1);
    return entry.rule.fault;
  }
}

function matches(rule: FaultRule, key: RequestKey): boolean {
  if (rule.method && rule.method.toUpperCase() !== key.method.toUpperCase()) return false;
  if (typeof rule.path === "string" && rule.path !== key.path) return false;
  if (rule.path instanceof RegExp && !rule.path.test(key.path)) return false;
  if (rule.operation !== undefined && rule.operation !== key.operation) return false;
  if (rule.variables && !rule.variables(key.variables ?? {})) return false;
  return true;
}

/**
 * Emits "handled" each time a fake has dealt with a request (answered it, failed it, or left it hanging),
 * so tests await a simulator's state instead of polling for it (test/support/wait-for.ts).
 */
export const simulatorEvents = new EventEmitter();
simulatorEvents.setMaxListeners(0);

/** A listening fake: its base url and a close that also ends hung requests. */
export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Starts an HTTP server on 127.0.0.1 with an OS-chosen port. A handler that throws answers 500, so a bug in
 * a fake shows up as a failed request instead of a hung test.
 */
export async function startServer(
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>,
): Promise<RunningServer> {
  const server = http.createServer((req, res) => {
    handler(req, res)
      .catch((error: unknown) => {
        if (!res.headersSent)
          sendJson(res, { status: 500, body: { message: `fake crashed: ${String(error)}` } });
      })
      .finally(() => simulatorEvents.emit("handled"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Also destroys sockets of hung requests and clients' keep-alive connections, so close() is prompt.
        server.closeAllConnections();
      }),
  };
}

/** Reads the whole request body as text. */
export async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Parses JSON, returning the raw text when it is not JSON (so recorded requests still show it). */
export function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Sends a reply as JSON. */
export function sendJson(res: http.ServerResponse, reply: Reply): void {
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...reply.headers,
  });
  res.end(text);
}

/**
 * Answers a request: normally with commit()'s reply; with a fault, by failing instead, or (afterCommit)
 * by running commit() for its side effects and then failing, like a response lost after the write.
 * faultBody supplies the body of a status fault that has none.
 */
export function answer(
  res: http.ServerResponse,
  fault: Fault | undefined,
  commit: () => Reply,
  faultBody: (status: number) => unknown,
): void {
  if (!fault) {
    sendJson(res, commit());
  } else if ("afterCommit" in fault) {
    commit();
    answer(res, fault.afterCommit, () => ({ status: 204, body: null }), faultBody);
  } else if ("reset" in fault) {
    res.socket?.destroy();
  } else if ("malformed" in fault) {
    res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
    res.end('{"truncated": <html>upstream hiccup');
  } else if ("status" in fault) {
    sendJson(res, {
      status: fault.status,
      body: fault.body ?? faultBody(fault.status),
      headers: fault.headers,
    });
  }
  // { hang: true }: never answer; close() destroys the socket.
  simulatorEvents.emit("handled");
}
