import { parseSettings } from "../../../../functions/shared/platform/settings-schema";
import { settingsProblem } from "../../../support/settings";

const APP = { applicationShortId: "app_ios", environment: { shortId: "env_staging" } };

const problem = settingsProblem;

describe("settings: routes", () => {
  it("are none by default, and then not in the settings at all (functions get what they got before)", () => {
    expect(parseSettings({ qatech: {} }, "test settings")).not.toHaveProperty("routes");
  });

  it("take an ordered list, each with a match and the qatech fields it overrides", () => {
    const routes = [
      {
        name: "ios",
        match: { linearTeams: ["APP"], labels: ["ios"] },
        projectShortId: "proj_mobile",
        applicationOverrides: [APP],
        instruction: "Test it on iOS.",
        changeReview: "never",
      },
      { name: "web", match: { jiraProjects: ["WEB"] }, projectShortId: "proj_web" },
    ];

    expect(parseSettings({ qatech: {}, routes }, "test settings").routes).toEqual(routes);
  });

  it.each<[string, unknown, RegExp]>([
    [
      "an unknown key in a route",
      [{ name: "a", match: { labels: ["x"] }, project: "p" }],
      /routes\[0\]\.project is not a known setting/,
    ],
    [
      "a route's preview pattern the allowlist rules refuse",
      [
        {
          name: "a",
          match: { labels: ["x"] },
          previewUrls: { app_web: ["https://*.vercel.app", "http://x.acme.dev"] },
        },
      ],
      /routes\.0\.previewUrls\.app_web\.1/,
    ],
    [
      "an unknown match key",
      [{ name: "a", match: { team: ["x"] } }],
      /routes\[0\]\.match\.team is not a known setting/,
    ],
    [
      "a bad project",
      [{ name: "a", match: { labels: ["x"] }, projectShortId: "mobile" }],
      /routes\[0\]\.projectShortId must look like proj_/,
    ],
    [
      "a bad application",
      [{ name: "a", match: { labels: ["x"] }, applicationOverrides: [{ applicationShortId: "ios" }] }],
      /routes\[0\]\.applicationOverrides\[0\]/,
    ],
    [
      "a bad change review",
      [{ name: "a", match: { labels: ["x"] }, changeReview: "sometimes" }],
      /routes\[0\]\.changeReview/,
    ],
    ["an empty name", [{ name: "", match: { labels: ["x"] } }], /routes\[0\]\.name must not be empty/],
    ["an empty match", [{ name: "a", match: {} }], /routes\[0\]\.match route "a" has an empty match/],
    [
      "an empty list",
      [{ name: "a", match: { labels: [] } }],
      /route "a" has an empty or malformed match\.labels/,
    ],
    [
      "a malformed team key",
      [{ name: "a", match: { linearTeams: ["E-NG"] } }],
      /route "a" has "E-NG" in match\.linearTeams/,
    ],
    [
      "a duplicate name",
      [
        { name: "a", match: { labels: ["x"] } },
        { name: "a", match: { labels: ["y"] } },
      ],
      /routes\[1\]\.name route "a" has the same name as route 1/,
    ],
    [
      "a route that can never match",
      [
        { name: "app", match: { linearTeams: ["APP"] } },
        { name: "app-ios", match: { linearTeams: ["APP"], labels: ["ios"] } },
      ],
      /route "app-ios" can never match: route "app", which comes first, matches every ticket it matches/,
    ],
  ])("refuses %s, naming the route", (_what, routes, message) => {
    expect(problem({ routes })).toMatch(message);
  });

  it("refuses a route's project that the comment markers could not carry", () => {
    const route = { name: "odd", match: { labels: ["x"] }, projectShortId: "proj_a.b" };

    expect(problem({ routes: [route] })).toMatch(/routes\[0\]\.projectShortId of route "odd" must be proj_/);
  });

  it("refuses a route's changeReview always without applicationOverrides, its own or qatech's", () => {
    const route = { name: "mobile", match: { labels: ["mobile"] }, changeReview: "always" };

    expect(problem({ routes: [route] })).toMatch(
      /routes\[0\]\.changeReview of route "mobile" is always, but a change review needs applicationOverrides/,
    );
    expect(() =>
      parseSettings({ qatech: { applicationOverrides: [APP] }, routes: [route] }, "test settings"),
    ).not.toThrow();
    expect(() =>
      parseSettings({ qatech: {}, routes: [{ ...route, applicationOverrides: [APP] }] }, "test settings"),
    ).not.toThrow();
  });

  it("refuses, naming routes, a route table too big for Lambda's environment", () => {
    const routes = Array.from({ length: 40 }, (_, i) => ({
      name: `team-${i}`,
      match: { linearTeams: [`T${i}`] },
      projectShortId: `proj_team_${i}`,
    }));

    expect(problem({ routes })).toMatch(/^test settings: routes is too long: .*\(4 KB in all/);
  });
});
