import * as z from "zod/mini";
import { MARKER_PROJECT } from "../domain/marker";
import { elapsedBeforePoll } from "../domain/poll-schedule";
import { previewPatternProblems } from "../domain/preview-url";
import { ROUTE_OVERRIDE_KEYS, routeProblems } from "../domain/route";
import { ConfigError } from "./errors";
import { pollSchedule, SETTINGS_VARIABLE } from "./settings";

// zod/mini loads no messages of its own (every issue says "Invalid input"): an operator fixing a config is told
// what was expected and what was found, in English (https://zod.dev/error-customization#internationalization).
// The schema stays out of the functions' bundles, so this loads nothing there.
z.config(z.locales.en());

/**
 * Every setting of qa-ticket, defined once: the organisation's config file (`config/<org>.json`, checked at
 * synth), what the stack hands every function (the validated config as one JSON value, QA_TICKET_SETTINGS),
 * and what the local runner builds from its environment variables. Defaults, ranges, patterns and the
 * rules that tie fields together live here and nowhere else. `config/schema.json` is generated from it.
 */

/** https, or http to this machine only (the simulators; the Linear SDK draws the same line). */
const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);
function isServiceUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || (url.protocol === "http:" && LOCAL_HOSTS.has(url.hostname));
  } catch {
    return false;
  }
}

const serviceUrl = z.pipe(
  z.string().check(z.refine(isServiceUrl, { error: "must be an https URL" })),
  z.transform((url) => url.replace(/\/+$/, "")),
);
const text = z.string().check(z.minLength(1, { error: "must not be empty" }));
const word = (what: string) => z.string().check(z.regex(/^\S+$/, { error: `must be ${what}` }));
const integer = (min: number, max: number) =>
  z.number().check(z.int({ error: "must be a whole number" }), z.minimum(min), z.maximum(max));
const PROJECT_SHORT_ID = /^proj(-.+_.+|_.+)$/;
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** How QA.tech reaches the application under test (Chat API ApplicationOverride). */
const applicationOverride = z.strictObject({
  applicationShortId: z.string().check(z.regex(/^app_/, { error: "must look like app_..." })),
  devicePresetShortId: z.optional(z.string()),
  environment: z.union([
    z.strictObject({ url: z.string(), name: z.optional(z.string()) }),
    z.strictObject({ shortId: z.string() }),
    z.strictObject({ applicationBuildShortId: z.string() }),
  ]),
});

/** The fields a route shares with the top-level `qatech` block: one schema each, described once. */
const projectShortId = described(
  z.string().check(z.regex(PROJECT_SHORT_ID, { error: "must look like proj_..." })),
  "The QA.tech project (proj_...); required when the API key is organisation-scoped.",
);
const applicationOverrides = described(
  z.array(applicationOverride),
  "Where QA.tech tests (Chat API ApplicationOverride); change reviews need them.",
);
const instruction = described(
  text,
  "What QA.tech is asked to do with each ticket; default: create and run a test, reply in markdown.",
);
const changeReview = described(
  z.enum(["auto", "always", "never"]),
  "A ticket linking a pull request gets a change review: auto (with applicationOverrides), always or never. " +
    'On a GitHub PR, QA.tech creates or updates its "QA.tech / PR Review" check there.',
);

const previewUrls = described(
  z.record(
    z.string().check(z.regex(/^app_[A-Za-z0-9_-]{1,60}$/, { error: "must look like app_..." })),
    z.array(z.string()),
  ),
  "Per application (app_...): URL patterns of preview deployments QA.tech may test, e.g. https://pr-{pr}.preview.acme.dev.",
);

/**
 * One route (domain/route.ts): the tickets its match fits go to its project, applications, instruction and
 * change review; what it leaves out comes from the top-level `qatech` block. Emptiness, duplicate names and
 * routes that can never match are routeProblems' to say (crossFieldIssues), naming the route.
 */
const routeMatchList = (what: string) => z.optional(described(z.array(z.string()), what));
const route = z.strictObject({
  name: described(text, "The route's name, in messages and in the acknowledgement (unique)."),
  match: described(
    z.strictObject({
      linearTeams: routeMatchList("Linear team keys (ENG): the team's issues fit."),
      jiraProjects: routeMatchList("Jira project keys (PROJ): the project's issues fit."),
      labels: routeMatchList(
        "Labels (any case): a ticket carrying one of them fits (and its team or project, if given).",
      ),
    }),
    "Which tickets the route takes: by team or project, and/or by a label the ticket carries.",
  ),
  projectShortId: z.optional(projectShortId),
  applicationOverrides: z.optional(applicationOverrides),
  instruction: z.optional(instruction),
  changeReview: z.optional(changeReview),
  previewUrls: z.optional(previewUrls),
});

/** What a route may set (the route schema's keys beside name and match). */
const ROUTE_KEYS: readonly string[] = ROUTE_OVERRIDE_KEYS;

/** QA.tech as a Linear agent: an OAuth app installed with actor=app (docs/linear-agent.md). */
const linearAgent = described(
  z.strictObject({
    enabled: z._default(
      described(z.boolean(), "Serve Linear's agent sessions (mentions and delegation)."),
      false,
    ),
    clientId: z.optional(
      described(
        z.string().check(z.regex(/^[A-Za-z0-9_-]{8,128}$/, { error: "must be the OAuth app's client ID" })),
        "The Linear OAuth app's client ID (not secret; the client secret is in Secrets Manager).",
      ),
    ),
    sessionOnLabel: z._default(
      described(
        z.boolean(),
        "The trigger label opens an agent session on the issue too (agentSessionCreateOnIssue).",
      ),
      true,
    ),
    authorizeUrl: z._default(
      described(
        serviceUrl,
        "Linear's OAuth authorize page (the token endpoint is /oauth/token on apiUrl's host).",
      ),
      "https://linear.app/oauth/authorize",
    ),
  }),
  "QA.tech as a Linear agent (an OAuth app installed with actor=app).",
);

/**
 * Optional ticket moves per verdict (domain/moves.ts), off by default: each a name the tracker looks up,
 * never an id. Unknown keys and blank names are refused.
 */
const moveName = z.string().check(z.regex(/\S/, { error: "must not be empty" }));
const moves = (where: (ticket: string) => string) =>
  described(
    z.strictObject({
      passed: z.optional(described(moveName, `${where("a ticket that passed")}; none: no move.`)),
      failed: z.optional(
        described(moveName, `${where("a ticket that failed")} (e.g. "In Progress"); none: no move.`),
      ),
      unverified: z.optional(
        described(moveName, `${where("a ticket QA.tech could not verify")}; none: no move.`),
      ),
    }),
    "Where a ticket is moved once its verdict is known (off by default).",
  );

/** The retention periods CloudWatch Logs offers, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/**
 * Most polls one execution may make: each is about 9 history events (Wait, Task, Choice) and a Standard
 * execution's history stops at 25,000; the rest is room for retries, the start and the comments.
 */
export const MAX_POLLS = 2_000;

/**
 * Lambda allows 4 KB of environment variables per function (keys and values). The settings travel as one
 * variable; the stack adds its own (secret ARNs, the state machine, the queues), for which this is kept.
 */
export const LAMBDA_ENVIRONMENT_MAX_BYTES = 4096;

/** Most applications qatech.previewUrls may name: a project has a handful. */
export const MAX_PREVIEW_APPLICATIONS = 10;
export const STACK_VARIABLES_RESERVE_BYTES = 1024;

/** A field with its description: it is what editors show from `config/schema.json`, and docs/configuration.md's table. */
function described<T extends z.ZodMiniType>(schema: T, description: string): T {
  return schema.check(z.describe(description)) as T;
}

/**
 * An optional block defaults to `{}` parsed through the block (z.prefault, zod 4), so its fields get their
 * own defaults: each default is written once, on its field (https://zod.dev/api#prefaults).
 */
const fields = z.strictObject({
  $schema: z.optional(z.string()),
  $comment: z.optional(z.string()),
  qatech: described(
    z.strictObject({
      apiUrl: z._default(described(serviceUrl, "QA.tech API base."), "https://api.qa.tech"),
      projectShortId: z.optional(projectShortId),
      applicationOverrides: z._default(applicationOverrides, []),
      previewUrls: z._default(previewUrls, {}),
      instruction: z.optional(instruction),
      maxConcurrency: z._default(
        described(
          integer(0, 1000),
          "Conversations being started at once (the start queue's consumers); 0: no bound.",
        ),
        4,
      ),
      changeReview: z._default(changeReview, "auto"),
      gitlabHosts: z._default(
        described(
          z.array(z.string().check(z.regex(HOSTNAME, { error: "must be a hostname" }))),
          "Self-managed GitLab hosts whose merge requests may be reviewed (github.com and gitlab.com always are).",
        ),
        [],
      ),
    }),
    "QA.tech: the API, the project, and how conversations are started.",
  ),
  // Optional, not defaulted: a config without routes hands the functions the very settings it did before.
  routes: z.optional(
    described(
      z.array(route),
      "Routes, in order: the first whose match fits a ticket sends it to its own project, applications, " +
        "instruction or change review (each else the top-level qatech one); no route fits: the qatech block.",
    ),
  ),
  comments: z.prefault(
    described(
      z.strictObject({
        replyMode: z._default(
          described(
            z.enum(["thread", "replace"]),
            "The reply goes in the acknowledgement's thread, or replaces its text.",
          ),
          "thread",
        ),
        followUpPrefix: z._default(
          described(
            word("one word such as @qa"),
            "What addresses a comment to the integration (Jira; optional in Linear threads).",
          ),
          "@qa",
        ),
      }),
      "How the integration comments.",
    ),
    {},
  ),
  labels: z.prefault(
    described(
      z.strictObject({
        testing: z.optional(described(text, "Set while QA.tech works on the ticket.")),
        tested: z.optional(described(text, "Set when the verdict is passed: every test QA.tech ran passed.")),
        testFailed: z.optional(
          described(
            text,
            "Set when the verdict is failed: a test failed on the product (never for our errors).",
          ),
        ),
        unverified: z.optional(
          described(
            text,
            "Set when QA.tech could not verify: no tests ran, runs errored or unreadable, reply failed or late.",
          ),
        ),
        removeTrigger: z._default(
          described(
            z.boolean(),
            "Take the trigger label off once the run starts, so re-adding it starts a new run.",
          ),
          false,
        ),
      }),
      "Labels that show a run's state on a board; each optional.",
    ),
    {},
  ),
  linear: z.prefault(
    described(
      z.strictObject({
        enabled: z._default(described(z.boolean(), "Serve Linear's webhook."), true),
        triggerLabel: z._default(described(text, "The label that starts a run (any case)."), "needs test"),
        apiUrl: z._default(
          described(serviceUrl, "Linear's GraphQL endpoint."),
          "https://api.linear.app/graphql",
        ),
        // QA.tech as an agent in Linear's agent sessions
        agent: z.prefault(linearAgent, {}),
        moves: z.optional(
          moves((ticket) => `The workflow state of its team (by name) ${ticket} is moved to`),
        ),
      }),
      "Linear.",
    ),
    {},
  ),
  jira: z.prefault(
    described(
      z.strictObject({
        enabled: z._default(described(z.boolean(), "Serve Jira Cloud's webhook."), false),
        triggerLabel: z._default(
          described(
            word("one word (Jira labels have no spaces)"),
            "The label that starts a run (exact case).",
          ),
          "needs-test",
        ),
        baseUrl: z.optional(
          described(
            serviceUrl,
            "API base: the site, or https://api.atlassian.com/ex/jira/{cloudId} for scoped tokens.",
          ),
        ),
        siteUrl: z.optional(
          described(serviceUrl, "The site people open ({siteUrl}/browse/KEY); default baseUrl."),
        ),
        projectKeys: z._default(
          described(
            z.array(
              z
                .string()
                .check(z.regex(/^[A-Z][A-Z0-9_]+$/, { error: "must be a Jira project key such as PROJ" })),
            ),
            "Only these projects start runs; empty: all.",
          ),
          [],
        ),
        moves: z.optional(
          moves((ticket) => `The transition (by name, or the status it leads to) ${ticket} is moved through`),
        ),
      }),
      "Jira Cloud.",
    ),
    {},
  ),
  replyTimeoutMinutes: z._default(
    described(
      z.number().check(z.minimum(1 / 6), z.maximum(24 * 60)),
      "How long to wait for QA.tech's reply before saying so on the ticket (10 s to 24 h).",
    ),
    60,
  ),
  pollSchedule: z.prefault(
    described(
      z.strictObject({
        minWaitSeconds: z._default(described(integer(1, 300), "First and shortest wait between polls."), 3),
        fraction: z._default(
          described(
            z.number().check(z.minimum(0), z.maximum(1)),
            "Each later wait as a fraction of the time waited so far.",
          ),
          0.1,
        ),
        maxWaitSeconds: z._default(described(integer(1, 3600), "Longest wait between polls."), 120),
      }),
      "When QA.tech's conversation is read (see docs/architecture.md, The poll schedule).",
    ),
    {},
  ),
  webhook: z.prefault(
    described(
      z.strictObject({
        rateLimitPerSecond: z._default(
          described(integer(1, 10_000), "Steady requests per second the endpoint accepts."),
          20,
        ),
        burst: z._default(described(integer(1, 5_000), "Burst above the steady rate."), 40),
      }),
      "Throttling of the webhook endpoint.",
    ),
    {},
  ),
  lambda: z.prefault(
    described(
      z.strictObject({
        architecture: z._default(
          described(z.enum(["arm64", "x86_64"]), "Processor architecture of the functions."),
          "arm64",
        ),
        memorySizeMb: z._default(
          described(integer(128, 10_240), "Memory of the functions (the poll function takes 128)."),
          256,
        ),
      }),
      "The functions.",
    ),
    {},
  ),
  logRetentionDays: z._default(
    described(
      z.literal(LOG_RETENTION_DAYS, {
        error: `must be one of CloudWatch's retention periods: ${LOG_RETENTION_DAYS.join(", ")}`,
      }),
      "How long every log group keeps its logs, in days (one of CloudWatch's periods).",
    ),
    30,
  ),
  // Operations: who hears about trouble (the alarm topic, lib/constructs/alarms.ts).
  alarmEmail: z.optional(
    described(
      z.email({ error: "must be an email address" }),
      "Where alarms go: an email subscription to the stack's alarm topic (AWS mails a link to confirm it).",
    ),
  ),
  alarmEndpoints: z._default(
    described(
      z.array(z.strictObject({ protocol: z.enum(["https", "email"]), endpoint: text })),
      "More subscribers to the alarm topic (https: an incident tool's URL; email). For Slack or Teams, point " +
        "AWS Chatbot at the AlarmTopicArn output.",
    ),
    [],
  ),
});

/** The validated settings, defaults filled in. */
export type Settings = z.output<typeof fields>;

/** The rules that tie fields together; each names the field to fix. */
function crossFieldIssues(s: Settings): Array<{ path: Array<string | number>; message: string }> {
  const issues: Array<{ path: Array<string | number>; message: string }> = [];
  const add = (path: string, message: string) => issues.push({ path: path.split("."), message });
  if (!s.linear.enabled && !s.jira.enabled) add("linear.enabled", "or jira.enabled must be true");
  if (s.jira.enabled && !s.jira.baseUrl) add("jira.baseUrl", "is required when jira.enabled is true");
  if (s.jira.baseUrl?.startsWith("https://api.atlassian.com/") && !s.jira.siteUrl)
    add("jira.siteUrl", "is required with an api.atlassian.com baseUrl (ticket links need the site)");
  if (s.jira.enabled) {
    for (const key of ["testing", "tested", "testFailed"] as const) {
      const label = s.labels[key];
      if (label && /\s/.test(label))
        add(`labels.${key}`, `"${label}" has a space, which Jira labels cannot have`);
    }
  }
  // The Linear agent needs its OAuth app.
  if (s.linear.agent.enabled && !s.linear.agent.clientId)
    add("linear.agent.clientId", "is required when linear.agent.enabled is true");
  if (s.linear.agent.enabled && !s.linear.enabled)
    add("linear.agent.enabled", "needs linear.enabled (the agent reads issues and labels as Linear does)");
  if (s.qatech.maxConcurrency === 1)
    add(
      "qatech.maxConcurrency",
      "must be 0 (no bound) or 2 to 1000: an SQS event source runs at least 2 at once",
    );
  // The allowlists are the security boundary of previews: every pattern is checked (domain/preview-url.ts).
  const allowlists: Array<[Array<string | number>, Record<string, string[]>]> = [
    [["qatech", "previewUrls"], s.qatech.previewUrls],
    ...(s.routes ?? []).flatMap(
      (r, i): Array<[Array<string | number>, Record<string, string[]>]> =>
        r.previewUrls ? [[["routes", i, "previewUrls"], r.previewUrls]] : [],
    ),
  ];
  for (const [path, allowlist] of allowlists) {
    const apps = Object.entries(allowlist);
    if (apps.length > MAX_PREVIEW_APPLICATIONS)
      issues.push({
        path: path.map(String),
        message: `names ${apps.length} applications; at most ${MAX_PREVIEW_APPLICATIONS}`,
      });
    for (const [app, patterns] of apps)
      for (const problem of previewPatternProblems(patterns))
        issues.push({ path: [...path, app, ...problem.path].map(String), message: problem.message });
  }
  if (s.qatech.changeReview === "always" && s.qatech.applicationOverrides.length === 0)
    add("qatech.changeReview", "is always, but a change review needs qatech.applicationOverrides");
  const routes = s.routes ?? [];
  for (const problem of routeProblems(routes, ROUTE_KEYS))
    issues.push({ path: ["routes", ...problem.path], message: problem.message });
  for (const [i, r] of routes.entries()) {
    // A route's project travels in the comment markers (domain/marker.ts), which carry only this form.
    if (r.projectShortId !== undefined && !MARKER_PROJECT.test(r.projectShortId))
      issues.push({
        path: ["routes", i, "projectShortId"],
        message: `of route "${r.name}" must be proj_ followed by letters, digits, _ or - (at most 100)`,
      });
    if (r.changeReview === "always" && (r.applicationOverrides ?? s.qatech.applicationOverrides).length === 0)
      issues.push({
        path: ["routes", i, "changeReview"],
        message: `of route "${r.name}" is always, but a change review needs applicationOverrides (the route's or qatech's)`,
      });
  }
  if (s.pollSchedule.maxWaitSeconds < s.pollSchedule.minWaitSeconds)
    add("pollSchedule.maxWaitSeconds", "must not be less than minWaitSeconds");
  const schedule = pollSchedule(s);
  let polls = 0;
  while (elapsedBeforePoll(polls, schedule) < schedule.replyTimeoutSeconds && polls <= MAX_POLLS) polls++;
  if (polls > MAX_POLLS)
    add(
      "pollSchedule",
      `with replyTimeoutMinutes ${s.replyTimeoutMinutes} needs more than ${MAX_POLLS} polls, more than a Standard ` +
        "execution's history holds: raise pollSchedule.maxWaitSeconds or lower replyTimeoutMinutes",
    );
  for (const [i, { protocol, endpoint }] of s.alarmEndpoints.entries()) {
    const fits =
      protocol === "https" ? /^https:\/\/[^\s/]+/.test(endpoint) : /^[^\s@]+@[^\s@]+$/.test(endpoint);
    if (!fits)
      add(
        `alarmEndpoints.${i}.endpoint`,
        `must be ${protocol === "https" ? "an https URL" : "an email address"}`,
      );
  }
  const budget = LAMBDA_ENVIRONMENT_MAX_BYTES - STACK_VARIABLES_RESERVE_BYTES;
  const { $schema: _schema, $comment: _comment, ...carried } = s;
  const bytes = Buffer.byteLength(SETTINGS_VARIABLE + JSON.stringify(carried));
  if (bytes > budget) {
    const long = [
      ["qatech.instruction", s.qatech.instruction],
      ["qatech.applicationOverrides", s.qatech.applicationOverrides],
      ["jira.projectKeys", s.jira.projectKeys],
      ["linear.moves", s.linear.moves],
      ["jira.moves", s.jira.moves],
      ["routes", s.routes],
    ].sort((a, b) => JSON.stringify(b[1] ?? "").length - JSON.stringify(a[1] ?? "").length)[0][0] as string;
    add(
      long,
      `is too long: the settings would take ${bytes} bytes of each function's environment, over the ${budget} ` +
        `bytes Lambda leaves them (4 KB in all, ${STACK_VARIABLES_RESERVE_BYTES} kept for the stack's own variables)`,
    );
  }
  return issues;
}

/** The settings schema, cross-field rules included (for parsing, and for `config/schema.json`). */
export const SettingsSchema = fields.check(
  z.superRefine((s, ctx) => {
    for (const issue of crossFieldIssues(s)) ctx.addIssue({ code: "custom", ...issue, input: s });
  }),
);

/** One line per problem: where it is and what is wrong, e.g. `qatech.maxConcurrency must be a whole number`. */
function describe(error: z.core.$ZodError, raw: unknown): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.reduce<string>(
        (at, part) =>
          typeof part === "number" ? `${at}[${part}]` : at ? `${at}.${String(part)}` : String(part),
        "",
      );
      if (issue.code === "unrecognized_keys") {
        const keys = issue.keys.map((key) => (where ? `${where}.${key}` : key)).join(", ");
        return `${keys} ${issue.keys.length > 1 ? "are not known settings" : "is not a known setting"}`;
      }
      // Zod leaves `input` out of its issues, so a missing field is told by looking the path up in the input:
      // a fraction where a whole number belongs is also an invalid_type, and must not read "is required".
      if (issue.code === "invalid_type" && valueAt(raw, issue.path) === undefined)
        return `${where} is required`;
      return `${where || "the settings"} ${issue.message}`;
    })
    .join("; ");
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let at = raw;
  for (const part of path) {
    if (typeof at !== "object" || at === null) return undefined;
    at = (at as Record<PropertyKey, unknown>)[part];
  }
  return at;
}

/** Validates settings (a config file's content, or the local runner's); the error names every field to fix. */
export function parseSettings(raw: unknown, source: string): Settings {
  const result = SettingsSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(`${source}: ${describe(result.error, raw)}`);
  return result.data;
}
