/**
 * The credentials this process holds, so that no text a peer sends back (an error body that echoes the
 * request's `Authorization` header, say) can carry one of them into a ticket comment or a log line.
 * Every credential is registered where it is read (secrets.ts) or used (the QA.tech and Jira clients).
 */
const secrets = new Set<string>();

/** Shorter values are too likely to occur in ordinary text to be worth redacting (and are not keys). */
const MIN_SECRET_LENGTH = 6;

const REDACTED = "[redacted]";

/** Remembers a credential, so that redactSecrets removes it (and its JSON-escaped form) from any text. */
export function registerSecret(value: string | undefined): void {
  if (!value || value.length < MIN_SECRET_LENGTH) return;
  secrets.add(value);
  const escaped = JSON.stringify(value).slice(1, -1);
  if (escaped !== value) secrets.add(escaped);
}

/** Replaces every registered credential in `text` with "[redacted]". */
export function redactSecrets(text: string): string {
  let out = text;
  // Longest first, so a credential that contains another is removed whole.
  const all = [...secrets].sort((a, b) => b.length - a.length);
  for (const secret of all) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}
