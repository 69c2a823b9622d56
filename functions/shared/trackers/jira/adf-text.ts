// ADF types and ADF -> text, kept apart from markdown -> ADF so that reading a Jira webhook (which only
// needs the text of a description) never loads the markdown converter.

/** A mark on an ADF text node (strong, em, code, link...). */
export interface AdfMark {
  type: string;
  attrs?: Record<string, unknown>;
}

/** One node of an Atlassian Document Format tree. */
export interface AdfNode {
  type: string;
  attrs?: Record<string, unknown>;
  content?: AdfNode[];
  marks?: AdfMark[];
  text?: string;
}

/** The root of an ADF document, what Jira's v3 API takes as a comment body. */
export interface AdfDocument {
  type: "doc";
  version: 1;
  content: AdfNode[];
}

/** Node types that stand inside a paragraph. */
export const INLINE_TYPES = new Set([
  "text",
  "hardBreak",
  "mention",
  "emoji",
  "inlineCard",
  "date",
  "status",
]);

/** Renders an ADF document (or any node) as readable markdown-ish text; never throws on odd input. */
export function adfToText(doc: unknown): string {
  return render(doc, 0, new WeakSet())
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

// Payloads are parsed JSON, but a deep or (if built in code) cyclic tree must not blow the stack.
const MAX_DEPTH = 100;

function render(value: unknown, depth: number, seen: WeakSet<object>): string {
  if (depth > MAX_DEPTH || typeof value !== "object" || value === null || seen.has(value)) return "";
  seen.add(value);
  const node = value as {
    type?: unknown;
    text?: unknown;
    attrs?: unknown;
    content?: unknown;
    marks?: unknown;
  };
  const attrs = (typeof node.attrs === "object" && node.attrs !== null ? node.attrs : {}) as Record<
    string,
    unknown
  >;
  const children = Array.isArray(node.content) ? node.content : [];
  const inner = (separator?: string) => renderChildren(children, depth + 1, seen, separator);
  switch (node.type) {
    case "text":
      return renderText(node.text, node.marks);
    case "hardBreak":
      return "\n";
    case "mention": {
      const name = str(attrs.text) || str(attrs.id);
      return name === "" || name.startsWith("@") ? name : `@${name}`;
    }
    case "emoji":
      return str(attrs.text) || str(attrs.shortName);
    case "inlineCard":
    case "blockCard":
    case "embedCard":
      return str(attrs.url);
    case "status":
      return `[${str(attrs.text)}]`;
    case "date": {
      const at = new Date(Number(attrs.timestamp));
      return Number.isNaN(at.getTime()) ? "" : at.toISOString().slice(0, 10);
    }
    case "heading":
      return `${"#".repeat(Math.min(6, Math.max(1, Number(attrs.level) || 1)))} ${inner()}`;
    case "bulletList":
      return renderItems(children, depth, seen, () => "- ");
    case "orderedList": {
      const start = Number.isInteger(attrs.order) ? Number(attrs.order) : 1;
      return renderItems(children, depth, seen, (i) => `${start + i}. `);
    }
    case "taskList":
      return renderItems(children, depth, seen, (_, item) =>
        item.attrs?.state === "DONE" ? "- [x] " : "- [ ] ",
      );
    case "listItem":
      return inner("\n");
    case "codeBlock":
      return `\`\`\`${str(attrs.language)}\n${inner()}\n\`\`\``;
    case "blockquote":
      return inner()
        .split("\n")
        .map((line) => (line ? `> ${line}` : ">"))
        .join("\n");
    case "rule":
      return "---";
    case "table":
      return inner("\n");
    case "tableRow":
      return children.map((cell) => render(cell, depth + 1, seen).replace(/\s*\n\s*/g, " ")).join(" | ");
    case "media":
    case "mediaInline":
      return str(attrs.alt) ? `[attachment: ${str(attrs.alt)}]` : "[attachment]";
    default:
      return inner();
  }
}

function renderChildren(
  children: unknown[],
  depth: number,
  seen: WeakSet<object>,
  separator?: string,
): string {
  let out = "";
  let previousInline = true;
  for (const child of children) {
    const inline = INLINE_TYPES.has(String((child as { type?: unknown } | null)?.type));
    const piece = render(child, depth, seen);
    if (piece === "") continue;
    if (out !== "") out += separator ?? (inline && previousInline ? "" : "\n\n");
    out += piece;
    previousInline = inline;
  }
  return out;
}

function renderItems(
  items: unknown[],
  depth: number,
  seen: WeakSet<object>,
  marker: (index: number, item: { attrs?: Record<string, unknown> }) => string,
): string {
  return items
    .map((item, i) => {
      const prefix = marker(i, (item ?? {}) as { attrs?: Record<string, unknown> });
      const pad = " ".repeat(prefix.length);
      return render(item, depth + 1, seen)
        .split("\n")
        .map((line, n) => (n === 0 ? prefix : line ? pad : "") + line)
        .join("\n");
    })
    .join("\n");
}

function renderText(value: unknown, marks: unknown): string {
  const plain = str(value);
  if (!Array.isArray(marks)) return plain;
  const list = marks as Array<{ type?: unknown; attrs?: { href?: unknown } } | null>;
  const types = list.map((mark) => mark?.type);
  const href = list.find((mark) => mark?.type === "link")?.attrs?.href;
  const shown = types.includes("code") ? `\`${plain}\`` : plain;
  return typeof href === "string" && href !== plain ? `[${shown}](${href})` : shown;
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}
