import { capText, PEER_TEXT_MAX_BYTES } from "../domain/limits";
import { PermanentError, TransientError } from "./errors";
import { redactSecrets } from "./redact";

/** Statuses that are worth another try; everything else 4xx is permanent. */
const TRANSIENT_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** JSON-serialised when given. */
  json?: unknown;
  /** Client timeout in ms, well under the Lambda timeout so a hung peer becomes a retry, not a dead Lambda. */
  timeoutMs?: number;
  /** Names the peer in error messages ("QA.tech", "Jira"). */
  peer: string;
  /**
   * A Retry-After up to this many seconds is waited out and the request sent once more, inside the call;
   * a longer one is left to the state machine's Retry. Default 10; below 0, nothing is sent again inside
   * the call, not even on a Retry-After of 0.
   */
  maxInlineRetryAfterSeconds?: number;
  /** How a Retry-After is waited out (default: a timer); tests pass one that records the delay instead. */
  sleep?: (ms: number) => Promise<void>;
}

/** Waits `ms` on a timer. */
const sleepFor = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface JsonResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** Parses Retry-After (seconds or an HTTP date) into whole seconds, or undefined. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  // Only an HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT"); Date.parse alone would read "-5" as a year.
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/** What a peer said about its refusal, without our credentials and within its budget: it is shown on tickets. */
function peerMessage(text: string): string {
  return capText(redactSecrets(peerText(text)), PEER_TEXT_MAX_BYTES, " [cut]");
}

function peerText(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown; errorMessages?: unknown; errors?: unknown };
    if (typeof parsed.message === "string") return parsed.message;
    // Jira: errorMessages for the request, errors for individual fields.
    const fieldErrors =
      parsed.errors && typeof parsed.errors === "object" ? Object.values(parsed.errors) : [];
    const all = [...(Array.isArray(parsed.errorMessages) ? parsed.errorMessages : []), ...fieldErrors];
    if (all.length) return all.join("; ");
  } catch {
    // not JSON: fall through to the raw text
  }
  return text;
}

/**
 * Sends an HTTP request and returns the parsed JSON body of a 2xx answer. Throws TransientError for
 * network failures, timeouts, 408/425/429/5xx and unparseable 2xx bodies, PermanentError for other 4xx.
 * Honours a short Retry-After once (see maxInlineRetryAfterSeconds).
 */
export async function requestJson<T>(url: string, options: RequestOptions): Promise<JsonResponse<T>> {
  try {
    return await requestOnce<T>(url, options);
  } catch (error) {
    const wait = error instanceof TransientError ? error.retryAfterSeconds : undefined;
    if (wait === undefined || wait > (options.maxInlineRetryAfterSeconds ?? 10)) throw error;
    await (options.sleep ?? sleepFor)(wait * 1000);
    return requestOnce<T>(url, options);
  }
}

async function requestOnce<T>(url: string, options: RequestOptions): Promise<JsonResponse<T>> {
  const { peer, timeoutMs = 10_000 } = options;
  const headers: Record<string, string> = { accept: "application/json", ...options.headers };
  let body: string | undefined;
  if (options.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.json);
  }
  const method = options.method ?? (body ? "POST" : "GET");
  const where = `${method} ${new URL(url).pathname}`;
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
    text = await response.text();
  } catch (cause) {
    // By name, not `instanceof Error`: the abort's DOMException may come from another realm (a vm context).
    const name = (cause as { name?: unknown } | null)?.name;
    const timedOut = name === "TimeoutError" || name === "AbortError";
    const what = timedOut ? `did not answer within ${timeoutMs} ms` : "could not be reached";
    throw new TransientError(`${peer} ${what} (${where})`, { cause });
  }
  if (response.status >= 200 && response.status < 300) {
    if (text === "") return { status: response.status, headers: response.headers, body: undefined as T };
    try {
      return { status: response.status, headers: response.headers, body: JSON.parse(text) as T };
    } catch (cause) {
      throw new TransientError(
        `${peer} answered ${response.status} with a body that is not JSON (${where})`,
        {
          cause,
        },
      );
    }
  }
  const detail = `${peer} answered ${response.status} to ${where}: ${peerMessage(text)}`;
  if (TRANSIENT_STATUSES.has(response.status) || response.status >= 500) {
    throw new TransientError(detail, {
      retryAfterSeconds: parseRetryAfter(response.headers.get("retry-after")),
    });
  }
  throw new PermanentError(detail, { status: response.status });
}
