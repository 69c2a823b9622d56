import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { type Harness, startHarness } from "../../simulators/harness";
import { CHROMIUM_ARGS, chromiumExecutable } from "../support/chromium";

/**
 * The Linear agent's install pages in a real browser: a headless Chromium (the machine's, else the one inside
 * @sparticuz/chromium, see test/support/chromium.ts) driven by Playwright's library. Screenshots go to
 * test/artifacts/.
 */
const ARTIFACTS = join(__dirname, "..", "artifacts");
const ISSUE_ID = "539068e2-ae88-4d09-bd75-22eb4a59612f";

describe("installing QA.tech as a Linear agent, in a browser", () => {
  let h: Harness;
  let browser: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // Before the profile: a first run unpacks the bundled browser (a few seconds, within this hook's timeout).
    const executablePath = await chromiumExecutable();
    profile = mkdtempSync(join(tmpdir(), "qa-ticket-browser-profile-"));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: CHROMIUM_ARGS,
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  afterEach(async () => {
    if (!h) return; // the browser did not start: beforeAll's error says why
    await h.runner.settled();
    await h.close();
  });

  it("install link -> Linear's consent page -> Authorize -> a page naming the connected workspace", async () => {
    h = await startHarness({ agent: { installed: false } });
    const page = await browser.newPage();

    await page.goto(`${h.runner.url}/linear/install`);
    await page.getByRole("heading", { name: "Authorize QA.tech for Acme Inc" }).waitFor();
    expect(new URL(page.url()).searchParams.get("actor")).toBe("app");
    expect(new URL(page.url()).searchParams.get("scope")).toBe("read,write,app:assignable,app:mentionable");
    await page.getByRole("button", { name: "Authorize" }).click();
    await page.getByRole("heading", { level: 1 }).waitFor();

    expect(new URL(page.url()).pathname).toBe("/linear/callback");
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe(
      "QA.tech is connected to Acme Inc",
    );
    expect(await page.getByRole("status").textContent()).toContain("Acme Inc");
    expect(await page.getByRole("heading", { name: "What to do next" }).isVisible()).toBe(true);
    expect(await page.locator("html").getAttribute("lang")).toBe("en");
    await page.screenshot({ path: join(ARTIFACTS, "linear-install-connected.png"), fullPage: true });
    await page.close();

    // The stored tokens are the app's in that workspace, and they work: a mention is answered.
    const [stored] = h.runner.agentTokens?.writes ?? [];
    expect(stored).toMatchObject({
      appUserId: h.agent.appUserId,
      organizationId: "org-acme",
      workspace: "Acme Inc",
    });
    expect(h.agent.grants.authorization_code).toBe(1);
    const session = await h.agent.mention(ISSUE_ID, "@QA.tech check it");
    await h.runner.settled();
    expect(session.activities.at(-1)?.content.type).toBe("response");
  });

  it("a callback with a state this deployment did not sign stores nothing and says what to do", async () => {
    h = await startHarness({ agent: { installed: false } });
    const page = await browser.newPage();

    const response = await page.goto(`${h.runner.url}/linear/callback?code=stolen&state=forged.state`);

    expect(response?.status()).toBe(400);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe(
      "QA.tech was not connected to Linear",
    );
    expect(await page.getByRole("status").textContent()).toContain(
      "not opened from this deployment's install link",
    );
    expect(await page.getByRole("link", { name: "the install link" }).getAttribute("href")).toBe(
      "/linear/install",
    );
    await page.screenshot({ path: join(ARTIFACTS, "linear-install-bad-state.png"), fullPage: true });
    await page.close();
    expect(h.runner.agentTokens?.writes).toHaveLength(0);
    expect(h.agent.grants.authorization_code).toBe(0);
  });

  it("cancelling on Linear's consent page comes back as a page saying nothing was stored", async () => {
    h = await startHarness({ agent: { installed: false } });
    const page = await browser.newPage();

    await page.goto(`${h.runner.url}/linear/install`);
    await page.getByRole("button", { name: "Cancel" }).click();
    await page.getByRole("heading", { level: 1 }).waitFor();

    expect(await page.getByRole("status").textContent()).toContain(
      "Linear did not authorize QA.tech (access_denied)",
    );
    await page.close();
    expect(h.runner.agentTokens?.writes).toHaveLength(0);
  });
});
