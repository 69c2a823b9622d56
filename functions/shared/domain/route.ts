import type { TrackerName } from "./ticket";

/**
 * The route table: an ordered list of routes, each sending the tickets it matches to its own QA.tech
 * project, applications, instruction or preview URLs. The first route whose match fits a ticket wins; a
 * ticket no route fits takes the top-level `qatech` settings, so a config without routes behaves as before.
 *
 * How a match fits a ticket:
 * - `linearTeams` (Linear team keys such as `ENG`) and `jiraProjects` (Jira project keys such as `PROJ`)
 *   together say where the ticket lives: it fits when it is a Linear issue of one of the teams or a Jira
 *   issue of one of the projects (a ticket lives in one tracker, so the two can only be alternatives).
 * - `labels`: the ticket carries at least one of them.
 * - Given both, a ticket must fit both (where it lives AND a label): `{ linearTeams: ["APP"], labels:
 *   ["ios"] }` is the APP team's iOS tickets. Anything else is said with two routes, whereas "any of"
 *   across kinds could not say this at all.
 * Keys compare in upper case and labels case-insensitively, as the trackers show them (Linear matches
 * label names case-insensitively; two Jira labels differing only in case go the same way).
 *
 * Routing reads only what the tracker states about the ticket (its key, team or project, labels), never
 * its text, and it runs when the conversation is opened: follow-ups stay in that conversation's project.
 */

/** What a route matches on; at least one criterion, each a non-empty list. */
export interface RouteMatch {
  linearTeams?: readonly string[];
  jiraProjects?: readonly string[];
  labels?: readonly string[];
}

/** One route: its name (used in messages), its match, and the settings it overrides (opaque here). */
export type Route<Overrides extends object = Record<string, unknown>> = {
  name: string;
  match: RouteMatch;
} & Overrides;

/** The settings a route may override: anything else in a route is an error. */
export const ROUTE_OVERRIDE_KEYS = [
  "projectShortId",
  "applicationOverrides",
  "instruction",
  "changeReview",
  "previewUrls",
] as const;

/** What routing knows of a ticket: only fields the tracker states, never the ticket's text. */
export interface RoutingFacts {
  tracker: TrackerName;
  /** Linear (label or agent runs): the team key, such as `ENG`. */
  teamKey?: string;
  /** Jira: the project key, such as `PROJ`. */
  projectKey?: string;
  /** The names of the labels the ticket carries. */
  labels: readonly string[];
}

/** A problem in the route table, located below `routes` like the settings schema's issues. */
export interface RouteProblem {
  path: Array<string | number>;
  message: string;
}

const MATCH_KEYS = ["linearTeams", "jiraProjects", "labels"] as const;
// Linear team keys are letters and digits; Jira's are what settings-schema.ts's jira.projectKeys accepts.
const KEY_FORMAT: Record<"linearTeams" | "jiraProjects", { pattern: RegExp; what: string }> = {
  linearTeams: { pattern: /^[A-Za-z0-9]{1,20}$/, what: "a Linear team key such as ENG" },
  jiraProjects: { pattern: /^[A-Z][A-Z0-9_]+$/, what: "a Jira project key such as PROJ" },
};

/**
 * The team or project key in a ticket key (`ENG-42` is team ENG's, `PROJ-7` project PROJ's), both trackers
 * building issue keys that way; undefined for anything else. The key comes from the tracker's own payload.
 */
export function keyPrefix(ticketKey: string): string | undefined {
  return /^([A-Za-z][A-Za-z0-9_]{0,39})-[0-9]{1,12}$/.exec(ticketKey)?.[1]?.toUpperCase();
}

/** A match as sets: "any" where it does not restrict. Homes are `linear:KEY` and `jira:KEY`. */
interface Normalised {
  homes: Set<string> | "any";
  labels: Set<string> | "any";
}

function normalise(match: RouteMatch): Normalised {
  const homes = [
    ...(match.linearTeams ?? []).map((key) => `linear:${key.toUpperCase()}`),
    ...(match.jiraProjects ?? []).map((key) => `jira:${key.toUpperCase()}`),
  ];
  const noHome = match.linearTeams === undefined && match.jiraProjects === undefined;
  return {
    homes: noHome ? "any" : new Set(homes),
    labels: match.labels === undefined ? "any" : new Set(match.labels.map((label) => label.toLowerCase())),
  };
}

function homeOf(facts: RoutingFacts): string | undefined {
  if (facts.tracker === "jira") return facts.projectKey && `jira:${facts.projectKey.toUpperCase()}`;
  return facts.teamKey && `linear:${facts.teamKey.toUpperCase()}`;
}

/** Whether a route's match fits a ticket (see the rules at the top of this file). */
export function routeMatches(match: RouteMatch, facts: RoutingFacts): boolean {
  const { homes, labels } = normalise(match);
  const home = homeOf(facts);
  if (homes !== "any" && (home === undefined || !homes.has(home))) return false;
  return labels === "any" || facts.labels.some((label) => labels.has(label.toLowerCase()));
}

/** The first route whose match fits the ticket, or undefined: the top-level `qatech` settings apply. */
export function selectRoute<R extends Route<object>>(
  routes: readonly R[],
  facts: RoutingFacts,
): R | undefined {
  return routes.find((route) => routeMatches(route.match, facts));
}

// Stand-ins for "a home no route lists" and "no label at all", for checking that a route can match.
const OTHER_HOME = Symbol("another team or project");
const NO_LABEL = Symbol("no label");

/**
 * The earlier routes that together match every ticket `later` matches, or undefined when some ticket
 * reaches `later`. Exact: a ticket fits a route by its home and by one of its labels, so it suffices to
 * try each home `later` lists (or one no route lists, when it lists none) with each single label it
 * lists (or none, when it lists none).
 */
function shadowedBy(
  earlier: Array<{ index: number; match: Normalised }>,
  later: Normalised,
): number[] | undefined {
  const homes: Array<string | typeof OTHER_HOME> = later.homes === "any" ? [OTHER_HOME] : [...later.homes];
  const labels: Array<string | typeof NO_LABEL> = later.labels === "any" ? [NO_LABEL] : [...later.labels];
  const by = new Set<number>();
  for (const home of homes) {
    for (const label of labels) {
      const first = earlier.find(
        ({ match }) =>
          (match.homes === "any" || (home !== OTHER_HOME && match.homes.has(home))) &&
          (match.labels === "any" || (label !== NO_LABEL && match.labels.has(label))),
      );
      if (!first) return undefined;
      by.add(first.index);
    }
  }
  return [...by].sort((a, b) => a - b);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The problems of a route table as configured (raw JSON): each names the route. A route needs a unique
 * name, a match with at least one known, non-empty criterion, and only known override keys; a route that
 * no ticket can reach, because earlier routes match every ticket it matches, is an error too.
 */
export function routeProblems(
  routes: unknown,
  overrideKeys: readonly string[] = ROUTE_OVERRIDE_KEYS,
): RouteProblem[] {
  const problems: RouteProblem[] = [];
  if (!Array.isArray(routes)) return [{ path: [], message: "must be a list of routes" }];
  const known = new Set(["name", "match", ...overrideKeys]);
  const names = new Map<string, number>();
  const checked: Array<{ index: number; who: string; match: Normalised }> = [];
  for (const [index, route] of routes.entries()) {
    let who = `route ${index + 1}`;
    const add = (path: Array<string | number>, message: string) =>
      problems.push({ path: [index, ...path], message: `${who} ${message}` });
    if (!isObject(route)) {
      add([], "must be an object with a name and a match");
      continue;
    }
    const name = route.name;
    if (typeof name !== "string" || name.trim() === "") add(["name"], "needs a name");
    else {
      who = `route "${name}"`;
      const twin = names.get(name);
      if (twin !== undefined) add(["name"], `has the same name as route ${twin + 1}; names must be unique`);
      else names.set(name, index);
    }
    const unknown = Object.keys(route).filter((key) => !known.has(key));
    if (unknown.length)
      add(
        [unknown[0]],
        `has ${unknown.map((key) => JSON.stringify(key)).join(", ")}, not known route settings`,
      );
    const match = route.match;
    if (!isObject(match)) {
      add(["match"], "needs a match (linearTeams, jiraProjects and/or labels)");
      continue;
    }
    let valid = true;
    const unknownCriteria = Object.keys(match).filter(
      (key) => !(MATCH_KEYS as readonly string[]).includes(key),
    );
    if (unknownCriteria.length) {
      valid = false;
      add(
        ["match", unknownCriteria[0]],
        `matches on ${unknownCriteria.map((key) => JSON.stringify(key)).join(", ")}: only linearTeams, ` +
          "jiraProjects and labels are known",
      );
    }
    const given = MATCH_KEYS.filter((key) => match[key] !== undefined);
    if (given.length === 0 && unknownCriteria.length === 0) {
      valid = false;
      add(
        ["match"],
        "has an empty match, which would take every ticket: give linearTeams, jiraProjects and/or labels " +
          "(tickets no route matches use the top-level qatech settings)",
      );
    }
    for (const key of given) {
      const list = match[key];
      if (!Array.isArray(list) || list.length === 0) {
        valid = false;
        add(["match", key], `has an empty or malformed match.${key}: give a non-empty list`);
        continue;
      }
      for (const [i, entry] of list.entries()) {
        const format = key === "labels" ? undefined : KEY_FORMAT[key];
        const bad =
          typeof entry !== "string" ||
          entry.trim() === "" ||
          entry.trim() !== entry ||
          (format !== undefined && !format.pattern.test(entry));
        if (bad) {
          valid = false;
          add(
            ["match", key, i],
            `has ${JSON.stringify(entry)} in match.${key}: must be ${format?.what ?? "a label name"}`,
          );
        }
      }
    }
    if (!valid) continue;
    const normalised = normalise(match as RouteMatch);
    const by = shadowedBy(checked, normalised);
    if (by) {
      const coverers = by.map((i) => checked.find((c) => c.index === i) as (typeof checked)[number]);
      const [one] = coverers;
      add(
        ["match"],
        coverers.length === 1 && sameMatch(one.match, normalised)
          ? `can never match: it matches the same tickets as ${one.who}, which comes first`
          : coverers.length === 1
            ? `can never match: ${one.who}, which comes first, matches every ticket it matches`
            : `can never match: ${coverers.map((c) => c.who).join(", ")} together, which come first, ` +
              "match every ticket it matches",
      );
    }
    checked.push({ index, who, match: normalised });
  }
  return problems;
}

function sameMatch(a: Normalised | undefined, b: Normalised): boolean {
  const same = (x: Set<string> | "any", y: Set<string> | "any") =>
    x === "any" || y === "any" ? x === y : x.size === y.size && [...x].every((v) => y.has(v));
  return a !== undefined && same(a.homes, b.homes) && same(a.labels, b.labels);
}

/** Checks a route table (at config load); throws an Error naming every route with a problem. */
export function checkRoutes<R extends Route<object>>(
  routes: readonly R[],
  overrideKeys: readonly string[] = ROUTE_OVERRIDE_KEYS,
): readonly R[] {
  const problems = routeProblems(routes, overrideKeys);
  if (problems.length) throw new Error(problems.map((p) => p.message).join("; "));
  return routes;
}
