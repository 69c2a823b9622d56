import { type Harness, startHarness } from "../../simulators/harness";

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
  async function authorize(): Promise<{ callback: string; cookie: string }> {
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
    csp: "default-src 'none'; style-src 'unsafe-inline'",
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
});
