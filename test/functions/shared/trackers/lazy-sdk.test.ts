/**
 * @linear/sdk is large (about 1.6 MB bundled); functions and runs that never talk to Linear must not load
 * it. Each test loads the modules in a fresh registry with @linear/sdk replaced by a factory that records
 * its call and throws, so any require of the SDK both fails loudly and is counted.
 */

import type * as Webhook from "../../../../functions/linear-webhook";
import type { TicketComment } from "../../../../functions/shared/domain/comment";
import type { Ticket } from "../../../../functions/shared/domain/ticket";
import type * as Trackers from "../../../../functions/shared/trackers";
import { type FakeJira, startFakeJira } from "../../../../simulators/jira";
import { settingsEnv } from "../../../support/settings";

const email = "qa-bot@acme.example";
const apiToken = "token-123";

const jiraTicket: Ticket = {
  tracker: "jira",
  id: "10001",
  key: "PROJ-7",
  title: "Checkout button",
  url: "https://acme.atlassian.net/browse/PROJ-7",
  description: "",
};
const linearTicket: Ticket = {
  tracker: "linear",
  id: "5f1c1d5e-0000-4000-8000-000000000001",
  key: "ENG-42",
  title: "Checkout button",
  url: "https://linear.app/acme/issue/ENG-42",
  description: "",
};
const comment: TicketComment = {
  kind: "reply",
  markdown: "All **3** checks passed.",
  link: { url: "https://app.qa.tech/c/1", label: "Open the conversation in QA.tech" },
};

/** Every module name the SDK is reachable by; a require of any of them is recorded, then throws. */
const SDK_MODULES = ["@linear/sdk", "@linear/sdk/webhooks"];
let sdkLoads: string[];

function forbidLinearSdk(): void {
  for (const name of SDK_MODULES) {
    jest.doMock(name, () => {
      sdkLoads.push(name);
      throw new Error(`${name} was loaded`);
    });
  }
}

/** Sets the given variables (undefined deletes) for the duration of `fn`, then restores them. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(vars);
  try {
    return await fn();
  } finally {
    apply(saved);
  }
}

/** Loads the trackers' registry in a fresh module registry in which @linear/sdk is forbidden. */
async function isolatedTrackers<T>(use: (trackerOf: typeof Trackers.trackerOf) => Promise<T>): Promise<T> {
  let result!: T;
  await jest.isolateModulesAsync(async () => {
    forbidLinearSdk();
    const { trackerOf } = require("../../../../functions/shared/trackers") as typeof Trackers;
    result = await use(trackerOf);
  });
  return result;
}

/** Loads a webhook function (its entry folder) in a fresh module registry in which @linear/sdk is forbidden. */
async function isolatedWebhook<T>(
  entry: "linear-webhook" | "jira-webhook",
  use: (webhook: typeof Webhook) => Promise<T>,
): Promise<T> {
  let result!: T;
  await jest.isolateModulesAsync(async () => {
    forbidLinearSdk();
    result = await use(require(`../../../../functions/${entry}`) as typeof Webhook);
  });
  return result;
}

let jira: FakeJira;

beforeEach(async () => {
  sdkLoads = [];
  jira = await startFakeJira({ email, apiToken });
});

afterEach(async () => {
  for (const name of SDK_MODULES) jest.dontMock(name);
  jest.resetModules();
  await jira.close();
});

test("posting a comment on Jira never loads @linear/sdk", async () => {
  const result = await withEnv(
    {
      ...settingsEnv({ jira: { enabled: true, baseUrl: jira.url } }),
      JIRA_EMAIL: email,
      JIRA_API_TOKEN: apiToken,
      JIRA_EMAIL_SECRET_ARN: undefined,
      JIRA_API_TOKEN_SECRET_ARN: undefined,
    },
    () =>
      isolatedTrackers(async (trackerOf) => {
        const tracker = await trackerOf("jira");
        return tracker.postComment(jiraTicket, comment, {
          runId: "run-lazy-1",
          trailer: "qa-ticket run-lazy-1/reply - x",
        });
      }),
  );

  expect(result.duplicate).toBe(false);
  expect(jira.comments).toHaveLength(1);
  expect(jira.comments[0]).toMatchObject({ id: result.id, issueKey: "PROJ-7" });
  expect(JSON.stringify(jira.comments[0].body)).toContain("checks passed");
  expect(sdkLoads).toEqual([]);
});

test("posting a comment on Linear does load @linear/sdk (the check above can fail)", async () => {
  const attempt = withEnv(
    {
      ...settingsEnv({ linear: { apiUrl: "http://127.0.0.1:9/graphql" } }),
      LINEAR_API_KEY: "lin_api_test",
      LINEAR_API_KEY_SECRET_ARN: undefined,
      // The comment's id is keyed with it.
      MARKER_KEY: "lazy-marker-key",
      MARKER_KEY_SECRET_ARN: undefined,
    },
    () =>
      isolatedTrackers(async (trackerOf) => {
        const tracker = await trackerOf("linear");
        // Choosing the Linear tracker alone is still lazy: the SDK loads when a comment is posted.
        expect(sdkLoads).toEqual([]);
        return tracker.postComment(linearTicket, comment, {
          runId: "run-lazy-2",
          trailer: "qa-ticket run-lazy-2/reply - x",
        });
      }),
  );

  await expect(attempt).rejects.toThrow("@linear/sdk was loaded");
  expect(sdkLoads).toEqual(["@linear/sdk"]);
  expect(jira.requests).toHaveLength(0);
});

test("serving Jira's webhook never loads @linear/sdk", async () => {
  const answer = await isolatedWebhook("jira-webhook", async ({ createWebhook }) => {
    const serve = createWebhook(async () => "started", settingsEnv());
    return serve({ headers: {}, body: "{}", isBase64Encoded: false } as never);
  });

  expect(answer.statusCode).toBe(401);
  expect(sdkLoads).toEqual([]);
});

test("the start queue's consumer does not import @linear/sdk (it loads it to read a Linear issue's attachments)", () => {
  jest.isolateModules(() => {
    forbidLinearSdk();
    const start =
      require("../../../../functions/start-conversation") as typeof import("../../../../functions/start-conversation");
    expect(typeof start.handler).toBe("function");
  });
  expect(sdkLoads).toEqual([]);
});

test("serving Linear's webhook does load @linear/sdk/webhooks (the check above can fail)", async () => {
  const attempt = isolatedWebhook("linear-webhook", async ({ createWebhook }) =>
    createWebhook(async () => "started", settingsEnv()),
  );

  await expect(attempt).rejects.toThrow("@linear/sdk/webhooks was loaded");
  expect(sdkLoads).toEqual(["@linear/sdk/webhooks"]);
});
