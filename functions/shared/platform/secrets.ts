import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
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
  | "MARKER_KEY";

/** How long a fetched secret is trusted before it is read again (rotations take effect within this). */
export const SECRET_MAX_AGE_MS = 5 * 60 * 1000;

let client: SecretsManagerClient | undefined;
const cache = new Map<string, { value: string; fetchedAt: number }>();

/** Forgets cached values (tests; a Lambda never needs it). */
export function clearSecretCache(): void {
  cache.clear();
  client = undefined;
}

/**
 * Returns a credential. In Lambda, `<NAME>_SECRET_ARN` names the secret in Secrets Manager and the value
 * is cached for SECRET_MAX_AGE_MS across warm invocations; the local runner sets `<NAME>` itself.
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
  const cached = cache.get(secretId);
  if (cached && Date.now() - cached.fetchedAt < SECRET_MAX_AGE_MS) return cached.value;
  client ??= new SecretsManagerClient({});
  const result = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  const value = result.SecretString?.trim();
  if (!value)
    throw new ConfigError(`The secret for ${name} (${secretId}) is empty: fill it with put-secret-value`);
  registerSecret(value);
  cache.set(secretId, { value, fetchedAt: Date.now() });
  return value;
}
