/**
 * Preview deployments: which URLs from a ticket QA.tech's test agent may be sent to. The agent goes there
 * with the project's test credentials, so the allowlist of patterns is the security boundary, and a ticket
 * (untrusted text) can only pick among hosts the configuration names.
 *
 * Patterns: `https://` and a host, nothing else (no path, port or userinfo; a trailing `/` is allowed). The
 * host's first label may hold one placeholder: `*` (one or more of `a-z 0-9 -`, never a dot, never empty)
 * or `{pr}` (a pull request number: digits only, no leading zero), with fixed text around it
 * (`*-acme`, `pr-{pr}`); every other label is fixed. The labels after the first are the pattern's fixed
 * suffix, which every accepted host ends with. A placeholder needs at least two fixed labels after it and
 * may not sit directly under a known public suffix (`https://*.app`, `https://*.co.uk` are refused).
 *
 * Candidates (links in ticket text, attachment URLs) are read strictly, before and apart from WHATWG URL
 * parsing, whose leniency (backslashes as slashes, `0x7f.1` as an IP address, percent-decoding and IDNA
 * in hosts) is what look-alikes exploit; WHATWG parsing must then agree on the host. Refused: any scheme
 * but https; userinfo; a port (even :443); IP literals in any form; non-ASCII hosts and punycode (`xn--`)
 * labels; percent-encoding in the host; a backslash, space or control character anywhere; a trailing dot
 * (`x.vercel.app.` is another origin to a browser). Upper case is normalised (DNS is case-insensitive).
 * An accepted candidate yields its origin only (`https://host`): the preview deployment is the
 * environment, and the rest of the link is untrusted text the agent does not need.
 *
 * https://url.spec.whatwg.org/#host-parsing (what browsers accept as hosts);
 * https://www.rfc-editor.org/rfc/rfc5890#section-2.3.1 (reserved `??--` labels, `xn--`);
 * https://publicsuffix.org/ (suffixes under which anyone may register a name).
 */

/** A checked, compiled allowlist pattern. */
export interface PreviewPattern {
  /** The pattern as configured, lower-cased and without a trailing `/`. */
  readonly pattern: string;
  /** The labels every host it accepts ends with, such as `vercel.app` (the whole host for a fixed one). */
  readonly fixedSuffix: string;
  /** The placeholder in the first label, if any. */
  readonly placeholder?: "*" | "{pr}";
  /**
   * Set when anyone may deploy to a host the pattern accepts: a `*` under a shared hosting domain
   * (`*.vercel.app` lets in every Vercel user's deployments, not only the organisation's). Not an error;
   * setup and doctor should show it.
   */
  readonly warning?: string;
  /** First label: the fixed text before and after the placeholder (the whole label when it has none). */
  readonly head: string;
  readonly tail: string;
}

/** Where an accepted preview URL came from. */
export type PreviewSource = "link" | "text" | "pull-request";

/** A preview URL the allowlist accepts: its origin, and the pattern that let it in. */
export interface PreviewMatch {
  url: string;
  pattern: string;
  source: PreviewSource;
}

/** A candidate's verdict: the accepted origin, or why it was refused (for the ticket, e.g. `@qa retry on`). */
export type PreviewVerdict = { ok: true; url: string; pattern: string } | { ok: false; reason: string };

/** A config problem, located like the settings schema's issues (`path` below the list's own path). */
export interface PatternProblem {
  path: number[];
  message: string;
}

/**
 * Public suffixes a placeholder may not sit directly under: multi-label registry suffixes (a single label,
 * such as `app`, is refused by the two-fixed-labels rule). A short list of the common ones, not the whole
 * Public Suffix List: a pattern is config that people review, and this catches the plausible mistakes.
 */
const REGISTRY_SUFFIXES = new Set([
  "co.uk",
  "org.uk",
  "ac.uk",
  "gov.uk",
  "me.uk",
  "com.au",
  "net.au",
  "org.au",
  "co.nz",
  "co.jp",
  "ne.jp",
  "co.in",
  "co.za",
  "com.br",
  "com.cn",
  "com.mx",
  "com.tr",
  "com.sg",
  "co.kr",
  "eu.org",
]);

/**
 * Shared hosting domains where anyone can deploy (each on the Public Suffix List's private section): a
 * `*` right under one accepts strangers' deployments too, hence the warning.
 */
const SHARED_HOSTING_SUFFIXES = new Set([
  "vercel.app",
  "netlify.app",
  "pages.dev",
  "workers.dev",
  "web.app",
  "firebaseapp.com",
  "github.io",
  "gitlab.io",
  "herokuapp.com",
  "onrender.com",
  "fly.dev",
  "railway.app",
  "up.railway.app",
  "amplifyapp.com",
  "azurestaticapps.net",
  "azurewebsites.net",
  "surge.sh",
  "ngrok.app",
  "ngrok.io",
  "ngrok-free.app",
]);

/** How many patterns one allowlist may hold: each candidate is checked against all of them. */
export const MAX_PATTERNS = 20;
/** Characters of ticket text read when looking for links (the description is already cut to 24 KiB). */
export const SCAN_MAX_CHARS = 64 * 1024;
/** Candidates (links and attachment URLs) checked per ticket, at most. */
export const SCAN_MAX_CANDIDATES = 200;
/** The longest candidate read; longer ones are refused unread. */
export const CANDIDATE_MAX_CHARS = 2048;
/** The largest pull request number filled into `{pr}`. */
const PR_MAX = 9_999_999_999;

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const TOP_LABEL = /^[a-z]{2,63}$/;
const STAR_RUN = /^[a-z0-9-]+$/;
const PR_RUN = /^[1-9][0-9]{0,9}$/;

/**
 * Why `host` (lower case, ASCII) is not a DNS name we send the agent to, or undefined when it is one:
 * LDH labels, no reserved `??--` label (which holds punycode's `xn--`), and an alphabetic top-level label,
 * so no form of IPv4 address (`127.0.0.1`, `2130706433`, `0x7f.1`, `0177.1`) passes.
 */
function hostProblem(host: string): string | undefined {
  if (host.length > 253) return "the host is longer than 253 characters";
  const labels = host.split(".");
  if (labels.some((label) => label === "")) return "the host has an empty label";
  const top = labels[labels.length - 1];
  if (/^(0x[0-9a-f]*|[0-9]+)$/.test(top)) return "the host is an IP address";
  if (labels.length < 2) return "the host is a single label";
  if (!TOP_LABEL.test(top)) return "the host's last label is not a top-level domain";
  for (const label of labels) {
    if (label.startsWith("xn--")) return "the host is an internationalised (punycode) name";
    if (label.slice(2, 4) === "--") return `the host's label "${label}" is a reserved form (??--)`;
    if (!LABEL.test(label)) return `the host's label "${label}" is not a DNS label`;
  }
  return undefined;
}

/** Checks one pattern; returns it compiled, or the problem (naming the pattern). */
function compileOne(raw: string): PreviewPattern | string {
  const named = `preview URL pattern ${JSON.stringify(raw)}`;
  if (typeof raw !== "string") return `${named} must be a string`;
  if (!raw.toLowerCase().startsWith("https://")) return `${named} must start with https://`;
  const host = raw.toLowerCase().slice("https://".length).replace(/\/$/, "");
  const pattern = `https://${host}`;
  if (/[/?#]/.test(host)) return `${named} must be https:// and a host only (no path, query or fragment)`;
  if (host.includes("@")) return `${named} must not have userinfo (user@)`;
  if (host.includes(":") || host.includes("[")) return `${named} must not have a port or an IP address`;
  if (host === "") return `${named} has no host`;
  const labels = host.split(".");
  const first = labels[0];
  const placeholders = (host.match(/\*|\{pr\}/g) ?? []).length;
  if (placeholders > 1) return `${named} may have only one placeholder (* or {pr})`;
  if (labels.slice(1).some((label) => label.includes("*") || label.includes("{pr}")))
    return `${named} may have a placeholder only in its first label`;
  const placeholder = first.includes("*") ? "*" : first.includes("{pr}") ? "{pr}" : undefined;
  const fixedLabels = placeholder ? labels.slice(1) : labels;
  const fixedSuffix = fixedLabels.join(".");
  if (placeholder) {
    if (fixedLabels.length < 2)
      return `${named} puts its placeholder directly under a top-level domain: it would let in anyone's host`;
    if (REGISTRY_SUFFIXES.has(fixedSuffix))
      return `${named} puts its placeholder directly under the public suffix "${fixedSuffix}": it would let in anyone's host`;
  }
  const [head, tail] = placeholder ? first.split(placeholder) : [first, ""];
  // The pattern's host, with the placeholder filled by a plausible value, must itself be a good host.
  const sample = [`${head}${placeholder === "*" ? "a" : placeholder ? "1" : ""}${tail}`, ...fixedLabels].join(
    ".",
  );
  const problem = hostProblem(sample);
  if (problem) return `${named}: ${problem.replace("the host", "its host")}`;
  if (!placeholder && REGISTRY_SUFFIXES.has(host)) return `${named} is a public suffix, not a host`;
  const warning =
    placeholder === "*" && SHARED_HOSTING_SUFFIXES.has(fixedSuffix)
      ? `${named} lets in every deployment on ${fixedSuffix}, anyone's included: a ticket could send QA.tech's ` +
        "test agent, with the project's test credentials, to a stranger's site. Prefer a domain of your own " +
        "(https://pr-{pr}.preview.example.com) or a {pr} pattern."
      : undefined;
  return {
    pattern,
    fixedSuffix,
    ...(placeholder && { placeholder }),
    ...(warning && { warning }),
    head,
    tail,
  };
}

/** The problems of an allowlist, one per bad pattern, each naming it; empty when every pattern is good. */
export function previewPatternProblems(patterns: readonly string[]): PatternProblem[] {
  const problems: PatternProblem[] = [];
  if (patterns.length > MAX_PATTERNS)
    problems.push({ path: [], message: `has ${patterns.length} patterns; at most ${MAX_PATTERNS}` });
  for (const [i, raw] of patterns.entries()) {
    const compiled = compileOne(raw);
    if (typeof compiled === "string") problems.push({ path: [i], message: compiled });
  }
  return problems;
}

/** Compiles an allowlist (at config load); throws an Error naming every bad pattern. */
export function compilePreviewAllowlist(patterns: readonly string[]): PreviewPattern[] {
  const problems = previewPatternProblems(patterns);
  if (problems.length) throw new Error(problems.map((p) => p.message).join("; "));
  return patterns.map((raw) => compileOne(raw) as PreviewPattern);
}

/** Whether `host` (checked) fits `p`: the same number of labels, the fixed suffix, and the first label. */
function fits(p: PreviewPattern, host: string): boolean {
  const dot = host.indexOf(".");
  if (!p.placeholder) return host === p.fixedSuffix;
  if (host.slice(dot + 1) !== p.fixedSuffix) return false;
  const first = host.slice(0, dot);
  if (first.length <= p.head.length + p.tail.length) return false;
  if (!first.startsWith(p.head) || !first.endsWith(p.tail)) return false;
  const run = first.slice(p.head.length, first.length - p.tail.length);
  return (p.placeholder === "*" ? STAR_RUN : PR_RUN).test(run);
}

// Anything that may end an authority, for a strict reader and for WHATWG alike.
const AUTHORITY_END = /[/?#]/;
// A backslash is a slash to WHATWG in an https URL and not to other readers; spaces and controls are
// dropped or kept depending on the reader. Either way the readers may disagree on the host: refused.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const AMBIGUOUS = /[\\\s\u0000-\u001F\u007F-\u009F]/;

/** The checked, lower-cased host of an https URL, or why the URL is refused. */
function candidateHost(candidate: string): { host: string } | { reason: string } {
  if (candidate.length > CANDIDATE_MAX_CHARS) return { reason: "the URL is too long" };
  if (!/^https:\/\//i.test(candidate)) return { reason: "only https URLs are allowed" };
  if (AMBIGUOUS.test(candidate)) return { reason: "the URL has a backslash, a space or a control character" };
  const rest = candidate.slice("https://".length);
  const end = rest.search(AUTHORITY_END);
  const authority = end < 0 ? rest : rest.slice(0, end);
  if (authority.includes("@")) return { reason: "the URL has userinfo (an @ before the host)" };
  if (authority.startsWith("[")) return { reason: "the host is an IP address" };
  if (authority.includes(":")) return { reason: "the URL has a port" };
  if (authority.includes("%")) return { reason: "the host is percent-encoded" };
  if (/[^\x20-\x7E]/.test(authority)) return { reason: "the host is not ASCII (an internationalised name)" };
  if (authority === "") return { reason: "the URL has no host" };
  if (!/^[A-Za-z0-9.-]+$/.test(authority))
    return { reason: "the host has characters a DNS name cannot have" };
  const host = authority.toLowerCase();
  if (host.endsWith(".")) return { reason: "the host ends with a dot" };
  const problem = hostProblem(host);
  if (problem) return { reason: problem };
  // Defence in depth: what a browser (and QA.tech's agent) would read must be the same host.
  let parsed: URL;
  try {
    parsed = new URL(candidate);
  } catch {
    return { reason: "the URL does not parse" };
  }
  if (parsed.hostname !== host || parsed.port !== "" || parsed.username !== "" || parsed.password !== "")
    return { reason: "URL readers disagree on the host" };
  return { host };
}

/** Checks one candidate URL against the allowlist: its origin when a pattern accepts it, else why not. */
export function checkPreviewUrl(allowlist: readonly PreviewPattern[], candidate: string): PreviewVerdict {
  const read = candidateHost(candidate);
  if ("reason" in read) return { ok: false, reason: read.reason };
  const pattern = allowlist.find((p) => fits(p, read.host));
  if (!pattern) return { ok: false, reason: `https://${read.host} matches no allowed preview URL pattern` };
  return { ok: true, url: `https://${read.host}`, pattern: pattern.pattern };
}

/** The URL a `{pr}` pattern names for pull request `pr`, or undefined when it cannot be filled. */
export function fillPreviewPattern(p: PreviewPattern, pr: number): string | undefined {
  if (p.placeholder !== "{pr}" || !Number.isSafeInteger(pr) || pr < 1 || pr > PR_MAX) return undefined;
  const host = [`${p.head}${pr}${p.tail}`, p.fixedSuffix].join(".");
  return hostProblem(host) === undefined && fits(p, host) ? `https://${host}` : undefined;
}

// A link in text: https:// and what follows up to a character that ends a link in markdown or prose.
// Backslashes, @ and % stay in it, so a look-alike is read whole and refused, not cut into an allowed host.
const LINK_IN_TEXT = /https:\/\/[^\s<>"'`()[\]{}|^]*/gi;
const TRAILING_PUNCTUATION = /[.,;:!?*_~]+$/;

/** What a ticket offers as a preview: its links (attachments, remote links), its text, its linked PR. */
export interface PreviewSources {
  /** URLs the tracker holds as links: Linear attachments, Jira remote links, link marks of the description. */
  links?: readonly string[];
  /** Free text: the description, a follow-up's text. */
  texts?: readonly string[];
  /** The number of the pull request the ticket links, if one. */
  pullRequest?: number;
}

/**
 * The first preview URL the allowlist accepts: among the links, then the links found in the texts (in
 * order), then `{pr}` patterns filled with the linked pull request's number. Bounded: at most
 * SCAN_MAX_CHARS of text are read and SCAN_MAX_CANDIDATES candidates checked, whatever the ticket holds.
 */
export function findPreviewUrl(
  allowlist: readonly PreviewPattern[],
  sources: PreviewSources,
): PreviewMatch | undefined {
  if (allowlist.length === 0) return undefined;
  let checked = 0;
  const accept = (candidate: string, source: PreviewSource): PreviewMatch | undefined => {
    checked++;
    const verdict = checkPreviewUrl(allowlist, candidate);
    return verdict.ok ? { url: verdict.url, pattern: verdict.pattern, source } : undefined;
  };
  for (const link of sources.links ?? []) {
    if (checked >= SCAN_MAX_CANDIDATES) return undefined;
    if (typeof link !== "string") continue;
    const found = accept(link, "link");
    if (found) return found;
  }
  let budget = SCAN_MAX_CHARS;
  for (const text of sources.texts ?? []) {
    if (budget <= 0 || checked >= SCAN_MAX_CANDIDATES) break;
    if (typeof text !== "string") continue;
    const read = text.slice(0, budget);
    budget -= read.length;
    for (const [link] of read.matchAll(LINK_IN_TEXT)) {
      if (checked >= SCAN_MAX_CANDIDATES) break;
      const found = accept(link.replace(TRAILING_PUNCTUATION, ""), "text");
      if (found) return found;
    }
  }
  if (sources.pullRequest === undefined) return undefined;
  for (const p of allowlist) {
    const url = fillPreviewPattern(p, sources.pullRequest);
    if (url) return { url, pattern: p.pattern, source: "pull-request" };
  }
  return undefined;
}
