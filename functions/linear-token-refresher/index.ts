import { functionLogger } from "../shared/platform/log";
import { requireEnv } from "../shared/platform/settings";
import { configuredOAuthClient, refreshGrant } from "../shared/trackers/linear-agent/oauth";
import { secretTokenStore } from "../shared/trackers/linear-agent/token-store";
import {
  type AgentTokens,
  compareAndRefresh,
  REFRESH_AHEAD_SECONDS,
  type TokenStore,
} from "../shared/trackers/linear-agent/tokens";

const logger = functionLogger("linear-token-refresher");

/** The tokens' secret, built on the first invocation and kept by a warm function (one Secrets Manager client). */
let store: TokenStore | undefined;

/**
 * What a caller sends: the access token it saw expire or be refused. The schedule (an EventBridge rule, every
 * few hours) sends `{ "scheduled": true }` instead: refresh ahead of the expiry, so callers never have to.
 */
export interface RefreshRequest {
  seenAccessToken?: string;
  scheduled?: boolean;
}

/**
 * The store as this warm function sees it: a read older than the pair it wrote itself is replaced by that pair.
 * Secrets Manager's reads are eventually consistent, and spending the refresh token of a stale read would
 * answer invalid_grant for an install that is fine.
 */
function rememberingStore(inner: TokenStore): TokenStore {
  let lastWritten: AgentTokens | undefined;
  const newer = (read: AgentTokens | null): AgentTokens | null => {
    if (!read || !lastWritten || read.organizationId !== lastWritten.organizationId) return read;
    return Date.parse(lastWritten.expiresAt) > Date.parse(read.expiresAt) ? lastWritten : read;
  };
  return {
    read: async () => newer(await inner.read()),
    async write(tokens) {
      await inner.write(tokens);
      lastWritten = tokens;
    },
    writeFirst: (tokens) => inner.writeFirst(tokens),
  };
}

/**
 * The one place that refreshes the Linear agent's tokens. The stack gives it a reserved concurrency of 1, so
 * two refreshes never run at once; each compares the caller's token with the stored one and refreshes only if
 * they are still the same (tokens.ts compareAndRefresh), then writes the new pair with PutSecretValue before
 * answering. Invoked on a schedule, ahead of the expiry, and synchronously by a function whose token Linear
 * refused (401) or that found it expired.
 */
export async function handler(event: RefreshRequest): Promise<AgentTokens> {
  store ??= rememberingStore(secretTokenStore(requireEnv(process.env, "LINEAR_AGENT_TOKENS_SECRET_ARN")));
  const client = await configuredOAuthClient();
  let refreshed = false;
  const tokens = await compareAndRefresh(
    store,
    event.seenAccessToken ?? "",
    (refreshToken) => {
      refreshed = true;
      return refreshGrant(client, refreshToken);
    },
    event.scheduled ? { aheadSeconds: REFRESH_AHEAD_SECONDS } : {},
  );
  logger.info("linear agent tokens", {
    refreshed,
    scheduled: event.scheduled === true,
    expiresAt: tokens.expiresAt,
  });
  return tokens;
}

/** Forgets what this warm function remembers (tests start each case cold). */
export function resetRefresher(): void {
  store = undefined;
}
