import { randomUUID } from "node:crypto";
import { markdownToAdf as marklassian } from "marklassian";
import { longestFitting, withoutLoneSurrogate } from "../../domain/limits";
import { isSafeUrl } from "../../domain/safe-links";
import { type AdfDocument, type AdfMark, type AdfNode, adfToText, INLINE_TYPES } from "./adf-text";

export { type AdfDocument, type AdfMark, type AdfNode, adfToText } from "./adf-text";

/** Jira's comment limit; we measure the JSON of the ADF body, which is never shorter than what Jira counts. */
export const JIRA_COMMENT_MAX_CHARS = 32_767;

/** Room left in every comment for the run marker the Jira client appends. */
const MARKER_RESERVE_CHARS = 200;

/** A line longer than this is cut inside rather than dropped when it does not fit whole. */
const LONG_LINE_CHARS = 1_000;

const CUT_NOTICE = "The reply was cut to fit Jira's comment limit; read it in full in QA.tech.";

/** Converts markdown to a schema-valid ADF document. */
export function markdownToAdf(markdown: string): AdfDocument {
  const converted = marklassian(neutraliseAdfTags(markdown));
  return { type: "doc", version: 1, content: cleanBlocks("doc", converted.content) };
}

/** Builds a Jira comment: the reply, then a paragraph linking to the conversation; cut to fit Jira's limit. */
export function buildJiraComment(
  replyMarkdown: string,
  link: { url: string; label: string },
  options: { heading?: string } = {},
): AdfDocument {
  const budget = JIRA_COMMENT_MAX_CHARS - MARKER_RESERVE_CHARS;
  const compose = (markdown: string, cut: boolean): AdfDocument => {
    const content: AdfNode[] = [];
    if (options.heading)
      content.push({ type: "heading", attrs: { level: 3 }, content: [text(options.heading)] });
    content.push(...markdownToAdf(markdown).content);
    if (cut) content.push({ type: "paragraph", content: [text(CUT_NOTICE)] });
    const label = link.label || link.url;
    content.push({
      type: "paragraph",
      content: [text(label, [{ type: "link", attrs: { href: link.url } }])],
    });
    return { type: "doc", version: 1, content };
  };
  const fits = (markdown: string) => JSON.stringify(compose(markdown, true)).length <= budget;

  const whole = compose(replyMarkdown, false);
  if (JSON.stringify(whole).length <= budget) return whole;

  const lines = replyMarkdown.split("\n");
  const keptLines = longestFitting(lines.length, (n) => fits(lines.slice(0, n).join("\n")));
  const next = lines[keptLines] ?? "";
  // Cutting an ordinary line can change its meaning ("step 304 passed" -> "step 3"), so it is dropped
  // whole; a long one (a reply that is one huge line after a short preface) would take most of the reply
  // with it, so the rest of the comment is filled from it instead.
  if (keptLines > 0 && next.length <= LONG_LINE_CHARS)
    return compose(lines.slice(0, keptLines).join("\n").trimEnd(), true);
  const head = keptLines > 0 ? `${lines.slice(0, keptLines).join("\n")}\n` : "";
  const withChars = (n: number) => head + withoutLoneSurrogate(next.slice(0, n));
  const keptChars = longestFitting(next.length, (n) => fits(withChars(n)));
  return compose(withChars(keptChars).trimEnd(), true);
}

function text(value: string, marks?: AdfMark[]): AdfNode {
  return marks ? { type: "text", text: value, marks } : { type: "text", text: value };
}

/**
 * marklassian passes `<adf>…</adf>` blocks through verbatim (and throws on bad JSON in them); the reply is
 * not ours to trust, so outside fenced code such tags are backslash-escaped and show as text.
 */
function neutraliseAdfTags(markdown: string): string {
  let inFence = false;
  return markdown
    .split("\n")
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
      return inFence ? line : line.replace(/<(\/?adf)(?=[\s>/]|$)/gi, "\\<$1");
    })
    .join("\n");
}

// marklassian can emit structures the schema rejects (headings in list items, empty text, empty list
// items, block nodes inside task items...). What each container accepts, read from the published schema.
const LIST_BLOCKS = ["paragraph", "bulletList", "orderedList", "taskList", "codeBlock", "mediaSingle"];
const CELL_BLOCKS = [...LIST_BLOCKS, "heading", "blockquote", "rule"];
const BLOCKS_IN: Record<string, Set<string>> = {
  doc: new Set([...CELL_BLOCKS, "table"]),
  listItem: new Set(LIST_BLOCKS),
  blockquote: new Set(["paragraph", "bulletList", "orderedList", "codeBlock", "mediaSingle"]),
  tableCell: new Set(CELL_BLOCKS),
  tableHeader: new Set(CELL_BLOCKS),
};

const NEEDS_CONTENT = new Set(["listItem", "tableCell", "tableHeader"]);

function cleanBlocks(container: string, nodes: AdfNode[] | undefined): AdfNode[] {
  const allowed = BLOCKS_IN[container];
  const out: AdfNode[] = [];
  for (const node of (nodes ?? []).flatMap(cleanNode)) {
    if (allowed.has(node.type)) out.push(node);
    else if (INLINE_TYPES.has(node.type)) {
      const last = out.at(-1);
      if (last?.type === "paragraph" && last.content) last.content.push(node);
      else out.push({ type: "paragraph", content: [node] });
    } else if (node.type === "heading") out.push({ type: "paragraph", content: node.content ?? [] });
    else out.push(...asParagraphs(node));
  }
  if (out.length === 0 && NEEDS_CONTENT.has(container)) out.push({ type: "paragraph", content: [] });
  return out;
}

function cleanInline(nodes: AdfNode[] | undefined): AdfNode[] {
  const out: AdfNode[] = [];
  for (const node of (nodes ?? []).flatMap(cleanNode)) {
    if (INLINE_TYPES.has(node.type)) out.push(node);
    else {
      const lines = asInline(node);
      if (lines.length && out.length) out.push({ type: "hardBreak" });
      out.push(...lines);
    }
  }
  return out;
}

function cleanNode(node: AdfNode): AdfNode[] {
  switch (node.type) {
    case "text": {
      if (!node.text) return [];
      const marks = cleanMarks(node.marks);
      return [marks ? { type: "text", text: node.text, marks } : { type: "text", text: node.text }];
    }
    case "codeBlock": {
      const code = (node.content ?? []).map((child) => child.text ?? "").join("");
      return [{ ...node, content: code ? [text(code)] : [] }];
    }
    case "paragraph":
    case "heading":
    case "taskItem":
      return [{ ...node, content: cleanInline(node.content) }];
    case "bulletList":
    case "orderedList":
      return nonEmpty(node, wrapEach(node.content, "listItem"));
    case "taskList":
      return nonEmpty(
        node,
        (node.content ?? []).flatMap(cleanNode).map((child) =>
          child.type === "taskItem" || child.type === "taskList"
            ? child
            : {
                type: "taskItem",
                attrs: { localId: randomUUID(), state: "TODO" },
                content: asInline(child),
              },
        ),
      );
    case "mediaSingle": {
      // An image Jira would load from a javascript: or data: url shows as its alt text instead.
      const media = (node.content ?? []).find((child) => child.type === "media");
      const url = media?.attrs?.url;
      if (media?.attrs?.type !== "external" || (typeof url === "string" && isSafeUrl(url))) return [node];
      const alt = typeof media.attrs.alt === "string" ? media.attrs.alt : "";
      return alt ? [{ type: "paragraph", content: [text(alt)] }] : [];
    }
    case "table":
      return nonEmpty(node, (node.content ?? []).flatMap(cleanNode));
    case "tableRow":
      return nonEmpty(node, (node.content ?? []).flatMap(cleanNode));
    case "doc":
    case "listItem":
    case "blockquote":
    case "tableCell":
    case "tableHeader": {
      const content = cleanBlocks(node.type, node.content);
      return content.length ? [{ ...node, content }] : [];
    }
    default:
      return [node];
  }
}

function wrapEach(nodes: AdfNode[] | undefined, type: string): AdfNode[] {
  return (nodes ?? [])
    .map((child) => (child.type === type ? child : { type, content: [child] }))
    .flatMap(cleanNode);
}

function nonEmpty(node: AdfNode, content: AdfNode[]): AdfNode[] {
  return content.length ? [{ ...node, content }] : [];
}

function cleanMarks(marks: AdfMark[] | undefined): AdfMark[] | undefined {
  const unique = new Map<string, AdfMark>();
  for (const mark of marks ?? []) {
    // The reply is untrusted: a javascript: or data: link keeps its text and loses the link.
    if (mark.type === "link" && (typeof mark.attrs?.href !== "string" || !isSafeUrl(mark.attrs.href)))
      continue;
    unique.set(mark.type, mark);
  }
  let kept = [...unique.values()];
  // Inline code may only carry a link next to it.
  if (unique.has("code")) kept = kept.filter((mark) => mark.type === "code" || mark.type === "link");
  return kept.length ? kept : undefined;
}

/** A block that may not stand where it is, as inline text lines. */
function asInline(node: AdfNode): AdfNode[] {
  const lines = adfToText(node)
    .split("\n")
    .filter((line) => line.trim() !== "");
  return lines.flatMap((line, i) => (i === 0 ? [text(line)] : [{ type: "hardBreak" }, text(line)]));
}

function asParagraphs(node: AdfNode): AdfNode[] {
  const content = asInline(node);
  return content.length ? [{ type: "paragraph", content }] : [];
}
