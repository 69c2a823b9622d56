/**
 * Bounds on untrusted text, measured the way Step Functions measures its limits: in bytes of the UTF-8
 * JSON encoding, where a NUL or another control character takes 6 bytes (`\u0000`), not 1.
 *
 * Step Functions refuses a StartExecution input over 256 KiB, and fails an execution whose state (any
 * state's input or output) passes 256 KiB with `States.DataLimitExceeded`, which no Catch can handle: the
 * ticket would go silent. So every string that a ticket, a comment or QA.tech can make long is cut before
 * it enters an execution input or the state, and the budgets below add up to well under the limit:
 *
 *   title 2 + key 0.2 + url 2 + description 24 + follow-up 16 + conversation, thread and review urls 6
 *   + reply 96 + progress 4 (agent runs) + error (our own messages, peer text cut to 2, and the stack)
 *   + verdict 20 (domain/verdict.ts) + the runs' links, reruns and notes (about 10) + fixed fields (ids, poll)
 *   < 200 KiB of 256 KiB (test/functions/shared/domain/limits.test.ts builds it).
 *
 * The rest is margin for the Cause Step Functions adds when it catches a Lambda error (the function's own
 * message and stack, a few KB) and for fields added later without revisiting this sum.
 */
export const STATE_MAX_BYTES = 256 * 1024;

export const TITLE_MAX_BYTES = 2 * 1024;
export const KEY_MAX_BYTES = 200;
export const URL_MAX_BYTES = 2 * 1024;
export const DESCRIPTION_MAX_BYTES = 24 * 1024;
export const FOLLOW_UP_MAX_BYTES = 16 * 1024;
export const REPLY_MAX_BYTES = 96 * 1024;
/** A peer's error text quoted in our error messages (and so in the failure comment). */
export const PEER_TEXT_MAX_BYTES = 2 * 1024;

/** Bytes of the UTF-8 JSON encoding of a value: what Step Functions counts. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? "", "utf8");
}

// C0 controls but tab, newline and carriage return; DEL. Trackers and the assistant gain nothing from them,
// and many stores refuse a NUL outright (a PostgreSQL text value cannot hold one).
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Makes untrusted text safe to carry and to post: control characters become their visible symbols
 * (U+2400 block: NUL shows as ␀), and unpaired surrogates, which have no UTF-8 encoding, become U+FFFD.
 */
export function sanitizeText(text: string): string {
  return text
    .replace(CONTROL, (c) => String.fromCharCode(c === "\u007F" ? 0x2421 : 0x2400 + c.charCodeAt(0)))
    .replace(LONE_SURROGATE, "\uFFFD");
}

/** Bytes a string adds to a JSON document, quotes excluded. */
function encodedBytes(text: string): number {
  return jsonBytes(text) - 2;
}

/**
 * Sanitizes `text` and cuts it so that its JSON encoding takes at most `maxBytes`, notice included; the
 * notice (which says the text was cut) is appended only when something was cut.
 */
export function capText(text: string, maxBytes: number, notice = ""): string {
  const clean = sanitizeText(text);
  if (encodedBytes(clean) <= maxBytes) return clean;
  const room = Math.max(0, maxBytes - encodedBytes(notice));
  // Largest prefix that fits, by UTF-16 length (encoded size grows with length).
  const kept = longestFitting(clean.length, (n) => encodedBytes(clean.slice(0, n)) <= room);
  return `${withoutLoneSurrogate(clean.slice(0, kept))}${notice}`;
}

/** Largest n in [0, max] with fits(n), by bisection (fits must be roughly monotone); 0 is never tested. */
export function longestFitting(max: number, fits: (n: number) => boolean): number {
  let lo = 0;
  let hi = max;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The text without a high surrogate at its end, which a cut may leave of a character it split. */
export function withoutLoneSurrogate(text: string): string {
  return /[\uD800-\uDBFF]$/.test(text) ? text.slice(0, -1) : text;
}
