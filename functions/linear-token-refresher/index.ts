import { functionLogger } from "../shared/platform/log";
import { requireEnv } from "../shared/platform/settings";
import { configuredOAuthClient, refreshGrant } from "../shared/trackers/linear-agent/oauth";
import {
  type AgentTokens,
  compareAndRefresh,
  secretTokenStore,
  type TokenStore,
} from "../shared/trackers/linear-agent/tokens";

const logger = functionLogger("linear-token-refresher");

/** The tokens' secret, built on the first invocation and kept by a warm function (one Secrets Manager client). */
let store: TokenStore | undefined;

/** What a caller sends: the access token it saw expire or be refused. */
export interface RefreshRequest {
  seenAccessToken: string;
}

/**
 * The one place that refreshes the Linear agent's tokens. The stack gives it a reserved concurrency of 1, so
 * two refreshes never run at once; each compares the caller's token with the stored one and refreshes only if
 * they are still the same (tokens.ts compareAndRefresh), then writes the new pair with PutSecretValue before
 * answering. Invoked synchronously by the functions that call Linear as the agent.
 */
export async function handler(event: RefreshRequest): Promise<AgentTokens> {
  store ??= secretTokenStore(requireEnv(process.env, "LINEAR_AGENT_TOKENS_SECRET_ARN"));
  const client = await configuredOAuthClient();
  let refreshed = false;
  const tokens = await compareAndRefresh(store, event.seenAccessToken ?? "", (refreshToken) => {
    refreshed = true;
    return refreshGrant(client, refreshToken);
  });
  logger.info("linear agent tokens", { refreshed, expiresAt: tokens.expiresAt });
  return tokens;
}
