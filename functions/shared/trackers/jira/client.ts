import { PermanentError } from "../../platform/errors";
import { type RequestOptions, requestJson } from "../../platform/http";
import { registerSecret } from "../../platform/redact";
import { getSecret } from "../../platform/secrets";
import { settings } from "../../platform/settings";

/** How to reach one Jira Cloud site as the integration's account. */
export interface JiraAuth {
  /** The site (`https://acme.atlassian.net`) or `https://api.atlassian.com/ex/jira/{cloudId}`. */
  baseUrl: string;
  email: string;
  apiToken: string;
  /** Per request; default 10 s. */
  timeoutMs?: number;
  /** How a short Retry-After is waited out (see requestJson); tests pass one that records the delay. */
  sleep?: (ms: number) => Promise<void>;
}

/** How to reach Jira as the integration's account: jira.baseUrl and the JIRA_EMAIL / JIRA_API_TOKEN secrets. */
export async function jiraAuth(): Promise<JiraAuth> {
  const baseUrl = settings().jira.baseUrl;
  if (!baseUrl) throw new PermanentError("jira.baseUrl is not configured");
  const [email, apiToken] = await Promise.all([getSecret("JIRA_EMAIL"), getSecret("JIRA_API_TOKEN")]);
  return { baseUrl, email, apiToken };
}

/** One Jira call with Basic auth; requestJson maps errors and waits out a short Retry-After once. */
export async function jiraRequest<T>(
  auth: JiraAuth,
  path: string,
  options: Omit<RequestOptions, "peer" | "headers" | "timeoutMs">,
): Promise<T> {
  const url = `${auth.baseUrl.replace(/\/+$/, "")}${path}`;
  const credentials = Buffer.from(`${auth.email}:${auth.apiToken}`).toString("base64");
  registerSecret(auth.apiToken);
  registerSecret(credentials);
  const response = await requestJson<T>(url, {
    ...options,
    peer: "Jira",
    headers: { authorization: `Basic ${credentials}` },
    timeoutMs: auth.timeoutMs,
    sleep: auth.sleep,
  });
  return response.body;
}
