import { parseFollowUp } from "../../../../functions/shared/domain/follow-up";
import {
  choosePreviews,
  mergePreviewUrls,
  pullRequestNumber,
  requestedPreview,
  withPreviews,
} from "../../../../functions/shared/domain/preview-env";

const PREVIEWS = {
  app_web: ["https://*-acme.vercel.app"],
  app_admin: ["https://admin-pr-{pr}.preview.acme.dev"],
};

describe("choosePreviews", () => {
  it("gives each application the first preview its own patterns accept: links, then text, then the PR", () => {
    const chosen = choosePreviews(PREVIEWS, {
      links: ["https://evil.example", "https://shop-acme.vercel.app/cart"],
      texts: ["See https://other-acme.vercel.app"],
      pullRequest: 42,
    });

    expect(chosen).toEqual([
      { applicationShortId: "app_web", url: "https://shop-acme.vercel.app", source: "link" },
      {
        applicationShortId: "app_admin",
        url: "https://admin-pr-42.preview.acme.dev",
        source: "pull-request",
      },
    ]);
  });

  it("gives none without configured patterns or an accepted candidate", () => {
    expect(choosePreviews({}, { texts: ["https://shop-acme.vercel.app"] })).toEqual([]);
    expect(choosePreviews(PREVIEWS, { texts: ["https://shop-acme.vercel.app.evil.example"] })).toEqual([]);
  });
});

describe("requestedPreview", () => {
  it("accepts an allowed URL as its origin, for the first application that allows it", () => {
    expect(requestedPreview(PREVIEWS, "https://shop-acme.vercel.app/path?q=1")).toEqual({
      ok: true,
      choice: { applicationShortId: "app_web", url: "https://shop-acme.vercel.app", source: "request" },
    });
  });

  it("says why a URL is refused, and that nothing is configured", () => {
    expect(requestedPreview(PREVIEWS, "http://shop-acme.vercel.app")).toMatchObject({ ok: false });
    expect(requestedPreview({}, "https://shop-acme.vercel.app")).toEqual({
      ok: false,
      reason: "no preview URLs are configured (qatech.previewUrls)",
    });
  });
});

describe("withPreviews", () => {
  it("replaces an overridden application's environment, keeps its device preset, and adds the others", () => {
    const overrides = [
      { applicationShortId: "app_web", devicePresetShortId: "dp_1", environment: { shortId: "env_staging" } },
      { applicationShortId: "app_mobile", environment: { shortId: "env_mobile" } },
    ];

    const result = withPreviews(
      overrides,
      [
        { applicationShortId: "app_web", url: "https://shop-acme.vercel.app", source: "link" },
        {
          applicationShortId: "app_admin",
          url: "https://admin-pr-4.preview.acme.dev",
          source: "pull-request",
        },
      ],
      "ENG-42",
    );

    expect(result).toEqual([
      {
        applicationShortId: "app_web",
        devicePresetShortId: "dp_1",
        environment: { url: "https://shop-acme.vercel.app", name: "ENG-42 preview" },
      },
      { applicationShortId: "app_mobile", environment: { shortId: "env_mobile" } },
      {
        applicationShortId: "app_admin",
        environment: { url: "https://admin-pr-4.preview.acme.dev", name: "ENG-42 preview" },
      },
    ]);
    expect(overrides[0].environment).toEqual({ shortId: "env_staging" });
  });
});

describe("pullRequestNumber", () => {
  it.each([
    ["https://github.com/acme/shop/pull/42", 42],
    ["https://github.com/acme/shop/pull/42/files", 42],
    ["https://gitlab.com/acme/shop/-/merge_requests/7", 7],
    ["https://github.com/acme/shop/pull/042", undefined],
    ["https://github.com/acme/shop/issues/42", undefined],
  ])("%s -> %s", (url, n) => {
    expect(pullRequestNumber(url)).toBe(n);
  });
});

describe("retry on <url>", () => {
  it("is a retry with the URL, as is an agent's 'test on <url>'; 'test on Safari' stays a question", () => {
    expect(parseFollowUp("retry on https://pr-5.preview.acme.dev")).toEqual({
      command: "retry",
      url: "https://pr-5.preview.acme.dev",
    });
    expect(parseFollowUp("Test on <https://x-acme.vercel.app>")).toEqual({
      command: "retry",
      url: "https://x-acme.vercel.app",
    });
    expect(parseFollowUp("test on Safari")).toEqual({ question: "test on Safari" });
    expect(parseFollowUp("retry on https://a.example and https://b.example")).toEqual({
      question: "retry on https://a.example and https://b.example",
    });
  });
});

describe("mergePreviewUrls", () => {
  it("joins each application's patterns from every allowlist, in order", () => {
    expect(
      mergePreviewUrls([
        { app_web: ["https://a-acme.dev.acme.io"] },
        {},
        { app_web: ["https://*-b.acme.io"], app_x: [] },
      ]),
    ).toEqual({ app_web: ["https://a-acme.dev.acme.io", "https://*-b.acme.io"], app_x: [] });
  });
});
