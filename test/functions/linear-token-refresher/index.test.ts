import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-jest";
import { handler, resetRefresher } from "../../../functions/linear-token-refresher";
import { ConfigError, TransientError } from "../../../functions/shared/platform/errors";
import {
  FIRST_INSTALL_VERSION,
  lambdaRefresher,
  secretTokenStore,
} from "../../../functions/shared/trackers/linear-agent/token-store";
import type { AgentTokens } from "../../../functions/shared/trackers/linear-agent/tokens";
import { type FakeLinear, startFakeLinear } from "../../../simulators/linear";
import { FakeLinearAgent } from "../../../simulators/linear-agent";
import { settingsEnv } from "../../support/settings";

const TOKENS_ARN =
  "arn:aws:secretsmanager:eu-west-1:123456789012:secret:qa-ticket/acme/linear-agent-tokens-AbCdEf";

describe("the token refresher Lambda (compare-and-refresh against Secrets Manager)", () => {
  const secrets = mockClient(SecretsManagerClient);
  let linear: FakeLinear;
  let agent: FakeLinearAgent;
  let stored: AgentTokens;
  const saved = { ...process.env };

  beforeEach(async () => {
    secrets.reset();
    resetRefresher();
    agent = new FakeLinearAgent();
    linear = await startFakeLinear({ agent });
    Object.assign(
      process.env,
      settingsEnv({ linear: { apiUrl: linear.url, agent: { enabled: true, clientId: agent.clientId } } }),
      { LINEAR_AGENT_TOKENS_SECRET_ARN: TOKENS_ARN, LINEAR_AGENT_CLIENT_SECRET: agent.clientSecret },
    );
    const issued = agent.issueTokens();
    stored = {
      accessToken: issued.accessToken,
      refreshToken: issued.refreshToken,
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
      appUserId: agent.appUserId,
      organizationId: "org-acme",
      workspace: "Acme Inc",
    };
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(stored) });
    secrets.on(PutSecretValueCommand).resolves({});
  });

  afterEach(async () => {
    process.env = { ...saved };
    await linear.close();
  });

  it("refreshes when the caller's token is still the stored one, and stores the new pair before answering", async () => {
    const tokens = await handler({ seenAccessToken: stored.accessToken });

    expect(agent.grants.refresh_token).toBe(1);
    expect(tokens.accessToken).not.toBe(stored.accessToken);
    expect(tokens.refreshToken).not.toBe(stored.refreshToken);
    expect(tokens.appUserId).toBe(stored.appUserId);
    expect(secrets).toHaveReceivedCommandWith(PutSecretValueCommand, {
      SecretId: TOKENS_ARN,
      SecretString: JSON.stringify(tokens),
    });
  });

  it("answers the stored tokens without refreshing when someone else already did", async () => {
    const tokens = await handler({ seenAccessToken: "an-older-access-token" });

    expect(tokens).toEqual(stored);
    expect(agent.grants.refresh_token).toBe(0);
    expect(secrets).not.toHaveReceivedCommand(PutSecretValueCommand);
  });

  it("fails, storing nothing, when Linear refuses a refresh token and a second read finds nothing newer", async () => {
    const revoked = { ...stored, refreshToken: "lin_refresh_revoked" };
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(revoked) });

    await expect(handler({ seenAccessToken: stored.accessToken })).rejects.toThrow(/invalid_grant/);
    expect(secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    expect(secrets).not.toHaveReceivedCommand(PutSecretValueCommand);
  });

  it("on invalid_grant right after another writer's refresh, reads again and uses the newer pair (eventual consistency)", async () => {
    // Another writer (a cold copy of this function, an install) spent the stored pair and wrote a new one,
    // but the first read here still returns the old, spent pair.
    const newer = agent.issueTokens();
    await fetch(new URL("/oauth/token", linear.url), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: stored.refreshToken,
        client_id: agent.clientId,
        client_secret: agent.clientSecret,
      }).toString(),
    });
    const written = {
      ...stored,
      ...newer,
      expiresAt: new Date(Date.now() + 86399_000).toISOString(),
    };
    secrets
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: JSON.stringify(stored) })
      .resolves({ SecretString: JSON.stringify(written) });

    const tokens = await handler({ seenAccessToken: stored.accessToken });

    expect(tokens.accessToken).toBe(written.accessToken);
    expect(agent.grants.refused).toBe(1);
    expect(secrets).not.toHaveReceivedCommand(PutSecretValueCommand);
  });

  it("a warm refresher never spends a pair older than the one it wrote itself, whatever a stale read says", async () => {
    const first = await handler({ seenAccessToken: stored.accessToken }); // spends stored.refreshToken
    // Secrets Manager still answers the old pair: the caller that saw the new token after a 401 gets a refresh.
    const second = await handler({ seenAccessToken: first.accessToken });

    expect(agent.grants.refused).toBe(0);
    expect(agent.grants.refresh_token).toBe(2);
    expect(second.accessToken).not.toBe(first.accessToken);
  });

  it("on its schedule, refreshes a token that expires within 12 hours and leaves a younger one alone", async () => {
    const young = { ...stored, expiresAt: new Date(Date.now() + 20 * 3600_000).toISOString() };
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(young) });
    expect(await handler({ scheduled: true })).toEqual(young);
    expect(agent.grants.refresh_token).toBe(0);

    const ageing = { ...stored, expiresAt: new Date(Date.now() + 11 * 3600_000).toISOString() };
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(ageing) });
    const tokens = await handler({ scheduled: true });
    expect(agent.grants.refresh_token).toBe(1);
    expect(Date.parse(tokens.expiresAt)).toBeGreaterThan(Date.now() + 23 * 3600_000);
    expect(secrets).toHaveReceivedCommandWith(PutSecretValueCommand, {
      SecretString: JSON.stringify(tokens),
    });
  });

  it("says the agent is not installed while the secret holds the stack's placeholder", async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: "randomPlaceholderValue" });

    await expect(handler({ seenAccessToken: "x" })).rejects.toThrow(ConfigError);
  });
});

describe("the first install's write", () => {
  const secrets = mockClient(SecretsManagerClient);
  beforeEach(() => secrets.reset());
  const tokens: AgentTokens = {
    accessToken: "lin_oauth_a",
    refreshToken: "lin_refresh_a",
    expiresAt: "2026-11-21T10:00:00.000Z",
    appUserId: "app-user",
    organizationId: "org",
    workspace: "Acme",
  };

  it("uses one ClientRequestToken for every first install, so of two racing writes Secrets Manager keeps one", async () => {
    secrets
      .on(PutSecretValueCommand)
      .resolvesOnce({})
      .rejects(
        Object.assign(new Error("You can't modify an existing version"), { name: "ResourceExistsException" }),
      );
    const store = secretTokenStore(TOKENS_ARN);

    await expect(store.writeFirst(tokens)).resolves.toBe(true);
    await expect(store.writeFirst({ ...tokens, organizationId: "org-2" })).resolves.toBe(false);
    expect(secrets).toHaveReceivedCommandWith(PutSecretValueCommand, {
      ClientRequestToken: FIRST_INSTALL_VERSION,
    });
  });
});

describe("invoking the refresher from another function", () => {
  const lambda = mockClient(LambdaClient);
  beforeEach(() => lambda.reset());
  const tokens: AgentTokens = {
    accessToken: "lin_oauth_new_access",
    refreshToken: "lin_refresh_new",
    expiresAt: "2026-11-21T10:00:00.000Z",
    appUserId: "app-user",
    organizationId: "org",
    workspace: "Acme",
  };

  it("sends the token it saw and takes the answer's tokens", async () => {
    lambda
      .on(InvokeCommand)
      .resolves({ StatusCode: 200, Payload: Buffer.from(JSON.stringify(tokens)) as never });

    await expect(lambdaRefresher("refresher")("lin_oauth_old")).resolves.toEqual(tokens);
    expect(lambda).toHaveReceivedCommandWith(InvokeCommand, {
      FunctionName: "refresher",
      Payload: JSON.stringify({ seenAccessToken: "lin_oauth_old" }),
    });
  });

  it("is a transient error when throttled (another refresh is running) and a config error when Linear refused", async () => {
    lambda
      .on(InvokeCommand)
      .rejectsOnce(Object.assign(new Error("Rate exceeded"), { name: "TooManyRequestsException" }));
    await expect(lambdaRefresher("refresher")("x")).rejects.toThrow(TransientError);

    const failure = {
      errorType: "PermanentError",
      errorMessage: "Linear's token endpoint refused (invalid_grant)",
    };
    lambda
      .on(InvokeCommand)
      .resolves({ FunctionError: "Unhandled", Payload: Buffer.from(JSON.stringify(failure)) as never });
    await expect(lambdaRefresher("refresher")("x")).rejects.toThrow(/reinstall|invalid_grant/);
  });
});
