import fc from "fast-check";
import { markdownToAdf as marklassian } from "marklassian";
import { isSafeUrl, stripUnsafeLinks } from "../../../../functions/shared/domain/safe-links";

/** Every link and image target a CommonMark/GFM parser (marked, through marklassian) finds in `markdown`. */
function targets(markdown: string): string[] {
  type Node = { attrs?: Record<string, unknown>; marks?: { attrs?: { href?: unknown } }[]; content?: Node[] };
  const found: string[] = [];
  const walk = (node: Node) => {
    for (const mark of node.marks ?? [])
      if (typeof mark.attrs?.href === "string") found.push(mark.attrs.href);
    if (typeof node.attrs?.url === "string") found.push(node.attrs.url);
    for (const child of node.content ?? []) walk(child);
  };
  walk(marklassian(markdown) as Node);
  return found;
}

/**
 * Written apart from isSafeUrl on purpose: whether a browser could see a scheme other than http, https or
 * mailto in `url` (control characters and spaces removed; an entity or escape before the first `/`, `?` or
 * `#` may hide one). Relative targets, which have none, pass.
 */
function hasUnsafeScheme(url: string): boolean {
  const seen = url.replace(/[\p{Cc}\s]/gu, "");
  if (/^(https?|mailto):/i.test(seen)) return false;
  return /^[a-z][a-z0-9+.-]*:/i.test(seen) || /^[^/?#]*[&\\%]/.test(seen);
}

describe("isSafeUrl", () => {
  it.each([
    "https://app.qa.tech/runs/7",
    "http://example.com",
    "HTTPS://EXAMPLE.COM",
    "mailto:qa@example.com",
    "  https://example.com",
  ])("keeps %j", (url) => {
    expect(isSafeUrl(url)).toBe(true);
  });

  it.each([
    "javascript:alert(1)",
    " JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "\u0000javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "java&#115;cript:alert(1)",
    "ftp://example.com",
    "/relative/path",
    "//evil.example",
    "",
  ])("refuses %j", (url) => {
    expect(isSafeUrl(url)).toBe(false);
  });
});

describe("stripUnsafeLinks", () => {
  it.each([
    ["an inline link", "See [click](javascript:alert(1)) now", "See click now"],
    ["a link with a title", '[click](javascript:alert(1) "title")', "click"],
    ["a link whose scheme hides behind case and spaces", "[a]( JaVaScRiPt:alert(1))", "a"],
    ["a link in angle brackets with a tab in its scheme", "[a](<java\tscript:x>)", "a"],
    ["an image", "![the screenshot](data:image/svg+xml,x)", "the screenshot"],
    [
      "a link around an image",
      "[![alt](https://x.example/i.png)](javascript:x)",
      "![alt](https://x.example/i.png)",
    ],
    ["a relative link", "[docs](/docs)", "docs"],
    ["an autolink", "Open <data:text/html,x> here", "Open data:text/html,x here"],
    ["a vbscript autolink", "<vbscript:msgbox(1)>", "vbscript:msgbox(1)"],
    ["a reference definition", "[r]\n\n[r]: javascript:alert(1)", "[r]\n\n"],
    ["a reference definition in a list", "- [r]\n- [r]: vbscript:x 'title'", "- [r]\n- "],
  ])("turns %s into text", (_, markdown, expected) => {
    expect(stripUnsafeLinks(markdown)).toBe(expected);
  });

  it.each([
    ["http, https and mailto links", "[a](https://x.example) [b](http://y.example) [c](mailto:q@x.example)"],
    ["autolinks and bare urls", "<https://x.example/a_b> www.example.com qa@example.com"],
    ["images", '![shot](https://x.example/s.png "Screenshot")'],
    ["reference links", "[run][1]\n\n[1]: https://app.qa.tech/runs/7"],
    ["fenced code", "```md\n[click](javascript:alert(1))\n<data:text/html,x>\n[r]: javascript:x\n```"],
    ["fenced code in a list item", "1. Paste:\n   ~~~\n   [click](javascript:alert(1))\n   ~~~"],
    ["inline code", "Payload: `[click](javascript:alert(1))` and ``<javascript:x>``"],
    ["ordinary text", "## Result\n\n- **3 of 4** passed (see above)\n- a [note] and a `code` span"],
  ])("leaves %s alone", (_, markdown) => {
    expect(stripUnsafeLinks(markdown)).toBe(markdown);
  });

  it("keeps the text of a link whose destination spans lines", () => {
    const stripped = stripUnsafeLinks("> [click](\n> javascript:alert(1))");

    expect(targets(stripped)).toEqual([]);
    expect(stripped).toContain("click");
  });

  it("does not let a backtick in a safe link's destination hide a link after it", () => {
    const stripped = stripUnsafeLinks("[a](https://x.example/`) [b](javascript:alert(1)) `");

    expect(targets(stripped)).toEqual(["https://x.example/`"]);
  });

  // Each found by the property below, against marked or CommonMark: where renderers can disagree on what is
  // code, a fence or a link, the text must be safe under every reading.
  it.each([
    ["a code span that opens on an earlier line", "x `y\nz `[a](javascript:b)`"],
    ["a definition whose label holds a backtick", "[a`]: javascript:x`\n\n[a`]"],
    ["a backtick inside an HTML tag", '<a title="`">[b](javascript:y)`'],
    ["a code span cut by a table's pipe", "| h | h |\n|---|---|\n| `a | [x](javascript:y) b` |"],
    [
      "a fence that its list item's end closes",
      "- x\n  ```\n  a\n```\n[b](javascript:y)\n```\n[c](javascript:z)\n```",
    ],
    ["a closing fence indented too deep", "```\n      ```\n[a](javascript:x)\n```\n[b](javascript:y)"],
    ["a fence whose blockquote ends", "> ```\n\n> [a](javascript:x)"],
    ["a fence after a lazy line", "- a\nlazy\n  ```\n[x](javascript:y)"],
    ["a link brought together by a rewrite", "[x][](javascript:y)(javascript:z)"],
    ["a long autolink", `<javascript:${"a".repeat(5000)}>`],
    ["a definition whose target is on the next line", "> [a]:\n> javascript:x\n\n[a]"],
    ["lines ending in a carriage return", "x `\r# [a](javascript:b) `"],
    ["code in a link text, as marked pairs it", "[``](https://ok.example)[b](javascript:x)``"],
    ["a code span after a tilde", "a ~`<javascript:z>`"],
    ["a fence after a definition's colon", "[r]:\n~~~\n<javascript:z>"],
    ["a fence on the blockquote's last line", "> [r]\n> ```[a](javascript:x)\n- "],
    ["a backtick after a bare url", "https://ok.example`<javascript:`> "],
    ["an escaped bracket after a bare url", "https://ok.example\\<data:x> "],
  ])("leaves no unsafe link in %s", (_, markdown) => {
    const stripped = stripUnsafeLinks(markdown);

    expect(targets(stripped).filter(hasUnsafeScheme)).toEqual([]);
    expect(stripUnsafeLinks(stripped)).toBe(stripped);
  });

  it("never leaves a link whose scheme is not allowed, and a second pass changes nothing", () => {
    const pieces = [
      "[",
      "]",
      "![",
      "(",
      ")",
      "<",
      ">",
      "> ",
      "- ",
      "`",
      "```",
      "~~~",
      "\\",
      " ",
      "\t",
      "\n",
      "\n\n",
      "    ",
      "|",
      "|-|",
      ":",
      "]:",
      "](",
      '"t"',
      "x",
      "javascript:",
      "JaVaScRiPt:",
      "java\tscript:",
      "data:text/html,x",
      "vbscript:",
      "&#106;",
      "alert(1)",
      "https://ok.example",
      "mailto:a@b.example",
      "<b title='",
      "'>",
      "\n- ",
      "\n> ",
      "\n    ",
      "\n```\n",
      "\n~~~\n",
      "\n|-|-|",
      "[r]: ",
      "~",
      "www.x.example",
    ];
    const markdown = fc.array(fc.constantFrom(...pieces), { maxLength: 40 }).map((parts) => parts.join(""));

    fc.assert(
      fc.property(fc.oneof(markdown, fc.string({ maxLength: 100 })), (input) => {
        fc.pre(!/<\/?adf/i.test(input));

        const stripped = stripUnsafeLinks(input);

        expect(targets(stripped).filter(hasUnsafeScheme)).toEqual([]);
        expect(stripUnsafeLinks(stripped)).toBe(stripped);
      }),
      { numRuns: 3000 },
    );
  });
});
