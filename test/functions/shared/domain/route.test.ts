import fc from "fast-check";
import {
  checkRoutes,
  keyPrefix,
  type Route,
  type RouteMatch,
  type RoutingFacts,
  routeMatches,
  routeProblems,
  selectRoute,
} from "../../../../functions/shared/domain/route";

type Target = { projectShortId: string };

const ROUTES: Route<Target>[] = [
  { name: "ios", match: { linearTeams: ["APP"], labels: ["ios"] }, projectShortId: "proj_ios" },
  { name: "mobile", match: { linearTeams: ["APP"], jiraProjects: ["MOB"] }, projectShortId: "proj_mobile" },
  { name: "web", match: { linearTeams: ["WEB"] }, projectShortId: "proj_web" },
  { name: "billing", match: { labels: ["billing", "payments"] }, projectShortId: "proj_billing" },
];

const linear = (teamKey: string, ...labels: string[]): RoutingFacts => ({
  tracker: "linear",
  teamKey,
  labels,
});
const jira = (projectKey: string, ...labels: string[]): RoutingFacts => ({
  tracker: "jira",
  projectKey,
  labels,
});

describe("selectRoute", () => {
  it.each([
    ["a Linear team's ticket with the route's label", linear("APP", "iOS"), "ios"],
    ["the same team's other tickets", linear("APP", "android"), "mobile"],
    ["a Jira project listed beside a Linear team", jira("MOB"), "mobile"],
    ["the agent's tickets, which are Linear issues", { ...linear("WEB"), tracker: "linear-agent" }, "web"],
    ["a team key in another case", linear("web"), "web"],
    ["any ticket with one of a label route's labels", jira("OPS", "bug", "Payments"), "billing"],
  ] as const)("sends %s to its route", (_, facts, name) => {
    expect(selectRoute(ROUTES, facts as RoutingFacts)?.name).toBe(name);
  });

  it("takes the first route that fits, not the most specific", () => {
    const routes = [ROUTES[3], ROUTES[0]];
    expect(selectRoute(routes, linear("APP", "ios", "billing"))?.name).toBe("billing");
  });

  it.each([
    ["a team no route lists", linear("OPS", "ios")],
    ["a Jira project with a Linear team's key", jira("APP", "ios")],
    ["a Linear team with a Jira project's key", linear("MOB")],
    ["a ticket whose team is unknown", { tracker: "linear", labels: ["ios"] }],
    ["no routes at all", linear("APP")],
  ] as const)("leaves %s to the default settings", (what, facts) => {
    const routes = what === "no routes at all" ? [] : ROUTES;
    expect(selectRoute(routes, facts as RoutingFacts)).toBeUndefined();
  });

  it("needs both where the ticket lives and a label when a route gives both", () => {
    const match: RouteMatch = { linearTeams: ["APP"], labels: ["ios"] };
    expect(routeMatches(match, linear("APP", "ios"))).toBe(true);
    expect(routeMatches(match, linear("APP"))).toBe(false);
    expect(routeMatches(match, linear("WEB", "ios"))).toBe(false);
  });
});

describe("keyPrefix", () => {
  it.each([
    ["ENG-42", "ENG"],
    ["PROJ_2-7", "PROJ_2"],
    ["eng-1", "ENG"],
    ["session", undefined],
    ["ENG-", undefined],
    ["-42", undefined],
    ["ENG-42-1", undefined],
  ])("reads %j as %j", (key, prefix) => {
    expect(keyPrefix(key)).toBe(prefix);
  });
});

const messages = (routes: unknown) => routeProblems(routes).map((p) => p.message);

describe("routeProblems", () => {
  it("accepts a good table, and none", () => {
    expect(routeProblems(ROUTES)).toEqual([]);
    expect(routeProblems([])).toEqual([]);
    expect(checkRoutes(ROUTES)).toBe(ROUTES);
  });

  it("refuses an empty match, naming the route", () => {
    expect(routeProblems([{ name: "all", match: {} }])).toEqual([
      { path: [0, "match"], message: expect.stringMatching(/^route "all" has an empty match/) },
    ]);
  });

  it("refuses empty and malformed criteria", () => {
    expect(messages([{ name: "a", match: { labels: [] } }])).toEqual([
      expect.stringMatching(/^route "a" has an empty or malformed match.labels/),
    ]);
    expect(messages([{ name: "b", match: { linearTeams: "APP" } }])).toEqual([
      expect.stringMatching(/^route "b" has an empty or malformed match.linearTeams/),
    ]);
    expect(messages([{ name: "c", match: { jiraProjects: ["mob"] } }])).toEqual([
      expect.stringMatching(/^route "c" has "mob" in match.jiraProjects: must be a Jira project key/),
    ]);
    expect(messages([{ name: "d", match: { labels: [" ios", ""] } }])).toHaveLength(2);
    expect(messages([{ name: "e", match: { linearTeams: ["A-B"] } }])).toEqual([
      expect.stringContaining("must be a Linear team key"),
    ]);
  });

  it("refuses unknown keys in a route and in its match, naming the route", () => {
    expect(routeProblems([{ name: "a", match: { labels: ["x"] }, project: "proj_1" }])).toEqual([
      { path: [0, "project"], message: 'route "a" has "project", not known route settings' },
    ]);
    expect(routeProblems([{ name: "b", match: { team: ["APP"] } }])).toEqual([
      {
        path: [0, "match", "team"],
        message: 'route "b" matches on "team": only linearTeams, jiraProjects and labels are known',
      },
    ]);
  });

  it("accepts every override a route takes, preview URLs included, and nothing else", () => {
    const route = {
      name: "all-overrides",
      match: { labels: ["x"] },
      projectShortId: "proj_x",
      applicationOverrides: [],
      instruction: "Test it",
      changeReview: "never",
      previewUrls: { app_x: ["https://pr-{pr}.preview.acme.dev"] },
    };
    expect(routeProblems([route])).toEqual([]);
    expect(messages([{ ...route, environment: "staging" }])).toEqual([
      'route "all-overrides" has "environment", not known route settings',
    ]);
  });

  it("refuses a missing or duplicate name, and a route that is not an object", () => {
    expect(messages([{ match: { labels: ["x"] } }])).toEqual(["route 1 needs a name"]);
    expect(
      messages([
        { name: "a", match: { labels: ["x"] } },
        { name: "a", match: { labels: ["y"] } },
      ]),
    ).toEqual(['route "a" has the same name as route 1; names must be unique']);
    expect(messages(["a"])).toEqual(["route 1 must be an object with a name and a match"]);
    expect(messages([{ name: "a" }])).toEqual([expect.stringMatching(/^route "a" needs a match/)]);
    expect(messages({})).toEqual(["must be a list of routes"]);
  });

  it("refuses an exact duplicate of an earlier route, naming both", () => {
    const problems = routeProblems([
      { name: "mobile", match: { linearTeams: ["APP"], labels: ["ios"] } },
      { name: "mobile-again", match: { labels: ["IOS"], linearTeams: ["app"] } },
    ]);
    expect(problems).toEqual([
      {
        path: [1, "match"],
        message:
          'route "mobile-again" can never match: it matches the same tickets as route "mobile", which comes first',
      },
    ]);
  });

  it.each([
    [
      "a team-only route before the same team with a label",
      { linearTeams: ["APP"] },
      { linearTeams: ["APP"], labels: ["ios"] },
    ],
    ["more teams before fewer", { linearTeams: ["APP", "WEB"] }, { linearTeams: ["WEB"] }],
    ["more labels before fewer", { labels: ["ios", "android"] }, { labels: ["android"] }],
    [
      "a label-only route before a team with that label",
      { labels: ["ios"] },
      { jiraProjects: ["MOB"], labels: ["ios"] },
    ],
    [
      "teams and projects before projects",
      { linearTeams: ["APP"], jiraProjects: ["MOB"] },
      { jiraProjects: ["MOB"] },
    ],
  ] as const)("refuses a route after a superset of it: %s", (_, first, second) => {
    expect(
      routeProblems([
        { name: "wide", match: first },
        { name: "narrow", match: second },
      ]),
    ).toEqual([
      {
        path: [1, "match"],
        message:
          'route "narrow" can never match: route "wide", which comes first, matches every ticket it matches',
      },
    ]);
  });

  it("refuses a route that earlier routes cover together", () => {
    expect(
      messages([
        { name: "app", match: { linearTeams: ["APP"] } },
        { name: "web", match: { linearTeams: ["WEB"] } },
        { name: "both", match: { linearTeams: ["APP", "WEB"], labels: ["ios"] } },
      ]),
    ).toEqual([
      'route "both" can never match: route "app", route "web" together, which come first, match every ticket it matches',
    ]);
  });

  it.each([
    ["a narrower route first", { linearTeams: ["APP"], labels: ["ios"] }, { linearTeams: ["APP"] }],
    ["a team route before a label route", { linearTeams: ["APP"] }, { labels: ["ios"] }],
    ["a label route before a team route", { labels: ["ios"] }, { linearTeams: ["APP"] }],
    ["overlapping teams", { linearTeams: ["APP", "WEB"] }, { linearTeams: ["WEB", "OPS"] }],
    [
      "a Linear team before a Jira project of the same key",
      { linearTeams: ["APP"] },
      { jiraProjects: ["APP"] },
    ],
  ] as const)("accepts %s", (_, first, second) => {
    expect(
      routeProblems([
        { name: "first", match: first },
        { name: "second", match: second },
      ]),
    ).toEqual([]);
  });

  it("says a route is unreachable exactly when no ticket reaches it (checked against selectRoute)", () => {
    const team = fc.constantFrom("APP", "WEB");
    const label = fc.constantFrom("ios", "web");
    const match = fc
      .record(
        {
          linearTeams: fc.uniqueArray(team, { minLength: 1 }),
          jiraProjects: fc.uniqueArray(team, { minLength: 1 }),
          labels: fc.uniqueArray(label, { minLength: 1 }),
        },
        { requiredKeys: [] },
      )
      .filter((m) => Object.keys(m).length > 0);
    // Every kind of ticket there is, as far as these routes can tell them apart.
    const tickets: RoutingFacts[] = [];
    for (const tracker of ["linear", "jira"] as const)
      for (const key of ["APP", "WEB", "OPS"])
        for (const labels of [[], ["ios"], ["web"], ["ios", "web"], ["other"]])
          tickets.push(tracker === "linear" ? linear(key, ...labels) : jira(key, ...labels));
    fc.assert(
      fc.property(fc.array(match, { minLength: 1, maxLength: 4 }), (matches) => {
        const routes = matches.map((m, i) => ({ name: `r${i}`, match: m }));
        const unreachable = new Set(
          routeProblems(routes)
            .filter((p) => p.message.includes("can never match"))
            .map((p) => p.path[0]),
        );
        const reached = new Set(
          tickets.map((t) => routes.indexOf(selectRoute(routes, t) as (typeof routes)[0])),
        );
        for (const i of routes.keys()) expect(unreachable.has(i)).toBe(!reached.has(i));
      }),
    );
  });

  it("names an unnamed route by its position when it hides a later one", () => {
    expect(messages([{ match: { labels: ["x"] } }, { name: "b", match: { labels: ["x"] } }])).toEqual([
      "route 1 needs a name",
      'route "b" can never match: it matches the same tickets as route 1, which comes first',
    ]);
  });

  it("checkRoutes throws an error naming every route with a problem", () => {
    expect(() =>
      checkRoutes([
        { name: "a", match: {} },
        { name: "b", match: { labels: ["x"] } },
        { name: "c", match: { labels: ["x"] } },
      ]),
    ).toThrow(/route "a" has an empty match.*; route "c" can never match/);
  });
});
