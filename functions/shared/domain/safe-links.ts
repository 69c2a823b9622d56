// Links in QA.tech's replies are untrusted text: only http, https and mailto targets may stay links.
// Jira's comments are ADF, filtered in adf.ts; Linear renders markdown itself, so the markdown is rewritten.

const SAFE_SCHEME = /^(?:https?|mailto):/i;
const IGNORED_IN_URL = /[\p{Cc}\s]/gu;

/** Whether a link target may stay a link: an http, https or mailto URL (relative ones are refused too). */
export function isSafeUrl(url: string): boolean {
  // Browsers drop control characters and spaces around a URL and tabs and newlines inside it, so
  // " java\tscript:" is javascript:. Dropping them all before matching the allow-list can only refuse more.
  return SAFE_SCHEME.test(url.slice(0, 256).replace(IGNORED_IN_URL, ""));
}

/**
 * Turns markdown links, images, autolinks and reference definitions whose target is not safe into text: a
 * link keeps its text, an image its alt text, an autolink loses its brackets, a definition goes. Fenced code
 * and inline code stay as they are.
 */
export function stripUnsafeLinks(markdown: string): string {
  let text = markdown.replace(/\r\n?/g, "\n");
  // A rewrite can bring text together into a new link ("[a]" + "[](javascript:x)" + "(javascript:y)"):
  // rewriting until nothing changes means the result passes its own check.
  for (let pass = 0; pass < 8; pass++) {
    const next = rewriteBlocks(text);
    if (next === text) return text;
    text = next;
  }
  // Never seen; if it happened, escaped brackets (and escaped backslashes, so none is undone) form no link.
  return text.replace(/[\\[\]<]/g, "\\$&");
}

// How far a link's destination, title or a code span is looked for, and a link's text (read only to
// rewrite it tidily); past them the safe reading is taken. They bound the work on long adversarial input.
const LOOKAHEAD = 2_048;
const LINK_TEXT_LOOKAHEAD = 1_000;

const FENCE = /^((?: {0,3}> ?)*)( *(?:(?:[-+*]|\d{1,9}[.)]) {1,4})?)(`{3,}|~{3,})(.*)$/;
const LIST_ITEM = /^( *(?:[-+*]|\d{1,9}[.)]))( +|$)/;
// Renderers disagree on items that start with a blank line, so only an item with text gives list context.
const LIST_ITEM_WITH_TEXT = /^( *(?:[-+*]|\d{1,9}[.)]))( {1,4})\S/;
const HTML_BLOCK = /^ {0,3}<(?:[!?]|\/?[A-Za-z][A-Za-z0-9-]*(?=[\s/>]|$))/;
const TABLE_DELIMITER = /^[ \t>]*\|?[ \t]*:?-+:?[ \t]*\|/m;

interface Fence {
  quotes: number;
  indent: number;
  marker: string;
  /** The most indented closing fence that closes it whatever list item it is in. */
  surelyClosedUpTo: number;
}

/**
 * Leaves fenced code alone and rewrites the prose between. Where a fence's extent depends on list structure
 * read here only roughly (a line outdented past the fence, a closing fence that may be content), or on an
 * HTML block, fences stop being recognised for the rest of the text: code then gets rewritten too, which
 * is ugly but never leaves a link.
 */
function rewriteBlocks(markdown: string): string {
  const out: string[] = [];
  let prose: string[] = [];
  let fence: Fence | undefined;
  let trustFences = true;
  let listColumn = 0;
  const flush = () => {
    if (prose.length) out.push(rewriteInline(withoutUnsafeDefinitions(prose.join("\n"))));
    prose = [];
  };
  const lines = markdown.split("\n");
  for (const [index, line] of lines.entries()) {
    const { quotes, rest } = unquote(line);
    if (fence) {
      if (holds(fence, line)) {
        const indent = indentOf(unquote(line, fence.quotes).rest);
        const closing = quotes === fence.quotes ? closingFence(rest, fence.marker) : "no";
        if (closing === "no" || indent > fence.indent + 3) {
          out.push(line);
          continue;
        }
        if (closing === "yes" && indent <= fence.surelyClosedUpTo) {
          out.push(line);
          fence = undefined;
          continue;
        }
      }
      fence = undefined;
      trustFences = false;
    }
    if (rest.trim() !== "") {
      const item = LIST_ITEM_WITH_TEXT.exec(rest);
      if (item) listColumn = item[1].length + item[2].length;
      else if (LIST_ITEM.test(rest) || indentOf(rest) < listColumn) listColumn = 0;
    }
    if (trustFences && HTML_BLOCK.test(rest)) trustFences = false;
    let opened = trustFences ? openFence(line, listColumn) : undefined;
    // A fence whose container ends with it holds nothing, and marked does not let it end a paragraph there;
    // after `[id]:` marked reads the fence line as the definition's destination.
    if (opened && (!holds(opened, lines[index + 1]) || /\]:[ \t]*$/.test(lines[index - 1] ?? ""))) {
      opened = undefined;
      trustFences = false;
    }
    if (opened) {
      flush();
      out.push(line);
      fence = opened;
      continue;
    }
    prose.push(line);
  }
  flush();
  return out.join("\n");
}

/** Whether `line` is inside `fence` (as its content or its closing line) for any list structure around it. */
function holds(fence: Fence, line: string | undefined): boolean {
  if (line === undefined) return false;
  const { quotes, rest } = unquote(line, fence.quotes);
  return quotes === fence.quotes && (rest.trim() === "" || indentOf(rest) >= fence.indent);
}

function openFence(line: string, listColumn: number): Fence | undefined {
  const match = FENCE.exec(line);
  if (!match) return undefined;
  const [, quotePrefix, lead, marker, info] = match;
  if (marker.startsWith("`") && info.includes("`")) return undefined;
  const quotes = (quotePrefix.match(/>/g) ?? []).length;
  const indent = lead.length;
  // A closing fence may be indented up to three spaces past the column of the list item holding the fence.
  // With a list marker on the fence's own line that column is known; otherwise it is anywhere from the
  // fence's indent minus three (0 for a fence indented three or less) to the fence's indent.
  if (LIST_ITEM.test(lead)) return { quotes, indent, marker, surelyClosedUpTo: indent + 3 };
  if (indent <= 3) return { quotes, indent, marker, surelyClosedUpTo: 3 };
  // Deeper is indented code, unless it is inside a list item's content.
  if (listColumn === 0 || indent > listColumn + 3) return undefined;
  return { quotes, indent, marker, surelyClosedUpTo: indent };
}

/** Whether a line closes a fence: "maybe" when only some renderers say so (marked allows ```` ```~ ````). */
function closingFence(rest: string, marker: string): "yes" | "maybe" | "no" {
  const match = /^ *(`{3,}|~{3,})([`~ \t]*)$/.exec(rest);
  if (!match || match[1][0] !== marker[0] || match[1].length < marker.length) return "no";
  return /^[ \t]*$/.test(match[2]) ? "yes" : "maybe";
}

function unquote(line: string, max = Number.POSITIVE_INFINITY): { quotes: number; rest: string } {
  let quotes = 0;
  let rest = line;
  for (let m = /^ {0,3}> ?/.exec(rest); m && quotes < max; m = /^ {0,3}> ?/.exec(rest)) {
    quotes++;
    rest = rest.slice(m[0].length);
  }
  return { quotes, rest };
}

function indentOf(line: string): number {
  return /^ */.exec(line)?.[0].length ?? 0;
}

/**
 * Removes reference definitions (`[id]: javascript:...`) whose target is not safe. The label is read raw, as
 * a renderer reads it, so a backtick in it cannot hide the definition from rewriteInline.
 */
function withoutUnsafeDefinitions(prose: string): string {
  let text = prose;
  for (let start = 0; start < text.length; start = text.indexOf("\n", start) + 1 || text.length) {
    const open = start + containerPrefixLength(text, start);
    if (text[open] !== "[") continue;
    const close = labelEnd(text, open);
    const target = close > 0 && text[close + 1] === ":" ? definitionTarget(text, close + 2) : undefined;
    if (!target || isSafeUrl(target.destination)) continue;
    text = text.slice(0, open) + text.slice(target.end);
  }
  return text;
}

/** Blockquote markers, list markers and indentation at the start of a line. */
function containerPrefixLength(text: string, start: number): number {
  const match = /^(?:[ \t>]|(?:[-+*]|\d{1,9}[.)])(?=[ \t]))*/.exec(text.slice(start, start + 64));
  return match ? match[0].length : 0;
}

/** The first unescaped `]` after `open`, or -1 when a `[` or a blank line comes first. */
function labelEnd(text: string, open: number): number {
  for (let i = open + 1; i < Math.min(text.length, open + 1_000); i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === "]") return i;
    else if (text[i] === "[" || (text[i] === "\n" && /^\n[ \t>]*\n/.test(text.slice(i, i + 64)))) return -1;
  }
  return -1;
}

const BARE_URL = /^(?:(?:https?|ftp):\/\/|www\.)/i;
const ASCII_PUNCTUATION = /[!-/:-@[-`{-~]/;
const AUTOLINK_SCHEME = /^<[A-Za-z][A-Za-z0-9+.-]{1,31}:/;
const EMAIL_AUTOLINK =
  /^<[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*>/;
const HTML_TAG =
  /^<(?:[A-Za-z][A-Za-z0-9-]*(?:\s+[A-Za-z_:][\w.:-]*(?:\s*=\s*(?:[^\s"'=<>`]+|'[^']*'|"[^"]*"))?)*\s*\/?|\/[A-Za-z][A-Za-z0-9-]*\s*|!--[\s\S]*?--)>/;

/**
 * Rewrites the inline links of a run of prose lines. Renderers differ on where inline code begins and ends
 * (across lines, in tables, inside HTML tags or link destinations), and a link inside what this function
 * takes for code is left alone. So only single-line code spans count as code, and every other backtick is
 * escaped: it then opens no code span in any renderer, and the code spans seen here are the renderer's.
 * Where a link can start (`](`, `]:`, `<scheme:`), a target not proven safe is rewritten or escaped, in the
 * output as it stands, so text brought together by a rewrite is checked too.
 */
function rewriteInline(prose: string): string {
  const inTable = TABLE_DELIMITER.test(prose);
  let text = prose;
  // Pieces, not one growing string: reading the end of a string built by `+=` copies all of it.
  const out: string[] = [];
  let last = "";
  let lastBeforeSpaces = "";
  const emit = (piece: string) => {
    out.push(piece);
    last = piece.at(-1) ?? last;
    lastBeforeSpaces = piece.replace(/[ \t]+$/, "").at(-1) ?? lastBeforeSpaces;
  };
  // Up to here the text is a link destination or an HTML tag: backticks in it are not code for a renderer.
  let rawUntil = 0;
  // Brackets opened and not yet closed: a `]` in a code span may then end a link text for some renderers
  // (marked pairs backticks in link texts its own way), so such a span is not taken for code.
  let openBrackets = 0;
  // Up to here the text is a bare URL: marked takes everything but spaces and `<` into it, backslashes and
  // backticks included, so no code span opens there and `\<` does not escape the `<` that ends it.
  let urlUntil = 0;
  const replace = (from: number, to: number, replacement: string) => {
    text = text.slice(0, from) + replacement + text.slice(to);
    if (rawUntil > from) rawUntil = Math.max(from, rawUntil - (to - from) + replacement.length);
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (i >= urlUntil && BARE_URL.test(text.slice(i, i + 8))) urlUntil = bareUrlEnd(text, i);
    if (c === "\\" && ASCII_PUNCTUATION.test(text[i + 1] ?? "") && (i >= urlUntil || text[i + 1] !== "<")) {
      emit(text.slice(i, i + 2));
      i += 2;
      continue;
    }
    if (c === "`") {
      const run = runLength(text, i);
      let end = i >= rawUntil && i >= urlUntil ? codeSpanEnd(text, i, run, inTable) : -1;
      if (end > 0 && openBrackets > 0 && text.slice(i, end).includes("]")) end = -1;
      // marked reads a run of tildes and backticks as text, so after `~` no code span starts there.
      if (last === "~") end = -1;
      emit(end > 0 ? text.slice(i, end) : "\\`".repeat(run));
      i = end > 0 ? end : i + run;
      continue;
    }
    if (c === "[" || (c === "!" && text[i + 1] === "[")) {
      const link = inlineLinkAt(text, i, inTable);
      if (link && !isSafeUrl(link.destination)) {
        replace(i, link.end, link.text);
        continue;
      }
    }
    if (c === "<") {
      const autolink = autolinkAt(text, i);
      if (autolink && isSafeUrl(autolink.url)) {
        emit(text.slice(i, autolink.end));
        i = autolink.end;
        continue;
      }
      if (autolink) {
        replace(i, autolink.end, autolink.url);
        continue;
      }
      const tag = HTML_TAG.exec(text.slice(i, i + LOOKAHEAD));
      if (tag) rawUntil = Math.max(rawUntil, i + tag[0].length);
    }
    // A `(` after `]` (and maybe spaces) may open a link's target.
    if (c === "(" && lastBeforeSpaces === "]") {
      const target = linkTarget(text, i);
      if (!target || !isSafeUrl(target.destination)) {
        emit("\\(");
        i++;
        continue;
      }
      rawUntil = Math.max(rawUntil, target.end);
    }
    if (c === ":" && last === "]") {
      const target = definitionTarget(text, i + 1);
      if (target && !isSafeUrl(target.destination)) {
        emit("\\:");
        i++;
        continue;
      }
      if (target) rawUntil = Math.max(rawUntil, target.end);
    }
    if (c === "[") openBrackets++;
    else if (c === "]") openBrackets = Math.max(0, openBrackets - 1);
    else if (c === "\n" && /^\n[ \t>]*(\n|$)/.test(text.slice(i, i + 64))) openBrackets = 0;
    emit(c);
    i++;
  }
  return out.join("");
}

function bareUrlEnd(text: string, i: number): number {
  const rest = /[^\s<]*/y;
  rest.lastIndex = i;
  rest.exec(text);
  return rest.lastIndex;
}

function runLength(text: string, i: number): number {
  let j = i;
  while (text[j] === text[i]) j++;
  return j - i;
}

/** Where the code span opened by the backtick run at `i` ends, or -1: only spans on one line count. */
function codeSpanEnd(text: string, i: number, run: number, inTable: boolean): number {
  const lineEnd = text.indexOf("\n", i);
  const limit = Math.min(lineEnd < 0 ? text.length : lineEnd, i + LOOKAHEAD);
  for (let j = i + run; j < limit; ) {
    if (text[j] !== "`") {
      // A table splits its cells at pipes before it reads code spans.
      if (inTable && text[j] === "|") return -1;
      j++;
      continue;
    }
    const length = runLength(text, j);
    if (length === run) return j + length;
    j += length;
  }
  return -1;
}

/** An inline link or image starting at `i`: what to show instead of it, its target and where it ends. */
function inlineLinkAt(
  text: string,
  i: number,
  inTable: boolean,
): { text: string; destination: string; end: number } | undefined {
  const open = text[i] === "!" ? i + 1 : i;
  let depth = 0;
  for (let j = open; j < Math.min(text.length, open + LINK_TEXT_LOOKAHEAD); j++) {
    const c = text[j];
    if (c === "\\") j++;
    else if (c === "`") {
      const run = runLength(text, j);
      const end = codeSpanEnd(text, j, run, inTable);
      j = (end > 0 ? end : j + run) - 1;
    } else if (c === "[") depth++;
    else if (c === "]" && --depth === 0) {
      if (text[j + 1] !== "(") return undefined;
      const target = linkTarget(text, j + 1);
      return target && { text: text.slice(open + 1, j), destination: target.destination, end: target.end };
    }
  }
  return undefined;
}

/** The `(destination "title")` of an inline link at `paren`, read as CommonMark reads it (a little more). */
function linkTarget(text: string, paren: number): { destination: string; end: number } | undefined {
  let j = skipSpace(text, paren + 1);
  const destination = destinationAt(text, j, true);
  if (!destination) return undefined;
  j = skipSpace(text, destination.end);
  if (j > destination.end && text[j] !== ")") {
    const title = titleEnd(text, j);
    if (title < 0) return undefined;
    j = skipSpace(text, title);
  }
  return text[j] === ")" ? { destination: destination.value, end: j + 1 } : undefined;
}

/**
 * The destination of a reference definition whose `:` is just before `from`, and where its line ends; none
 * when what follows is not a definition (a definition's destination and title fill the rest of its line).
 */
function definitionTarget(text: string, from: number): { destination: string; end: number } | undefined {
  const destination = destinationAt(text, skipSpace(text, from), false);
  if (!destination || (destination.value === "" && text[destination.end - 1] !== ">")) return undefined;
  let j = destination.end;
  while (text[j] === " " || text[j] === "\t") j++;
  if (j < text.length && text[j] !== "\n") {
    const title = titleEnd(text, j);
    if (title < 0 || j === destination.end) return undefined;
    j = title;
    while (text[j] === " " || text[j] === "\t") j++;
    if (j < text.length && text[j] !== "\n") return undefined;
  }
  return { destination: destination.value, end: j };
}

/** Where a link title starting at `from` ends (after its closing quote or parenthesis), or -1. */
function titleEnd(text: string, from: number): number {
  const closer = ({ '"': '"', "'": "'", "(": ")" } as Record<string, string>)[text[from]];
  if (!closer) return -1;
  let k = from + 1;
  while (k < text.length && text[k] !== closer && k < from + LOOKAHEAD) k += text[k] === "\\" ? 2 : 1;
  return text[k] === closer ? k + 1 : -1;
}

function destinationAt(
  text: string,
  from: number,
  inParentheses: boolean,
): { value: string; end: number } | undefined {
  if (text[from] === "<") {
    let j = from + 1;
    while (j < text.length && !"<>\n".includes(text[j]) && j < from + LOOKAHEAD)
      j += text[j] === "\\" ? 2 : 1;
    return text[j] === ">" ? { value: text.slice(from + 1, j), end: j + 1 } : undefined;
  }
  let depth = 0;
  let j = from;
  for (; j < text.length && j < from + LOOKAHEAD; j++) {
    const c = text[j];
    if (c === " " || c === "\t" || c === "\n") break;
    if (c === "\\") j++;
    else if (c === "(") depth++;
    else if (c === ")" && inParentheses && --depth < 0) break;
  }
  if (j >= from + LOOKAHEAD) return undefined;
  return { value: text.slice(from, j), end: j };
}

/** Spaces and tabs, and at most one line break followed by the next line's container markers. */
function skipSpace(text: string, from: number): number {
  let j = from;
  while (text[j] === " " || text[j] === "\t") j++;
  if (text[j] === "\n") {
    j++;
    while (text[j] === " " || text[j] === "\t" || text[j] === ">") j++;
  }
  return j;
}

function autolinkAt(text: string, i: number): { url: string; end: number } | undefined {
  const email = EMAIL_AUTOLINK.exec(text.slice(i, i + 400));
  if (email) return { url: `mailto:${email[0].slice(1, -1)}`, end: i + email[0].length };
  if (!AUTOLINK_SCHEME.test(text.slice(i, i + 40))) return undefined;
  let j = i + 1;
  while (j < text.length && !/[\s<>\p{Cc}]/u.test(text[j])) j++;
  return text[j] === ">" ? { url: text.slice(i + 1, j), end: j + 1 } : undefined;
}
