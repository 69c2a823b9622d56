import { type FakeQaTech, type FakeQaTechOptions, startFakeQaTech } from "../../../simulators/qatech";
import { checkRouteProject, routeProjects } from "../../../tools/ops/credentials";

const KEY = "qa-routes-key-1234";

describe("setup's and doctor's check of every route's QA.tech project", () => {
  let qa: FakeQaTech;
  afterEach(() => qa?.close());
  const start = async (options: FakeQaTechOptions) => {
    qa = await startFakeQaTech({ apiKey: KEY, ...options });
  };

  it("lists each project the routes name once, leaving out routes on the default project", () => {
    const routes = [
      { name: "ios", projectShortId: "proj_mobile" },
      { name: "android", projectShortId: "proj_mobile" },
      { name: "web", projectShortId: "proj_acme" },
      { name: "labels-only" },
      { name: "billing", projectShortId: "proj_billing" },
    ];

    expect(routeProjects(routes, "proj_acme")).toEqual([
      { projectShortId: "proj_mobile", routes: ["ios", "android"] },
      { projectShortId: "proj_billing", routes: ["billing"] },
    ]);
    expect(routeProjects([], "proj_acme")).toEqual([]);
  });

  it("accepts a route's project an organisation-scoped key may use, creating nothing", async () => {
    await start({ keyScope: "organization" });

    const result = await checkRouteProject(qa.url, KEY, { projectShortId: "proj_mobile", routes: ["ios"] });

    expect(result).toEqual({ ok: true, detail: 'project proj_mobile accepted (route "ios")' });
    expect(qa.conversations()).toEqual([]);
  });

  it("names the route, and how to fix it, when the key may not use its project", async () => {
    await start({ keyScope: "project", projectShortId: "proj_acme" });

    const result = await checkRouteProject(qa.url, KEY, {
      projectShortId: "proj_mobile",
      routes: ["ios", "android"],
    });

    expect(result).toEqual({
      ok: false,
      detail: expect.stringMatching(
        /^route "ios", "android": QA\.tech refused project proj_mobile for this key \(403/,
      ),
      fix: expect.stringContaining('set the projectShortId of route "ios", "android"'),
    });
  });
});
