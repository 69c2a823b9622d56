import { readFileSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import {
  type AdfDocument,
  type AdfNode,
  adfToText,
  buildJiraComment,
  JIRA_COMMENT_MAX_CHARS,
  markdownToAdf,
} from "../../../../../functions/shared/trackers/jira/adf";
import { expectValidAdf } from "../../../../support/adf-schema";

const link = { url: "https://app.qa.tech/conversations/c-42", label: "Open the conversation in QA.tech" };

function nodes(doc: AdfDocument): AdfNode[] {
  const all: AdfNode[] = [];
  const walk = (node: AdfNode) => {
    all.push(node);
    for (const child of node.content ?? []) walk(child);
  };
  for (const node of doc.content) walk(node);
  return all;
}

function types(doc: AdfDocument): string[] {
  return nodes(doc).map((node) => node.type);
}

const reply = [
  "## Result",
  "",
  "The login flow passed on **3 of 4** browsers, see [the run](https://app.qa.tech/runs/7).",
  "",
  "- Chrome: passed",
  "- Safari: failed",
  "  - button overlaps the field",
  "",
  "1. Open the page",
  "2. Resize to 375 px",
  "",
  "```ts",
  "expect(button).toBeVisible();",
  "```",
  "",
  "| Browser | Result |",
  "| --- | --- |",
  "| Chrome | passed |",
  "| Safari | failed |",
].join("\n");

describe("markdownToAdf", () => {
  it("keeps headings, lists, code blocks, links and tables", () => {
    const doc = markdownToAdf(reply);

    expect(types(doc)).toEqual(
      expect.arrayContaining(["heading", "bulletList", "orderedList", "codeBlock", "table", "tableHeader"]),
    );
    expect(nodes(doc).find((n) => n.type === "codeBlock")).toEqual({
      type: "codeBlock",
      attrs: { language: "ts" },
      content: [{ type: "text", text: "expect(button).toBeVisible();" }],
    });
    expect(nodes(doc).find((n) => n.marks?.some((m) => m.type === "link"))).toEqual({
      type: "text",
      text: "the run",
      marks: [{ type: "link", attrs: { href: "https://app.qa.tech/runs/7" } }],
    });
    expectValidAdf(doc);
  });

  it("repairs what marklassian gets wrong: empty code, headings in lists, empty items and cells", () => {
    const doc = markdownToAdf(
      "```\n```\n\n- # heading in a list\n-\n\n| | b |\n|-|-|\n| 1 | |\n\n> # quoted heading",
    );

    expect(adfToText(doc)).toContain("- heading in a list");
    expectValidAdf(doc);
  });

  it("shows <adf> blocks in the reply as text instead of injecting them", () => {
    const doc = markdownToAdf(
      'Before\n\n<adf>\n{"type":"extension","attrs":{}}\n</adf>\n\n<adf>\n{not json\n</adf>',
    );

    expect(types(doc)).not.toContain("extension");
    expect(adfToText(doc)).toContain("<adf>");
    expectValidAdf(doc);
  });

  it("leaves <adf> inside fenced code alone", () => {
    const doc = markdownToAdf("```html\n<adf>x</adf>\n```");

    expect(nodes(doc).find((n) => n.type === "codeBlock")?.content).toEqual([
      { type: "text", text: "<adf>x</adf>" },
    ]);
  });

  it.each([
    ["an inline javascript: link", "[click](javascript:alert(1))", "click"],
    ["a javascript: link hidden by case, spaces and a tab", "[click](< JaVa\tScRiPt:alert(1)>)", "click"],
    ["a data: autolink", "<data:text/html,x>", "data:text/html,x"],
    ["a vbscript: reference link", "[click]\n\n[click]: vbscript:msgbox(1)", "click"],
    ["a relative link", "[docs](/docs)", "docs"],
  ])("keeps the text of %s, without the link", (_, markdown, shown) => {
    const doc = markdownToAdf(markdown);

    expect(nodes(doc).filter((n) => n.marks?.some((m) => m.type === "link"))).toEqual([]);
    expect(adfToText(doc)).toContain(shown);
    expectValidAdf(doc);
  });

  it("keeps http, https and mailto links", () => {
    const doc = markdownToAdf(
      "[a](https://x.example) [b](http://y.example) [c](mailto:q@x.example) www.z.example",
    );

    const hrefs = nodes(doc)
      .flatMap((n) => n.marks ?? [])
      .map((m) => m.attrs?.href);
    expect(hrefs).toEqual([
      "https://x.example",
      "http://y.example",
      "mailto:q@x.example",
      "http://www.z.example",
    ]);
  });

  it("shows an image whose url is not allowed as its alt text", () => {
    const doc = markdownToAdf(
      "Before\n\n![the screenshot](javascript:alert(1))\n\n![kept](https://x.example/s.png)",
    );

    expect(
      nodes(doc)
        .filter((n) => n.type === "media")
        .map((n) => n.attrs?.url),
    ).toEqual(["https://x.example/s.png"]);
    expect(adfToText(doc)).toContain("the screenshot");
    expectValidAdf(doc);
  });

  it("produces a valid document for any markdown-like input", () => {
    const pieces = [
      "# ",
      "- ",
      "1. ",
      "> ",
      "```",
      "\n",
      "\n\n",
      "**",
      "_",
      "`",
      "~~",
      "[a](",
      ")",
      "![i](",
      "|",
      "|-|",
    ];
    const more = [
      "<b>",
      "<adf>",
      "</adf>",
      "- [ ] ",
      "- [x] ",
      "---",
      "word ",
      "    ",
      "\t",
      "é",
      "😀",
      "http://x.y",
    ];
    const markdown = fc
      .array(fc.constantFrom(...pieces, ...more), { maxLength: 30 })
      .map((parts) => parts.join(""));

    fc.assert(
      fc.property(fc.oneof(markdown, fc.string({ maxLength: 200 })), (input) => {
        expectValidAdf(markdownToAdf(input));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("buildJiraComment", () => {
  it("puts the reply first and the conversation link last", () => {
    const doc = buildJiraComment(reply, link, { heading: "QA.tech replied" });

    expect(doc.content[0]).toEqual({
      type: "heading",
      attrs: { level: 3 },
      content: [{ type: "text", text: "QA.tech replied" }],
    });
    expect(doc.content.at(-1)).toEqual({
      type: "paragraph",
      content: [{ type: "text", text: link.label, marks: [{ type: "link", attrs: { href: link.url } }] }],
    });
    expect(adfToText(doc)).not.toContain("cut to fit");
    expectValidAdf(doc);
  });

  it("falls back to the url when the link has no label", () => {
    const doc = buildJiraComment("Done.", { url: link.url, label: "" });

    expect(adfToText(doc)).toContain(link.url);
    expectValidAdf(doc);
  });

  it("cuts a huge reply at a line boundary, says so, and keeps the link", () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `- step ${i} passed`);

    const doc = buildJiraComment(lines.join("\n"), link);

    const text = adfToText(doc);
    expect(JSON.stringify(doc).length).toBeLessThan(JIRA_COMMENT_MAX_CHARS);
    expect(text).toContain("The reply was cut to fit Jira's comment limit; read it in full in QA.tech.");
    expect(text).toMatch(/- step \d+ passed\n\nThe reply was cut/);
    expect(doc.content.at(-1)?.content?.[0]?.marks?.[0]).toEqual({ type: "link", attrs: { href: link.url } });
    expectValidAdf(doc);
  });

  it("cuts inside a single line that alone is too long", () => {
    const doc = buildJiraComment("x".repeat(100_000), link);

    expect(JSON.stringify(doc).length).toBeLessThan(JIRA_COMMENT_MAX_CHARS);
    expect(adfToText(doc)).toMatch(/^x{1000,}\n\nThe reply was cut/);
    expectValidAdf(doc);
  });

  it("fills the comment from a too-long line after the lines that fit, instead of dropping it", () => {
    const prefix = "In reply to [QA.tech's comment](https://acme.atlassian.net/browse/PROJ-1):\n\n";

    const doc = buildJiraComment(`${prefix}${"y".repeat(100_000)}`, link);

    const text = adfToText(doc);
    expect(JSON.stringify(doc).length).toBeLessThan(JIRA_COMMENT_MAX_CHARS);
    expect(text).toMatch(/^In reply to \[QA\.tech's comment\]\(.*\):\n\ny{30000,}\n\nThe reply was cut/);
    expect(doc.content.at(-1)?.content?.[0]?.marks?.[0]).toEqual({ type: "link", attrs: { href: link.url } });
    expectValidAdf(doc);
  });

  it("never splits a surrogate pair when cutting inside a line", () => {
    const doc = buildJiraComment(`Intro\n\n${"😀".repeat(50_000)}`, link);

    const kept = adfToText(doc).split("\n")[2];
    expect(JSON.stringify(doc).length).toBeLessThan(JIRA_COMMENT_MAX_CHARS);
    expect(kept.length).toBeGreaterThan(10_000);
    expect(kept).toMatch(/^(😀)+$/u);
    expectValidAdf(doc);
  });

  it("stays valid, under the limit and linked however the reply is cut", () => {
    const line = fc.oneof(
      fc.constantFrom("", "- step passed", "```", "| a | b |", "> quoted", "**bold** [a](https://x.y)"),
      fc
        .tuple(fc.constantFrom("x", "😀", "é\t", "word **bold** "), fc.nat(40_000))
        .map(([piece, n]) => piece.repeat(Math.ceil(n / piece.length))),
    );

    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 8 }), (lines) => {
        const doc = buildJiraComment(lines.join("\n"), link);

        expect(JSON.stringify(doc).length).toBeLessThan(JIRA_COMMENT_MAX_CHARS);
        expect(doc.content.at(-1)?.content?.[0]?.marks?.[0]).toEqual({
          type: "link",
          attrs: { href: link.url },
        });
        expectValidAdf(doc);
      }),
      { numRuns: 10 },
    );
  });

  it("cuts a huge code block into a valid document", () => {
    const code = `\`\`\`\n${"console.log(1);\n".repeat(5000)}\`\`\``;

    const doc = buildJiraComment(code, link);

    expect(JSON.stringify(doc).length).toBeLessThan(JIRA_COMMENT_MAX_CHARS);
    expect(types(doc)).toContain("codeBlock");
    expectValidAdf(doc);
  });
});

describe("adfToText", () => {
  it("renders a realistic Jira description as readable text", () => {
    const payload = JSON.parse(
      readFileSync(
        path.join(__dirname, "../../../../fixtures/jira/jira-issue_updated.adf-description.json"),
        "utf8",
      ),
    );

    const text = adfToText(payload.issue.fields.description);

    expect(text).toBe(
      [
        "## Steps to reproduce",
        "",
        "1. Open [the login page](https://acme.example/login)",
        "2. Resize the window to 375 px",
        "",
        "Reported by @Jane Developer ⚠️",
        "See https://acme.atlassian.net/browse/PROJ-99",
        "",
        "```css",
        ".login button {",
        "  float: right;",
        "}",
        "```",
        "",
        "Browser | Result",
        "Safari | Overlaps",
        "",
        "[attachment: screenshot.png]",
      ].join("\n"),
    );
  });

  it("round-trips the gist of markdown", () => {
    expect(adfToText(markdownToAdf(reply))).toContain("- Safari: failed\n  - button overlaps the field");
  });

  it.each([
    ["undefined", undefined],
    ["a number", 42],
    ["a doc without content", { type: "doc" }],
    ["content that is not an array", { type: "doc", content: "nope" }],
    [
      "nodes that are not objects",
      { type: "doc", content: [null, 3, "x", { type: "paragraph", content: [7] }] },
    ],
    [
      "an unknown node",
      { type: "doc", content: [{ type: "futureThing", content: [{ type: "text", text: "hi" }] }] },
    ],
  ])("never throws on %s", (_, input) => {
    expect(() => adfToText(input)).not.toThrow();
  });

  it("recurses into unknown nodes", () => {
    const panel = {
      type: "doc",
      content: [
        { type: "panel", content: [{ type: "paragraph", content: [{ type: "text", text: "Note" }] }] },
      ],
    };

    expect(adfToText(panel)).toBe("Note");
  });

  it("survives a cyclic object", () => {
    const node: { type: string; content: unknown[] } = { type: "paragraph", content: [] };
    node.content.push(node, node, node);

    expect(adfToText(node)).toBe("");
  });
});
