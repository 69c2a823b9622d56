import { parseSettings } from "../../../functions/shared/platform/settings-schema";
import type { OrgConfig } from "../../../lib/config";
import { previewPatternsRow } from "../../../tools/doctor/doctor";

function config(raw: Record<string, unknown>): OrgConfig {
  return { org: "acme", ...parseSettings(raw, "test config") };
}

describe("doctor: preview URL patterns", () => {
  it("has no row without preview URLs", () => {
    expect(previewPatternsRow(config({ qatech: {} }))).toBeUndefined();
  });

  it("is ok when every pattern is on hosts only the organisation deploys to", () => {
    const row = previewPatternsRow(
      config({
        qatech: {
          previewUrls: { app_web: ["https://pr-{pr}.preview.acme.dev", "https://*.preview.acme.dev"] },
        },
      }),
    );

    expect(row).toMatchObject({ status: "ok", detail: expect.stringMatching(/^2 pattern\(s\)/) });
  });

  it("warns, naming the route and pattern, when a pattern lets in anybody's deployments on a shared host", () => {
    const row = previewPatternsRow(
      config({
        qatech: {},
        routes: [
          { name: "web", match: { labels: ["web"] }, previewUrls: { app_web: ["https://*.vercel.app"] } },
        ],
      }),
    );

    expect(row?.status).toBe("warn");
    expect(row?.detail).toMatch(/^route "web" app_web https:\/\/\*\.vercel\.app: /);
    expect(row?.fix).toMatch(/organisation.s own domain/);
  });
});
