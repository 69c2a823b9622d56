import { PermanentError, TransientError } from "../../../../../functions/shared/platform/errors";
import {
  adfToText,
  buildJiraComment,
  markdownToAdf,
} from "../../../../../functions/shared/trackers/jira/adf";
import {
  getJiraMyself,
  jiraCommentUrl,
  listJiraComments,
  postJiraComment,
  setJiraLabels,
  updateJiraComment,
} from "../../../../../functions/shared/trackers/jira/api";
import { withTrailer } from "../../../../../functions/shared/trackers/jira/comment";
import { FAKE_JIRA_ACCOUNT, type FakeJira, startFakeJira } from "../../../../../simulators/jira";
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

describe("Jira tracker API", () => {
  const email = "qa-bot@acme.example";
  const apiToken = "token-123";
  let jira: FakeJira;
  const auth = () => ({ baseUrl: jira.url, email, apiToken });
  const doc = (text: string) => markdownToAdf(text);

  beforeEach(async () => {
    jira = await startFakeJira({ email, apiToken, labels: { "PROJ-1": ["bug", "needs-test"] } });
  });
  afterEach(() => jira.close());

  describe("listJiraComments", () => {
    it("lists comments newest first with their authors", async () => {
      const posted = await postJiraComment({
        ...auth(),
        issueKey: "PROJ-1",
        body: buildJiraComment("Testing...", { url: "https://app.qa.tech/c/1", label: "Open" }),
        trailer: "qa-ticket run-1/ack - 0123456789abcdef0123456789abcdef",
      });
      const human = jira.addComment("PROJ-1", {
        body: doc("Also check Safari"),
        authorAccountId: "acct-jane",
      });
      jira.addComment("PROJ-2", { body: doc("elsewhere"), authorAccountId: "acct-jane" });

      const comments = await listJiraComments({ ...auth(), issueKey: "PROJ-1" });

      expect(comments.map((c) => [c.id, c.authorAccountId])).toEqual([
        [human.id, "acct-jane"],
        [posted.id, FAKE_JIRA_ACCOUNT.accountId],
      ]);
      expect(comments[0]).toEqual({
        id: human.id,
        authorAccountId: "acct-jane",
        body: human.body,
        created: human.created,
      });
      expect(jira.requests.at(-1)?.path).toBe(
        "/rest/api/3/issue/PROJ-1/comment?orderBy=-created&maxResults=100",
      );
    });

    it("returns an empty list for an issue without comments", async () => {
      await expect(listJiraComments({ ...auth(), issueKey: "PROJ-9" })).resolves.toEqual([]);
    });

    it("maps 401 to PermanentError and 503 to TransientError", async () => {
      await expect(
        listJiraComments({ ...auth(), apiToken: "wrong", issueKey: "PROJ-1" }),
      ).rejects.toBeInstanceOf(PermanentError);
      jira.failNext({ method: "GET", fault: { status: 503 } });
      await expect(listJiraComments({ ...auth(), issueKey: "PROJ-1" })).rejects.toBeInstanceOf(
        TransientError,
      );
    });
  });

  describe("updateJiraComment", () => {
    it("replaces the bot's comment body and records the edit", async () => {
      const { id } = await postJiraComment({
        ...auth(),
        issueKey: "PROJ-1",
        body: doc("Testing..."),
        trailer: "qa-ticket r/ack - 0123456789abcdef0123456789abcdef",
      });

      await updateJiraComment({ ...auth(), issueKey: "PROJ-1", id, body: doc("All **3** passed") });

      const put = jira.requests.at(-1);
      expect(put).toMatchObject({ method: "PUT", path: `/rest/api/3/issue/PROJ-1/comment/${id}` });
      expect(put?.body).toEqual({ body: doc("All **3** passed") });
      expect(jira.comments[0].body).toEqual(doc("All **3** passed"));
      expect(jira.comments[0].edits).toEqual([doc("All **3** passed")]);
    });

    it("fails permanently for a missing comment, someone else's comment, or invalid ADF", async () => {
      const human = jira.addComment("PROJ-1", { body: doc("hi"), authorAccountId: "acct-jane" });
      const { id } = await postJiraComment({
        ...auth(),
        issueKey: "PROJ-1",
        body: doc("x"),
        trailer: "qa-ticket r/ack - 0123456789abcdef0123456789abcdef",
      });
      const invalid = {
        type: "doc",
        version: 1,
        content: [{ type: "paragraph", content: [{ type: "text", text: "" }] }],
      };

      await expect(
        updateJiraComment({ ...auth(), issueKey: "PROJ-1", id: "99999", body: doc("x") }),
      ).rejects.toMatchObject({ name: "PermanentError", status: 404 });
      await expect(
        updateJiraComment({ ...auth(), issueKey: "PROJ-1", id: human.id, body: doc("x") }),
      ).rejects.toMatchObject({ name: "PermanentError", status: 403 });
      await expect(
        updateJiraComment({ ...auth(), issueKey: "PROJ-1", id, body: invalid as never }),
      ).rejects.toMatchObject({ name: "PermanentError", status: 400 });
      expect(human.edits).toBeUndefined();
    });

    it("maps 429 with a long Retry-After to TransientError", async () => {
      const { id } = await postJiraComment({
        ...auth(),
        issueKey: "PROJ-1",
        body: doc("x"),
        trailer: "qa-ticket r/ack - 0123456789abcdef0123456789abcdef",
      });
      jira.failNext({ method: "PUT", fault: { status: 429, headers: { "retry-after": "120" } } });

      const error = await updateJiraComment({ ...auth(), issueKey: "PROJ-1", id, body: doc("y") }).catch(
        (e: unknown) => e,
      );

      expect(error).toBeInstanceOf(TransientError);
      expect((error as TransientError).retryAfterSeconds).toBe(120);
    });
  });

  describe("setJiraLabels", () => {
    it("adds and removes labels in one PUT", async () => {
      await setJiraLabels({ ...auth(), issueKey: "PROJ-1", add: ["testing"], remove: ["needs-test"] });

      const put = jira.requests.at(-1);
      expect(put).toMatchObject({ method: "PUT", path: "/rest/api/3/issue/PROJ-1" });
      expect(put?.body).toEqual({ update: { labels: [{ add: "testing" }, { remove: "needs-test" }] } });
      expect(jira.labels("PROJ-1")).toEqual(["bug", "testing"]);
      expect(jira.labelChanges).toEqual([
        { issueKey: "PROJ-1", added: ["testing"], removed: ["needs-test"] },
      ]);
    });

    it("sends nothing when there is nothing to change", async () => {
      await setJiraLabels({ ...auth(), issueKey: "PROJ-1", add: [], remove: [] });

      expect(jira.requests).toHaveLength(0);
    });

    it("treats labels case-sensitively and rejects a label with a space", async () => {
      await setJiraLabels({ ...auth(), issueKey: "PROJ-1", add: [], remove: ["Needs-Test"] });
      expect(jira.labels("PROJ-1")).toEqual(["bug", "needs-test"]);

      await expect(
        setJiraLabels({ ...auth(), issueKey: "PROJ-1", add: ["test failed"], remove: [] }),
      ).rejects.toBeInstanceOf(PermanentError);
    });

    it("maps a 500 to TransientError and a wrong token to PermanentError", async () => {
      jira.failNext({ method: "PUT", fault: { status: 500 } });
      await expect(
        setJiraLabels({ ...auth(), issueKey: "PROJ-1", add: ["testing"], remove: [] }),
      ).rejects.toBeInstanceOf(TransientError);
      await expect(
        setJiraLabels({ ...auth(), apiToken: "wrong", issueKey: "PROJ-1", add: ["testing"], remove: [] }),
      ).rejects.toBeInstanceOf(PermanentError);
      expect(jira.labels("PROJ-1")).toEqual(["bug", "needs-test"]);
    });
  });

  it("jiraCommentUrl links to the focused comment", () => {
    expect(jiraCommentUrl("https://acme.atlassian.net/", "PROJ-1", "10001")).toBe(
      "https://acme.atlassian.net/browse/PROJ-1?focusedCommentId=10001",
    );
  });
});
