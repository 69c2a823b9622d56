/**
 * Named errors. Task handlers throw them and Step Functions' Retry/Catch match on `name`, which is
 * the Lambda `errorType`; the names are set explicitly so minification cannot change them.
 */

/** Configuration is missing or wrong; the message names the setting to fix. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** A peer failed in a way worth retrying (5xx, 408, 429, network, timeout). */
export class TransientError extends Error {
  override name = "TransientError";
  /** Seconds the peer asked us to wait (Retry-After), when it said. */
  readonly retryAfterSeconds?: number;
  constructor(message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(message, { cause: options?.cause });
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

/** A peer refused for good (400, 401, 402, 403, 404): retrying would not help; tell the ticket. */
export class PermanentError extends Error {
  override name = "PermanentError";
  readonly status?: number;
  constructor(message: string, options?: { cause?: unknown; status?: number }) {
    super(message, { cause: options?.cause });
    this.status = options?.status;
  }
}

/**
 * The person in a Linear agent session asked the agent to stop: the run ends quietly and posts nothing more
 * (the stop's own answer was posted by the webhook). The state machine ends such a run in its Stopped state.
 */
export class SessionStopped extends Error {
  override name = "SessionStopped";
}

/** The error names the state machine retries; kept here so the definition and handlers agree. */
export const RETRYABLE_ERRORS = ["TransientError"] as const;

/** A webhook body that is JSON but not the shape the tracker sends: answered with 400. */
export class PayloadError extends Error {
  override name = "PayloadError";
}
