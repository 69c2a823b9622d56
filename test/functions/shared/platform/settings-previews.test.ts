import { parseSettings } from "../../../../functions/shared/platform/settings-schema";
import { settingsProblem } from "../../../support/settings";

const problem = (previewUrls: unknown) => settingsProblem({ qatech: { previewUrls } });

describe("settings: preview URLs", () => {
  it("are off by default, and take patterns per application", () => {
    expect(parseSettings({ qatech: {} }, "t").qatech.previewUrls).toEqual({});
    const patterns = { app_web: ["https://*-acme.vercel.app", "https://pr-{pr}.preview.acme.dev"] };
    expect(parseSettings({ qatech: { previewUrls: patterns } }, "t").qatech.previewUrls).toEqual(patterns);
  });

  it("refuse a pattern the allowlist rules refuse, naming the application and the pattern's place", () => {
    expect(problem({ app_web: ["https://pr-1.preview.acme.dev", "https://*.app"] })).toMatch(
      /qatech\.previewUrls\.app_web\.1/,
    );
    expect(problem({ app_web: ["http://*-acme.vercel.app"] })).toMatch(/qatech\.previewUrls\.app_web\.0/);
  });

  it("refuse a key that is not an application short id", () => {
    expect(problem({ web: ["https://*-acme.vercel.app"] })).toMatch(/qatech\.previewUrls\.web /);
  });
});
