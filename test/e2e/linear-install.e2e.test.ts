import { setLogSink } from "../../functions/shared/platform/log";
import { type Harness, startHarness } from "../../simulators/harness";

const ISSUE_ID = "539068e2-ae88-4d09-bd75-22eb4a59612f"; // ENG-42, from the Issue.update.label-added fixture

/**
 * SECURITY.md's promises about the Linear agent's install pages, tried over HTTP against the local runner and
 * the Linear simulator's consent page (the browser test walks the happy path): the state is bound to the
 * browser that asked, one deployment serves one workspace, and the pages are inert and escape what is not ours.
 */
describe("the Linear agent's install callback", () => {
  let h: Harness;
  afterEach(async () => {
    await h.runner.settled();
    await h.close();
  });

  /** GET /linear/install, then Authorize on Linear's consent page: the callback URL and the browser's cookie. */
  async function authorize(organization = ""): Promise<{ callback: string; cookie: string }> {
    const install = await fetch(`${h.runner.url}/linear/install`, { redirect: "manual" });
    expect(install.status).toBe(302);
    const cookie = (install.headers.get("set-cookie") ?? "").split(";")[0];
    const consent = new URL(install.headers.get("location") ?? "");
    const decided = await fetch(new URL("/oauth/authorize", consent), {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        client_id: consent.searchParams.get("client_id") ?? "",
        redirect_uri: consent.searchParams.get("redirect_uri") ?? "",
        state: consent.searchParams.get("state") ?? "",
        organization,
        decision: "allow",
      }).toString(),
    });
    expect(decided.status).toBe(302);
    return { callback: decided.headers.get("location") ?? "", cookie };
  }

  const inert = (res: Response) => ({
    csp: res.headers.get("content-security-policy"),
    cache: res.headers.get("cache-control"),
    referrer: res.headers.get("referrer-policy"),
  });
  const INERT = {
    csp: "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    cache: "no-store",
    referrer: "no-referrer",
  };

  it("refuses a genuine state and code brought by a browser that did not start the install (login CSRF)", async () => {
    h = await startHarness({ agent: { installed: false } });
    const { callback } = await authorize();
    const other = await authorize(); // another browser's own install: its cookie carries another nonce

    for (const cookie of [undefined, other.cookie]) {
      const res = await fetch(callback, { headers: cookie ? { cookie } : {} });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain("This browser did not start this install");
      expect(inert(res)).toEqual(INERT);
    }
    expect(h.runner.agentTokens?.writes).toHaveLength(0);
    expect(h.agent.grants.authorization_code).toBe(0);
  });

  it("never replaces the tokens of the workspace it serves with another workspace's", async () => {
    h = await startHarness({ agent: { installed: false } });
    const serving = {
      accessToken: "lin_oauth_other",
      refreshToken: "lin_refresh_other",
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
      appUserId: "app-user-other",
      organizationId: "org-other",
      workspace: "Other Ltd",
    };
    await h.runner.agentTokens?.write(serving);
    const { callback, cookie } = await authorize();

    const res = await fetch(callback, { headers: { cookie } });

    expect(res.status).toBe(409);
    expect(await res.text()).toContain("already serves the Linear workspace &#34;Other Ltd&#34;");
    expect(await h.runner.agentTokens?.read()).toEqual(serving);
  });

  it("says Linear could not be reached, and stores nothing, when reading who the app is fails", async () => {
    h = await startHarness({ agent: { installed: false } });
    const { callback, cookie } = await authorize();
    h.linear.failNext({ operation: "viewer", fault: { status: 503 } });

    const res = await fetch(callback, { headers: { cookie } });

    expect(res.status).toBe(503);
    expect(await res.text()).toContain("Linear could not be reached. Nothing was stored");
    expect(h.runner.agentTokens?.writes).toHaveLength(0);
  });

  it("shows a workspace's name as text, escaped once, on a page that runs nothing", async () => {
    h = await startHarness({
      agent: {
        installed: false,
        organization: { id: "org-acme", name: `<script>alert(1)</script> & "Co"`, urlKey: "acme" },
      },
    });
    const { callback, cookie } = await authorize();

    const res = await fetch(callback, { headers: { cookie } });
    const html = await res.text();

    expect(res.status).toBe(200);
    expect(inert(res)).toEqual(INERT);
    expect(html).not.toContain("<script>");
    expect(html).toContain(
      "QA.tech is connected to &#60;script&#62;alert(1)&#60;/script&#62; &#38; &#34;Co&#34;",
    );
    expect(html).not.toContain("&#38;#");
  });

  it("sets a __Host- cookie for the nonce, and clears it on the callback whatever the outcome", async () => {
    h = await startHarness({ agent: { installed: false } });
    const install = await fetch(`${h.runner.url}/linear/install`, { redirect: "manual" });
    const set = install.headers.get("set-cookie") ?? "";
    expect(set).toMatch(/^__Host-qa_ticket_linear_oauth=[A-Za-z0-9_-]+;/);
    expect(set).toContain("Path=/;");
    expect(set).toContain("Secure");
    expect(set).not.toContain("Domain");

    const { callback, cookie } = await authorize();
    for (const url of [callback, `${h.runner.url}/linear/callback?state=forged&code=x`]) {
      const res = await fetch(url, { headers: { cookie } });
      expect(res.headers.get("set-cookie")).toMatch(/^__Host-qa_ticket_linear_oauth=; Max-Age=0; Path=\/;/);
      expect(inert(res)).toEqual(INERT);
    }
  });

  it("answers a code Linear refuses with a 4xx page, not a 5xx", async () => {
    h = await startHarness({ agent: { installed: false } });
    const { callback, cookie } = await authorize();
    const forged = new URL(callback);
    forged.searchParams.set("code", "not-a-code-linear-issued");

    const res = await fetch(forged, { headers: { cookie } });

    expect(res.status).toBe(400);
    expect(await res.text()).toContain("invalid_grant");
    expect(h.agent.grants.refused).toBe(1);
    expect(h.runner.agentTokens?.writes).toHaveLength(0);
  });

  it("pins the API key's workspace: of two concurrent installs, another workspace's is refused and the pinned one serves", async () => {
    const other = { id: "org-rival", name: "Rival Ltd", urlKey: "rival" };
    h = await startHarness({ agent: { installed: false, otherOrganizations: [other] } });
    const rival = await authorize(other.id);
    const ours = await authorize();

    const [rivalRes, oursRes] = await Promise.all([
      fetch(rival.callback, { headers: { cookie: rival.cookie } }),
      fetch(ours.callback, { headers: { cookie: ours.cookie } }),
    ]);

    expect(rivalRes.status).toBe(403);
    expect(h.agent.revoked).toHaveLength(2); // the rival workspace's access and refresh tokens
    expect(await rivalRes.text()).toContain("serves the Linear workspace &#34;Acme Inc&#34;");
    expect(oursRes.status).toBe(200);
    expect(h.runner.agentTokens?.writes.map((t) => t.organizationId)).toEqual(["org-acme"]);
    const stored = await h.runner.agentTokens?.read();
    expect(stored).toMatchObject({ organizationId: "org-acme", appUserId: h.agent.appUserId });

    // The pinned install works: a mention is answered with the stored tokens.
    const session = await h.agent.mention(ISSUE_ID, "@QA.tech check it");
    await h.runner.settled();
    expect(h.agent.deliveries[0]).toMatchObject({ status: 200, body: { outcome: "started" } });
    expect(session.activities[0]?.content).toMatchObject({ type: "thought" });
  });

  it("of two racing first installs of the same workspace, both succeed and one pair is stored", async () => {
    h = await startHarness({ agent: { installed: false } });
    const first = await authorize();
    const second = await authorize();

    const answers = await Promise.all(
      [first, second].map((a) => fetch(a.callback, { headers: { cookie: a.cookie } })),
    );

    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    expect((await h.runner.agentTokens?.read())?.organizationId).toBe("org-acme");
  });
});

describe("agent deliveries that are not for the stored install", () => {
  let h: Harness;
  const lines: string[] = [];
  let restore: ReturnType<typeof setLogSink>;
  beforeEach(() => {
    lines.length = 0;
    restore = setLogSink((line) => lines.push(line));
  });
  afterEach(async () => {
    await h.runner.settled();
    await h.close();
    setLogSink(restore);
  });

  for (const [field, value] of [
    ["organizationId", "org-rival"],
    ["appUserId", "app-user-of-another-install"],
    ["oauthClientId", "another_app_client"],
  ] as const) {
    it(`are ignored and logged when their ${field} differs: nothing is started or posted`, async () => {
      h = await startHarness({ agent: {} });
      h.agent.deliveryOverrides = { [field]: value };

      const session = await h.agent.mention(ISSUE_ID, "@QA.tech check it");
      await h.runner.settled();

      expect(h.agent.deliveries[0]).toMatchObject({ status: 200 });
      expect(String(h.agent.deliveries[0].body.outcome)).toContain(`not this install: ${field}`);
      expect(session.activities.filter((a) => a.userId === h.agent.appUserId)).toEqual([]);
      expect(h.qatech.conversations()).toEqual([]);
      const warned = lines.filter((l) => l.includes("agent delivery for another install ignored"));
      expect(warned).toHaveLength(1);
      expect(warned[0]).toContain(value);
    });
  }
});
