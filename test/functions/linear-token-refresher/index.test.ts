import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-jest";
import { handler } from "../../../functions/linear-token-refresher";
import { ConfigError, TransientError } from "../../../functions/shared/platform/errors";
import { type AgentTokens, lambdaRefresher } from "../../../functions/shared/trackers/linear-agent/tokens";
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

  it("fails, storing nothing, when Linear refuses a spent refresh token", async () => {
    await handler({ seenAccessToken: stored.accessToken }); // spends stored.refreshToken

    await expect(handler({ seenAccessToken: stored.accessToken })).rejects.toThrow(/invalid_grant/);
    expect(secrets).toHaveReceivedCommandTimes(PutSecretValueCommand, 1);
  });

  it("says the agent is not installed while the secret holds the stack's placeholder", async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: "randomPlaceholderValue" });

    await expect(handler({ seenAccessToken: "x" })).rejects.toThrow(ConfigError);
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
