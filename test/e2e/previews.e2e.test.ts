import { type Harness, startHarness } from "../../simulators/harness";
import { linearFixture } from "../../simulators/signing";
import { adfText } from "../support/adf-text";
import { LINEAR_ISSUE, replyOnLinear } from "../support/linear-thread";

// The web app's previews on Vercel (a shared host: anyone may name a project `*-acme`, and doctor warns)
// and on its own domain by pull request number.
const PREVIEW_URLS = JSON.stringify({
  app_web: ["https://*-acme.vercel.app", "https://pr-{pr}.preview.acme.dev"],
});
const OVERRIDES = JSON.stringify([
  {
    applicationShortId: "app_web",
    devicePresetShortId: "dp_desktop",
    environment: { shortId: "env_staging" },
  },
]);
const LINEAR_ONLY = { JIRA_BASE_URL: "", JIRA_EMAIL: "", JIRA_API_TOKEN: "", JIRA_WEBHOOK_SECRET: "" };
// Every change review needs overrides; this suite is about conversations, so no ticket links a PR to review.
const ENV = {
  QATECH_PREVIEW_URLS: PREVIEW_URLS,
  QATECH_APPLICATION_OVERRIDES: OVERRIDES,
  CHANGE_REVIEW: "never",
};

/** The Linear fixture ENG-42 with its description replaced. */
function linearTicket(description: string) {
  const fixture = linearFixture("Issue.update.label-added");
  return { ...fixture, data: { ...(fixture.data as object), description } };
}

/** The applicationOverrides QA.tech received when the ticket's conversation opened (the n-th). */
function overridesSent(h: Harness, n = 0): unknown {
  return (h.qatech.conversations()[n].body as { applicationOverrides?: unknown }).applicationOverrides;
}

const onPreview = (url: string) => [
  {
    applicationShortId: "app_web",
    devicePresetShortId: "dp_desktop",
    environment: { url, name: "ENG-42 preview" },
  },
];

describe("the ticket's own preview deployment, end to end through the local runner", () => {
  let h: Harness;
  afterEach(() => h.close());

  it("Linear: a preview linked in the description becomes the environment; the acknowledgement says so", async () => {
    h = await startHarness({ env: { ...ENV, ...LINEAR_ONLY } });

    await h.sendLinear(linearTicket("Fixed in https://shop-git-fix-cart-acme.vercel.app/cart, please test."));
    await h.runner.settled();

    expect(overridesSent(h)).toEqual(onPreview("https://shop-git-fix-cart-acme.vercel.app"));
    expect(h.linearAcks()[0].body).toContain(
      "QA.tech is on it (testing on https://shop-git-fix-cart-acme.vercel.app) and will reply in this thread.",
    );
  });

  it("Linear: a preview attached to the issue (a Vercel link) becomes the environment", async () => {
    const attachments = {
      [LINEAR_ISSUE]: [{ url: "https://shop-pr-7-acme.vercel.app", title: "Preview", sourceType: "vercel" }],
    };
    h = await startHarness({ env: { ...ENV, ...LINEAR_ONLY }, linear: { attachments } });

    await h.sendLinear(linearTicket("The cart is blank."));
    await h.runner.settled();

    expect(overridesSent(h)).toEqual(onPreview("https://shop-pr-7-acme.vercel.app"));
  });

  it("Linear: a {pr} pattern is filled from the pull request the ticket links", async () => {
    h = await startHarness({ env: { ...ENV, ...LINEAR_ONLY } });

    await h.sendLinear(linearTicket("Fix: https://github.com/acme/shop/pull/42"));
    await h.runner.settled();

    expect(overridesSent(h)).toEqual(onPreview("https://pr-42.preview.acme.dev"));
  });

  it.each([
    ["another Vercel user's deployment", "https://shop-evil.vercel.app"],
    ["a look-alike host ending in the allowed one", "https://x-acme.vercel.app.evil.example"],
    ["a look-alike label", "https://evil-vercel.app"],
    ["userinfo before the host", "https://x-acme.vercel.app@evil.example"],
    ["a port", "https://x-acme.vercel.app:8443"],
    ["plain http", "http://x-acme.vercel.app"],
    ["punycode", "https://xn--x-acme-9ya.vercel.app"],
    ["an IP literal", "https://127.0.0.1"],
  ])("Linear: %s in the description is refused; the configured environment stays", async (_name, url) => {
    h = await startHarness({ env: { ...ENV, ...LINEAR_ONLY } });

    await h.sendLinear(linearTicket(`Preview: ${url}`));
    await h.runner.settled();

    expect(overridesSent(h)).toEqual(JSON.parse(OVERRIDES));
    expect(h.linearAcks()[0].body).not.toContain("testing on");
  });

  it("Jira: a preview in the issue's remote links becomes the environment", async () => {
    h = await startHarness({
      env: ENV,
      jira: {
        remoteLinks: { "PROJ-123": [{ url: "https://pr-8.preview.acme.dev/login", title: "Preview" }] },
      },
    });

    await h.sendJira("jira-issue_updated.label-added");
    await h.runner.settled();

    expect(overridesSent(h)).toEqual([
      {
        applicationShortId: "app_web",
        devicePresetShortId: "dp_desktop",
        environment: { url: "https://pr-8.preview.acme.dev", name: "PROJ-123 preview" },
      },
    ]);
    expect(adfText(h.jiraAcks()[0].body).replace(/\n/g, "")).toContain(
      "(testing on https://pr-8.preview.acme.dev <https://pr-8.preview.acme.dev>)",
    );
  });

  it("`@qa retry on <url>` opens a new conversation on an allowed preview, and refuses another, saying why", async () => {
    h = await startHarness({ env: { ...ENV, ...LINEAR_ONLY } });
    await h.sendLinear(linearTicket("The cart is blank."));
    await h.runner.settled();
    const [ack] = h.linearAcks();

    await replyOnLinear(h, "@qa retry on https://pr-51.preview.acme.dev", ack.id);
    await replyOnLinear(h, "@qa retry on https://pr-51.preview.acme.dev.evil.example", ack.id);

    expect(h.qatech.conversations()).toHaveLength(2);
    expect(overridesSent(h, 1)).toEqual(onPreview("https://pr-51.preview.acme.dev"));
    const refusal = h.linearReplies().at(-1)?.body ?? "";
    expect(refusal).toMatch(
      /^Not retried: https:\/\/pr-51\.preview\.acme\.dev\.evil\.example is not a preview/,
    );
  });

  it("the Linear agent: a prompt 'test on <url>' starts a conversation on that preview", async () => {
    h = await startHarness({ agent: {}, env: ENV });
    const session = await h.agent.mention(LINEAR_ISSUE, "@QA.tech check the cart");
    await h.runner.settled();

    await h.agent.prompt(session.id, "test on https://cart-fix-acme.vercel.app");
    await h.runner.settled();

    expect(h.qatech.conversations()).toHaveLength(2);
    expect(
      (h.qatech.conversations()[1].body as { applicationOverrides?: unknown }).applicationOverrides,
    ).toEqual(onPreview("https://cart-fix-acme.vercel.app"));
    expect(h.agent.unresponsive()).toEqual([]);
  });

  it("a ticket without an allowed preview is tested on the configured environment, as before", async () => {
    h = await startHarness({ env: { ...ENV, ...LINEAR_ONLY } });

    await h.sendLinear(linearTicket("No link here."));
    await h.runner.settled();

    expect(overridesSent(h)).toEqual(JSON.parse(OVERRIDES));
  });
});
