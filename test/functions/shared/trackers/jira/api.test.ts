import { PermanentError, TransientError } from "../../../../../functions/shared/platform/errors";
import { adfToText, buildJiraComment } from "../../../../../functions/shared/trackers/jira/adf";
import { getJiraMyself, postJiraComment } from "../../../../../functions/shared/trackers/jira/api";
import { withTrailer } from "../../../../../functions/shared/trackers/jira/comment";
import { type FakeJira, startFakeJira } from "../../../../../simulators/jira";
import { expectValidAdf } from "../../../../support/adf-schema";

const email = "qa-bot@acme.example";
const apiToken = "token-123";
const body = buildJiraComment("All **3** checks passed.", {
  url: "https://app.qa.tech/c/1",
  label: "Open in QA.tech",
});
const commentPath = "/rest/api/3/issue/PROJ-123/comment";
/** A marker line as post-comment makes it (its digest does not matter to the client). */
const trailer = (kind: string) =>
  `qa-ticket jira-PROJ-123-0123456789abcdef/${kind} chat_1 0123456789abcdef0123456789abcdef`;

let jira: FakeJira;

beforeEach(async () => {
  jira = await startFakeJira({ email, apiToken });
});

afterEach(async () => {
  await jira.close();
});

/** Posts a comment the way postToJira does: the body ends with its trailer. */
function post(overrides: Partial<Parameters<typeof postJiraComment>[0]> = {}) {
  const options = {
    baseUrl: jira.url,
    email,
    apiToken,
    issueKey: "PROJ-123",
    body,
    trailer: trailer("reply"),
    ...overrides,
  };
  return postJiraComment({ ...options, body: withTrailer(options.body, options.trailer) });
}

function posts() {
  return jira.requests.filter((r) => r.method === "POST");
}

describe("postJiraComment", () => {
  it("posts the comment as ADF with Basic auth, ending with the marker", async () => {
    const result = await post();

    expect(result).toEqual({ id: jira.comments[0].id, duplicate: false });
    expect(jira.comments).toHaveLength(1);
    expect(adfToText(jira.comments[0].body).split("\n").at(-1)?.endsWith(trailer("reply"))).toBe(true);
    expectValidAdf(jira.comments[0].body);
    expect(posts()[0].headers.authorization).toBe(
      `Basic ${Buffer.from(`${email}:${apiToken}`).toString("base64")}`,
    );
  });

  it("does not post twice when an earlier attempt landed but its answer was lost", async () => {
    jira.failNext({ method: "POST", path: commentPath, fault: { afterCommit: { status: 503 } } });
    await expect(post()).rejects.toBeInstanceOf(TransientError);

    const retry = await post();

    expect(retry).toEqual({ id: jira.comments[0].id, duplicate: true });
    expect(jira.comments).toHaveLength(1);
  });

  it("does not post twice when the connection dropped after the write", async () => {
    jira.failNext({ method: "POST", path: commentPath, fault: { afterCommit: { reset: true } } });
    await expect(post()).rejects.toBeInstanceOf(TransientError);

    await expect(post()).resolves.toMatchObject({ duplicate: true });
    expect(jira.comments).toHaveLength(1);
  });

  it("treats another marker of the same run as a different comment", async () => {
    await post({ trailer: trailer("ack") });

    const reply = await post({ trailer: trailer("reply") });

    expect(reply.duplicate).toBe(false);
    expect(jira.comments).toHaveLength(2);
  });

  it("is not fooled by a comment that quotes the marker anywhere but at its end", async () => {
    const quoting = buildJiraComment(`QA.tech said: ${trailer("reply")}\n\nand more`, {
      url: "https://app.qa.tech/c/1",
      label: "Open in QA.tech",
    });
    await post({ body: quoting, trailer: trailer("ack") });

    const reply = await post();

    expect(reply.duplicate).toBe(false);
    expect(jira.comments).toHaveLength(2);
  });

  it("waits out a short Retry-After on 429 and tries once more", async () => {
    jira.failNext({
      method: "POST",
      path: commentPath,
      fault: { status: 429, headers: { "retry-after": "1" } },
    });
    const waits: number[] = [];

    const result = await post({ sleep: async (ms) => void waits.push(ms) });

    expect(result.duplicate).toBe(false);
    expect(waits).toEqual([1000]);
    expect(posts()).toHaveLength(2);
    expect(jira.comments).toHaveLength(1);
  });

  it("leaves a long Retry-After to the state machine", async () => {
    jira.failNext({
      method: "POST",
      path: commentPath,
      fault: { status: 429, headers: { "retry-after": "60" } },
    });

    await expect(post()).rejects.toMatchObject({ name: "TransientError", retryAfterSeconds: 60 });
    expect(posts()).toHaveLength(1);
  });

  it("retries a 429 only once", async () => {
    const fault = { status: 429, headers: { "retry-after": "0" } };
    jira.failNext({ method: "POST", path: commentPath, fault, times: 2 });
    const waits: number[] = [];

    await expect(post({ sleep: async (ms) => void waits.push(ms) })).rejects.toBeInstanceOf(TransientError);
    expect(waits).toEqual([0]);
    expect(posts()).toHaveLength(2);
    expect(jira.comments).toHaveLength(0);
  });

  it("reports a 5xx as transient", async () => {
    jira.failNext({ method: "POST", path: commentPath, fault: { status: 502 } });

    await expect(post()).rejects.toBeInstanceOf(TransientError);
  });

  it("reports a hung Jira as transient", async () => {
    jira.failNext({ method: "GET", path: commentPath, fault: { hang: true } });

    await expect(post({ timeoutMs: 200 })).rejects.toBeInstanceOf(TransientError);
  });

  it("reports 403 as permanent", async () => {
    jira.failNext({ method: "POST", path: commentPath, fault: { status: 403 } });

    await expect(post()).rejects.toMatchObject({ name: "PermanentError", status: 403 });
  });

  it("reports wrong credentials as permanent", async () => {
    await expect(post({ apiToken: "wrong" })).rejects.toMatchObject({ name: "PermanentError", status: 401 });
    expect(jira.comments).toHaveLength(0);
  });

  it("works through the api.atlassian.com-style base path", async () => {
    const result = await post({ baseUrl: `${jira.url}/ex/jira/cloud-123/` });

    expect(result.duplicate).toBe(false);
    expect(jira.requests.map((r) => r.path)).toEqual([
      "/ex/jira/cloud-123/rest/api/3/issue/PROJ-123/comment?orderBy=-created&maxResults=100",
      "/ex/jira/cloud-123/rest/api/3/issue/PROJ-123/comment",
    ]);
  });
});

describe("getJiraMyself", () => {
  it("returns the integration's accountId", async () => {
    await expect(getJiraMyself({ baseUrl: jira.url, email, apiToken })).resolves.toBe("jira-bot-account");
  });

  it("reports wrong credentials as permanent", async () => {
    await expect(getJiraMyself({ baseUrl: jira.url, email, apiToken: "nope" })).rejects.toBeInstanceOf(
      PermanentError,
    );
  });
});
