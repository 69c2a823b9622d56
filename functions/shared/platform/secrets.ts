import { clearCaches } from "@aws-lambda-powertools/parameters";
import { getSecret as readSecret } from "@aws-lambda-powertools/parameters/secrets";
import { ConfigError } from "./errors";
import { registerSecret } from "./redact";

/** The credentials qa-ticket uses; each is one secret in Secrets Manager or one variable locally. */
export type SecretName =
  | "QATECH_API_KEY"
  | "LINEAR_API_KEY"
  | "LINEAR_WEBHOOK_SECRET"
  | "JIRA_EMAIL"
  | "JIRA_API_TOKEN"
  | "JIRA_WEBHOOK_SECRET"
  | "MARKER_KEY"
  // The Linear agent: the OAuth app's client secret and webhook signing secret. Its token set is a
  // secret too, but written as well as read: trackers/linear-agent/token-store.ts reaches it directly.
  | "LINEAR_AGENT_CLIENT_SECRET"
  | "LINEAR_AGENT_WEBHOOK_SECRET";

/** How long a fetched secret is trusted before it is read again (rotations take effect within this). */
export const SECRET_MAX_AGE_SECONDS = 5 * 60;

/** Forgets cached values (tests; a Lambda never needs it). */
export function clearSecretCache(): void {
  clearCaches();
}

/**
 * Returns a credential. In Lambda, `<NAME>_SECRET_ARN` names the secret in Secrets Manager, read with
 * Powertools' Parameters and cached for SECRET_MAX_AGE_SECONDS across warm invocations; the local runner
 * sets `<NAME>` itself. Every value read is registered, so it can never reach a comment or a log line.
 */
export async function getSecret(name: SecretName, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const secretId = env[`${name}_SECRET_ARN`];
  if (!secretId) {
    const direct = env[name];
    if (direct) {
      registerSecret(direct);
      return direct;
    }
    throw new ConfigError(
      `${name} is not configured: set ${name} (local runner) or ${name}_SECRET_ARN (Lambda)`,
    );
  }
  const stored = await readSecret(secretId, { maxAge: SECRET_MAX_AGE_SECONDS });
  const value = typeof stored === "string" ? stored.trim() : "";
  if (!value)
    throw new ConfigError(`The secret for ${name} (${secretId}) is empty: fill it with put-secret-value`);
  registerSecret(value);
  return value;
}
