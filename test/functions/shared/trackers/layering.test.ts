/**
 * The trackers' layering, read from the sources: the Linear agent is a one-way extension of Linear
 * (linear-agent/ imports linear/, never the reverse), Jira stands alone, and every Linear SDK client is
 * built in linear/client.ts, so every call goes through linearCall (timeouts, error mapping, 401 renewal).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

const TRACKERS = join(__dirname, "../../../../functions/shared/trackers");

/** The .ts files under a folder of trackers/, with their text. */
function sources(folder: string): Array<{ file: string; text: string }> {
  const dir = join(TRACKERS, folder);
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".ts"))
    .map((name) => ({
      file: relative(TRACKERS, join(dir, name)),
      text: readFileSync(join(dir, name), "utf8"),
    }));
}

/** Every module specifier a file imports (static `from "..."`, and dynamic `import("...")`). */
function imports(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/\bfrom\s+["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g))
    found.push(match[1] ?? match[2]);
  return found;
}

/** The imports of files under `folder` that name any of `forbidden` (a folder of trackers/). */
function offending(folder: string, forbidden: string[]): string[] {
  return sources(folder).flatMap(({ file, text }) =>
    imports(text)
      .filter((spec) => forbidden.some((f) => new RegExp(`(^|/)${f}(/|$)`).test(spec)))
      .map((spec) => `${file} imports ${spec}`),
  );
}

test("there are sources to check (the paths above are right)", () => {
  expect(sources("linear").map((s) => s.file)).toContain(join("linear", "client.ts"));
  expect(sources("linear-agent").length).toBeGreaterThan(0);
  expect(sources("jira").length).toBeGreaterThan(0);
  expect(imports('import { a } from "../linear-agent/api";\nawait import("../linear-agent");')).toEqual([
    "../linear-agent/api",
    "../linear-agent",
  ]);
  expect(offending("linear-agent", ["linear"])).not.toEqual([]);
});

test("nothing under trackers/linear/ imports from linear-agent/", () => {
  expect(offending("linear", ["linear-agent"])).toEqual([]);
});

test("nothing under trackers/jira/ imports from linear/ or linear-agent/", () => {
  expect(offending("jira", ["linear", "linear-agent"])).toEqual([]);
});

test("only linear/client.ts builds a LinearClient", () => {
  const building = [...sources("linear"), ...sources("linear-agent")]
    .filter(({ text }) => /new LinearClient\b/.test(text))
    .map(({ file }) => file);
  expect(building).toEqual([join("linear", "client.ts")]);
});
