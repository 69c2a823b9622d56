import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BEGIN, CONFIG_DOC_PATH, configFieldTable, docWithConfigTable, END } from "../../lib/config-docs";

describe("docs/configuration.md's config table", () => {
  it("is the table the settings schema gives (run `npm run docs` after changing the schema)", () => {
    const doc = readFileSync(CONFIG_DOC_PATH, "utf8");

    expect(doc).toBe(docWithConfigTable(doc));
  });

  it("has one row per setting, with its default, and marks the required qatech block", () => {
    const table = configFieldTable();

    expect(table).toContain("| `qatech` | object | **required** |");
    expect(table).toContain("| `qatech.maxConcurrency` | whole number 0-1000 | `4` |");
    expect(table).toContain('| `qatech.apiUrl` | string | `"https://api.qa.tech"` |');
    expect(table).toContain("| `alarmEmail` | email | none |");
    expect(table).not.toContain("$schema");
  });

  it("says a change review of a GitHub pull request puts QA.tech's check on that pull request", () => {
    const row = configFieldTable()
      .split("\n")
      .find((line) => line.startsWith("| `qatech.changeReview` |"));

    expect(row).toContain('"QA.tech / PR Review" check');
  });

  it("is in docs/configuration.md, not in README", () => {
    expect(CONFIG_DOC_PATH).toMatch(/docs[/\\]configuration\.md$/);
    expect(readFileSync(join(__dirname, "..", "..", "README.md"), "utf8")).not.toContain(BEGIN);
  });

  it("replaces only what is between the markers", () => {
    const doc = `# x\n\nbefore\n${BEGIN}\nstale\n${END}\nafter\n`;

    const updated = docWithConfigTable(doc);

    expect(updated.startsWith(`# x\n\nbefore\n${BEGIN}\n| field |`)).toBe(true);
    expect(updated.endsWith(`\n${END}\nafter\n`)).toBe(true);
    expect(updated).not.toContain("stale");
  });
});
