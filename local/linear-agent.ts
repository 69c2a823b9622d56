import { configuredOAuthClient, refreshGrant } from "../functions/shared/trackers/linear-agent/oauth";
import { setAgentTokenAccess } from "../functions/shared/trackers/linear-agent/token-store";
import {
  type AgentTokens,
  compareAndRefresh,
  parseTokens,
  serialRefresher,
  type TokenStore,
} from "../functions/shared/trackers/linear-agent/tokens";

/** The local runner's token store: in memory (LINEAR_AGENT_TOKENS seeds it), gone when the runner stops. */
export class MemoryTokenStore implements TokenStore {
  private value: AgentTokens | null;
  /** Every write, in order (tests count refreshes by them). */
  readonly writes: AgentTokens[] = [];

  constructor(initial?: string) {
    this.value = parseTokens(initial);
    // A store seeded with an install already had its first install.
    this.firstWritten = this.value !== null;
  }

  async read(): Promise<AgentTokens | null> {
    return this.value ? { ...this.value } : null;
  }

  async write(tokens: AgentTokens): Promise<void> {
    this.writes.push(tokens);
    this.value = { ...tokens };
  }

  /** As Secrets Manager's PutSecretValue with the first install's ClientRequestToken: once, atomically. */
  async writeFirst(tokens: AgentTokens): Promise<boolean> {
    if (this.firstWritten) return false;
    this.firstWritten = true;
    await this.write(tokens);
    return true;
  }

  private firstWritten = false;
}

/**
 * The Linear agent's tokens on the local runner: the in-process equivalent of the refresher Lambda, a mutex
 * around the same compare-and-refresh, so concurrent 401s in the runner's many in-flight tasks refresh once.
 */
export function useLocalAgentTokens(env: NodeJS.ProcessEnv): { store: MemoryTokenStore; close(): void } {
  const store = new MemoryTokenStore(env.LINEAR_AGENT_TOKENS);
  const refresh = serialRefresher(async (seen) =>
    compareAndRefresh(store, seen, async (refreshToken) =>
      refreshGrant(await configuredOAuthClient(), refreshToken),
    ),
  );
  setAgentTokenAccess({ store, refresh });
  return { store, close: () => setAgentTokenAccess(undefined) };
}
