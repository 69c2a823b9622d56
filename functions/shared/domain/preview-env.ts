/**
 * The environment a ticket is tested on: its own preview deployment when the ticket links one that the
 * organisation's allowlist accepts (domain/preview-url.ts, the security boundary), else the configured one.
 * Pure: the start step gathers the ticket's links, text and pull request, this decides.
 */
import type { ApplicationOverride } from "../qatech/client";
import {
  checkPreviewUrl,
  compilePreviewAllowlist,
  findPreviewUrl,
  type PreviewSource,
  type PreviewSources,
} from "./preview-url";

/** qatech.previewUrls: URL patterns by application short id. */
export type PreviewUrls = Readonly<Record<string, readonly string[]>>;

/** A preview chosen for one application. */
export interface PreviewChoice {
  applicationShortId: string;
  url: string;
  /** Where it was found: a link the tracker holds, the ticket's text, or the linked pull request's number. */
  source: PreviewSource | "request";
}

/** The previews a ticket offers, one per application whose allowlist accepts one (in the config's order). */
export function choosePreviews(previewUrls: PreviewUrls, sources: PreviewSources): PreviewChoice[] {
  const chosen: PreviewChoice[] = [];
  for (const [applicationShortId, patterns] of Object.entries(previewUrls)) {
    const found = findPreviewUrl(compilePreviewAllowlist(patterns), sources);
    if (found) chosen.push({ applicationShortId, url: found.url, source: found.source });
  }
  return chosen;
}

/**
 * A URL someone asked for (`@qa retry on <url>`, an agent's "test on <url>"): the first application whose
 * allowlist accepts it, or why none does (said on the ticket).
 */
export function requestedPreview(
  previewUrls: PreviewUrls,
  candidate: string,
): { ok: true; choice: PreviewChoice } | { ok: false; reason: string } {
  const apps = Object.entries(previewUrls);
  if (apps.length === 0) return { ok: false, reason: "no preview URLs are configured (qatech.previewUrls)" };
  let reason = "";
  for (const [applicationShortId, patterns] of apps) {
    const verdict = checkPreviewUrl(compilePreviewAllowlist(patterns), candidate);
    if (verdict.ok) return { ok: true, choice: { applicationShortId, url: verdict.url, source: "request" } };
    reason ||= verdict.reason;
  }
  return { ok: false, reason };
}

/** Several allowlists as one: each application's patterns from all of them, in order. */
export function mergePreviewUrls(lists: readonly PreviewUrls[]): Record<string, string[]> {
  const merged: Record<string, string[]> = {};
  for (const list of lists)
    for (const [app, patterns] of Object.entries(list)) merged[app] = [...(merged[app] ?? []), ...patterns];
  return merged;
}

/**
 * The application overrides with each chosen preview as its application's environment, named after the
 * ticket (`ENG-42 preview`): an application already overridden keeps its device preset, one that was not
 * is added.
 */
export function withPreviews(
  overrides: readonly ApplicationOverride[],
  previews: readonly PreviewChoice[],
  ticketKey: string,
): ApplicationOverride[] {
  const result = overrides.map((o) => ({ ...o }));
  for (const preview of previews) {
    const environment = { url: preview.url, name: `${ticketKey} preview` };
    const existing = result.find((o) => o.applicationShortId === preview.applicationShortId);
    if (existing) existing.environment = environment;
    else result.push({ applicationShortId: preview.applicationShortId, environment });
  }
  return result;
}

/** The number of a pull request or merge request URL (`.../pull/42`, `.../-/merge_requests/42`). */
export function pullRequestNumber(url: string): number | undefined {
  const match = /\/(?:pull|merge_requests)\/([1-9][0-9]{0,8})(?:[/?#]|$)/.exec(url);
  return match ? Number(match[1]) : undefined;
}
