import { SECTIONS, sectionsToRun } from "../../bench/sections";

describe("npm run bench -- --only", () => {
  it("measures every section without --only", () => {
    expect(sectionsToRun([])).toEqual([...SECTIONS]);
  });

  it("measures the sections named, in the benchmark's order, either spelling", () => {
    expect(sectionsToRun(["--only", "verdict,runs"])).toEqual(["runs", "verdict"]);
    expect(sectionsToRun(["--only=bundles"])).toEqual(["bundles"]);
  });

  it("refuses a name it does not know, or none", () => {
    expect(() => sectionsToRun(["--only", "runs,verdicts"])).toThrow("--only takes some of");
    expect(() => sectionsToRun(["--only"])).toThrow("--only takes some of");
  });
});
