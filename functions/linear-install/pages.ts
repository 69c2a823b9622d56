/** Escapes text for HTML: everything on these pages that is not ours (a workspace name, a URL) goes through it. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A small page a person reads once: the install's outcome and what to do next. Accessible (language, title,
 * one heading, landmarks, readable contrast, no script), and it works without any asset.
 */
export function page(opts: { title: string; ok: boolean; paragraphs: string[]; steps?: string[] }): string {
  const steps = opts.steps?.length
    ? `<h2>What to do next</h2>\n<ol>${opts.steps.map((s) => `<li>${s}</li>`).join("")}</ol>`
    : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(opts.title)} - qa-ticket</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1b1d21}
main{max-width:36rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:8px;border:1px solid #d5d8de}
h1{font-size:1.4rem;margin-top:0}
.status{font-weight:600;color:${opts.ok ? "#146c2e" : "#a4161a"}}
code{background:#eef0f3;padding:0 .25rem;border-radius:3px}
</style>
</head>
<body>
<main>
<h1>${escapeHtml(opts.title)}</h1>
${opts.paragraphs.map((p, i) => `<p${i === 0 ? ' class="status" role="status"' : ""}>${p}</p>`).join("\n")}
${steps}
</main>
</body>
</html>
`;
}
