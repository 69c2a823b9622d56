/**
 * All text of an ADF document, one text node a line, each link's target after it as ` <href>`: what a
 * reader of a Jira comment sees, in a form tests can assert on.
 */
export function adfText(node: unknown): string {
  if (!node || typeof node !== "object") return "";
  const n = node as {
    text?: string;
    marks?: Array<{ type: string; attrs?: { href?: string } }>;
    content?: unknown[];
  };
  const href = n.marks?.find((m) => m.type === "link")?.attrs?.href;
  const own = `${n.text ?? ""}${href ? ` <${href}>` : ""}`;
  return [own, ...(n.content ?? []).map(adfText)].filter(Boolean).join("\n");
}
