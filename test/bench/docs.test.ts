import { readFileSync } from "node:fs";
import {
  BENCH_DOC_PATH,
  type BenchResults,
  BLOCKS,
  begin,
  docWithBenchTables,
  end,
  readResults,
} from "../../bench/docs";

describe("docs/benchmark.md's tables", () => {
  it("are what bench/results.json says (run `npm run docs` after `npm run bench`)", () => {
    const doc = readFileSync(BENCH_DOC_PATH, "utf8");

    expect(doc).toBe(docWithBenchTables(doc, readResults()));
  });

  it("show the measured numbers: a poll schedule row, a ticket's cost, the run wait, a bundle, a target", () => {
    const doc = readFileSync(BENCH_DOC_PATH, "utf8");

    expect(doc).toContain("| 10 min | 43 / 5 s | 121 / 5 s | 31 / 20 s | <= 60 s |");
    expect(doc).toContain("| total polls | 164 | 542 | 139 |  |");
    expect(doc).toMatch(/\| 10 min \| 43 \| 67 \| 25 \| 104 s \| 501 s \| \$0\.00189 \|/);
    expect(doc).toContain(
      "| 1 min | ends at 360 s | 19 | 20 | 70 | 26 | 57 s | 320 s (runs 311 s) | 377 s | $0.00190 | +$0.00145 |",
    );
    expect(doc).toMatch(/\| read-runs \| 543 KB \| 63\.2 ms \| no \| no \|/);
    expect(doc).toMatch(
      /\| webhook p99 < 50 ms \(local runner\) \| 74\.0 ms \(floor 42\.2 ms\) \| \*\*not met\*\* \|/,
    );
  });

  it("go out of date when the results change", () => {
    const doc = readFileSync(BENCH_DOC_PATH, "utf8");
    const results = readResults();
    const changed: BenchResults = {
      ...results,
      schedules: results.schedules.map((o) => (o.replySeconds === 600 ? { ...o, polls: o.polls + 1 } : o)),
      webhook: { ...results.webhook, p99Ms: 12.3 },
    };

    const updated = docWithBenchTables(doc, changed);

    expect(updated).not.toBe(doc);
    expect(updated).toContain("| 10 min | 44 / 5 s | 122 / 5 s | 32 / 20 s | <= 60 s |");
    expect(updated).toContain("| the local runner | 34.7 ms | 12.3 ms |");
  });

  it("replaces only what is between the markers, and names a block whose markers are missing", () => {
    const doc = `# x\n\nprose\n${BLOCKS.map((b) => `${begin(b)}\nstale\n${end(b)}`).join("\n\nmore prose\n")}\nafter\n`;

    const updated = docWithBenchTables(doc, readResults());

    expect(updated).not.toContain("stale");
    expect(updated.startsWith(`# x\n\nprose\n${begin("run")}\nFrom the run of `)).toBe(true);
    expect(updated.split("more prose")).toHaveLength(BLOCKS.length);
    expect(updated.endsWith(`\n${end("targets")}\nafter\n`)).toBe(true);
    expect(() => docWithBenchTables(doc.replace(end("bundles"), ""), readResults())).toThrow("BENCH:bundles");
  });
});
