import type http from "node:http";
import { GraphQLError } from "../linear";
import { readBody } from "../server";

/** The agent platform's wire: GraphQL input errors, form bodies, JSON answers and HTML pages. */

export function invalid(message: string): GraphQLError {
  return new GraphQLError(message, "invalid input", message);
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export async function form(req: http.IncomingMessage): Promise<URLSearchParams> {
  return new URLSearchParams(await readBody(req));
}

export function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(text);
}

export function htmlPage(res: http.ServerResponse, status: number, title: string, inner: string): void {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8" });
  res.end(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
      `<body><main><h1>${escapeHtml(title)}</h1>${inner}</main></body></html>`,
  );
}
