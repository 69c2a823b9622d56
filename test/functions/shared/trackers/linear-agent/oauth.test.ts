import {
  AGENT_SCOPES,
  authorizeUrl,
  STATE_TTL_SECONDS,
  signState,
  verifyState,
} from "../../../../../functions/shared/trackers/linear-agent/oauth";

const KEY = "marker-key-for-tests-0123456789";

describe("the install's state", () => {
  it("comes back genuine with its nonce", () => {
    const { state, nonce } = signState(KEY);

    expect(verifyState(KEY, state)).toEqual({ nonce });
  });

  it("is refused when signed with another deployment's key, tampered with, expired or malformed", () => {
    const now = Date.now();
    const { state } = signState(KEY, now);
    const [payload, digest] = state.split(".");
    const other = JSON.parse(Buffer.from(payload, "base64url").toString());
    const forged = `${Buffer.from(JSON.stringify({ ...other, exp: other.exp + 3600 })).toString("base64url")}.${digest}`;

    expect(verifyState("another-deployment-key", state)).toEqual({ refused: "not ours" });
    expect(verifyState(KEY, forged)).toEqual({ refused: "not ours" });
    expect(verifyState(KEY, state, now + (STATE_TTL_SECONDS + 1) * 1000)).toEqual({ refused: "expired" });
    expect(verifyState(KEY, "")).toEqual({ refused: "malformed" });
    expect(verifyState(KEY, `${state}.x`)).toEqual({ refused: "malformed" });
  });

  it("is different on every install (a fresh nonce)", () => {
    expect(signState(KEY).state).not.toBe(signState(KEY).state);
  });
});

describe("the authorize URL", () => {
  it("installs the app for the workspace (actor=app) with the agent's scopes", () => {
    const url = new URL(
      authorizeUrl({
        authorizeUrl: "https://linear.app/oauth/authorize",
        clientId: "client_123",
        redirectUri: "https://x.execute-api.eu-west-1.amazonaws.com/linear/callback",
        state: "s.t",
      }),
    );

    expect(url.origin + url.pathname).toBe("https://linear.app/oauth/authorize");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: "client_123",
      redirect_uri: "https://x.execute-api.eu-west-1.amazonaws.com/linear/callback",
      response_type: "code",
      scope: "read,write,app:assignable,app:mentionable",
      state: "s.t",
      actor: "app",
    });
    expect(AGENT_SCOPES).not.toContain("admin");
  });
});
