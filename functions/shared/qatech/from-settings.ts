import { getSecret } from "../platform/secrets";
import { settings } from "../platform/settings";
import { QaTechClient, type QaTechClientOptions } from "./client";
import { QaTechRuns, type QaTechRunsOptions } from "./runs";

/** How long one request to QA.tech may take: well under any function's timeout, so a hung QA.tech is a retry. */
export const QATECH_TIMEOUT_MS = 10_000;

/**
 * A QA.tech client from the settings and the QATECH_API_KEY secret; client timeout well under the Lambda's.
 * `sleep` waits out a short Retry-After (tests pass a virtual clock's).
 */
export async function qatechClientFromSettings(
  options: Pick<QaTechClientOptions, "maxInlineRetryAfterSeconds" | "sleep" | "applicationOverrides"> = {},
): Promise<QaTechClient> {
  const { apiUrl, projectShortId, applicationOverrides } = settings().qatech;
  return new QaTechClient({
    apiUrl,
    projectShortId,
    applicationOverrides,
    apiKey: await getSecret("QATECH_API_KEY"),
    timeoutMs: QATECH_TIMEOUT_MS,
    ...options,
  });
}

/** A client of QA.tech's runs API from the same settings and secret as qatechClientFromSettings. */
export async function qatechRunsFromSettings(
  options: Pick<QaTechRunsOptions, "maxInlineRetryAfterSeconds" | "sleep"> = {},
): Promise<QaTechRuns> {
  const { apiUrl, projectShortId } = settings().qatech;
  return new QaTechRuns({
    apiUrl,
    projectShortId,
    apiKey: await getSecret("QATECH_API_KEY"),
    timeoutMs: QATECH_TIMEOUT_MS,
    ...options,
  });
}
