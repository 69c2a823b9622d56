import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const ROOT = join(__dirname, "..", "..");
const DOCS = [
  "README.md",
  "SECURITY.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`),
];

/** The markdown outside fenced code blocks and inline code, where a link is a link. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, "").replace(/`[^`\n]*`/g, "");
}

/** GitHub's anchor for a heading: lowercased, punctuation but `-` and `_` dropped, spaces as dashes. */
function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/[`*]/g, "")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** Every anchor a file's headings give, with GitHub's -1, -2 suffixes for repeated headings. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, heading] of markdown.replace(/^```[\s\S]*?^```/gm, "").matchAll(/^#{1,6} +(.+)$/gm)) {
    const base = slug(heading);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** The relative links of a markdown file that lead nowhere: a missing file, or a missing heading anchor. */
function brokenLinks(file: string, markdown: string, read: (path: string) => string | undefined): string[] {
  const broken: string[] = [];
  for (const [, target] of prose(markdown).matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?: "[^"]*")?\)/g)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: ...: not a file here
    const [path, anchor] = target.split("#", 2);
    const resolved = path ? resolve(dirname(file), path) : file;
    const text = read(resolved);
    if (text === undefined) {
      broken.push(`${target} (no such file)`);
    } else if (anchor !== undefined && resolved.endsWith(".md") && !anchors(text).has(anchor)) {
      broken.push(`${target} (no such heading)`);
    }
  }
  return broken;
}

const readFromDisk = (path: string) =>
  existsSync(path) ? (path.endsWith(".md") ? readFileSync(path, "utf8") : "") : undefined;

describe("links in README.md, SECURITY.md and docs/", () => {
  it.each(DOCS)("every relative link in %s leads to a file and heading that exist", (doc) => {
    const file = join(ROOT, doc);

    expect(brokenLinks(file, readFileSync(file, "utf8"), readFromDisk)).toEqual([]);
  });

  it("README links to every page in docs/", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");

    for (const doc of DOCS.filter((d) => d.startsWith("docs/"))) expect(readme).toContain(`](${doc}`);
  });

  it("finds a missing file, a missing heading, and skips code and web addresses", () => {
    const files: Record<string, string> = {
      "/r/docs/a.md": "# A page\n\n## What `npm run setup` does\n\n## Cost\n\n## Cost\n",
    };
    const read = (path: string) => files[path];
    const doc = [
      "[ok](a.md) [ok](a.md#what-npm-run-setup-does) [ok](a.md#cost-1) [ok](#a-page)",
      "[gone](b.md) [gone](a.md#costs) ![gone](../img.svg)",
      "`[code](nowhere.md)` [web](https://example.com/x.md)",
      "```\n[fenced](nowhere.md)\n```",
    ].join("\n");

    expect(brokenLinks("/r/docs/a.md", `# A page\n${doc}`, read)).toEqual([
      "b.md (no such file)",
      "a.md#costs (no such heading)",
      "../img.svg (no such file)",
    ]);
  });
});
