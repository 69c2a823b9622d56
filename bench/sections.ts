// What `npm run bench` measures, and `npm run bench -- --only verdict,runs` to measure some of it: the
// whole run takes minutes on a busy machine, and the sections not named keep their last results.

/** What `npm run bench` measures, in its order; `--only` picks some and keeps the others' last results. */
export const SECTIONS = ["schedules", "starts", "runs", "verdict", "webhook", "bundles"] as const;
export type Section = (typeof SECTIONS)[number];

/** The sections `--only a,b` (or `--only=a,b`) names, or every section; throws on a name it does not know. */
export function sectionsToRun(argv: string[]): Section[] {
  const i = argv.findIndex((a) => a === "--only" || a.startsWith("--only="));
  if (i < 0) return [...SECTIONS];
  const value = argv[i].startsWith("--only=") ? argv[i].slice("--only=".length) : (argv[i + 1] ?? "");
  const names = value
    .split(",")
    .map((n) => n.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(SECTIONS as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length > 0)
    throw new Error(`--only takes some of ${SECTIONS.join(",")}; got "${value}"`);
  return SECTIONS.filter((s) => names.includes(s));
}
