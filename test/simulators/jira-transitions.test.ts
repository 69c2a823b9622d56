import { type FakeJira, startFakeJira } from "../../simulators/jira";

const email = "qa-bot@example.com";
const apiToken = "jira-api-token";
const authorization = `Basic ${Buffer.from(`${email}:${apiToken}`).toString("base64")}`;

describe("fake Jira transitions", () => {
  let jira: FakeJira;
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${jira.url}${path}`, {
      method,
      headers: { authorization, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };

  beforeEach(async () => {
    jira = await startFakeJira({
      issues: { "PROJ-1": { id: "10001", summary: "Checkout" } },
      workflow: {
        statuses: ["Open", "In Progress", "Closed"],
        transitions: [
          { id: "4", name: "Start Progress", to: "In Progress", from: ["Open"] },
          { id: "2", name: "Close Issue", to: "Closed", requiredFields: ["resolution"] },
          { id: "7", name: "Reopen", to: "Open" },
        ],
      },
    });
  });
  afterEach(() => jira.close());

  it("lists the transitions available from the issue's status, as Jira's v3 API shapes them", async () => {
    const listed = await call("GET", "/rest/api/3/issue/PROJ-1/transitions");

    expect(listed.status).toBe(200);
    // "Reopen" is global but leads to the status the issue is in.
    expect(listed.body.transitions.map((t: { id: string }) => t.id)).toEqual(["4", "2"]);
    expect(listed.body.transitions[0]).toMatchObject({
      id: "4",
      name: "Start Progress",
      to: { name: "In Progress" },
      isAvailable: true,
      isGlobal: false,
    });
    const issue = await call("GET", "/rest/api/3/issue/PROJ-1?fields=status");
    expect(issue.body.fields).toEqual({ status: expect.objectContaining({ name: "Open" }) });
  });

  it("moves the issue on a POST of an available transition's id, answering 204", async () => {
    const moved = await call("POST", "/rest/api/3/issue/PROJ-1/transitions", { transition: { id: "4" } });

    expect(moved.status).toBe(204);
    expect(jira.status("PROJ-1")).toBe("In Progress");
    const listed = await call("GET", "/rest/api/3/issue/PROJ-1/transitions");
    expect(listed.body.transitions.map((t: { id: string }) => t.id)).toEqual(["2", "7"]);
  });

  it("refuses, as Jira does, a transition the issue does not offer, none at all, or a missing required field", async () => {
    const unavailable = await call("POST", "/rest/api/3/issue/PROJ-1/transitions", {
      transition: { id: "7" },
    });
    const unknown = await call("POST", "/rest/api/3/issue/PROJ-1/transitions", { transition: { id: "99" } });
    const none = await call("POST", "/rest/api/3/issue/PROJ-1/transitions", {});
    const unscreened = await call("POST", "/rest/api/3/issue/PROJ-1/transitions", {
      transition: { id: "2" },
    });

    expect(unavailable).toEqual({
      status: 400,
      body: { errorMessages: ["Transition id '7' is not valid for this issue."], errors: {} },
    });
    expect(unknown.status).toBe(400);
    expect(none.status).toBe(400);
    expect(unscreened).toEqual({
      status: 400,
      body: { errorMessages: [], errors: { resolution: "resolution is required." } },
    });
    expect(jira.status("PROJ-1")).toBe("Open");
    expect(jira.transitionsMade).toEqual([]);

    const closed = await call("POST", "/rest/api/3/issue/PROJ-1/transitions", {
      transition: { id: "2" },
      fields: { resolution: { name: "Done" } },
    });
    expect(closed.status).toBe(204);
    expect(jira.status("PROJ-1")).toBe("Closed");
  });

  it("answers 404 for an issue it does not know", async () => {
    expect((await call("GET", "/rest/api/3/issue/PROJ-9/transitions")).status).toBe(404);
    expect(
      (await call("POST", "/rest/api/3/issue/PROJ-9/transitions", { transition: { id: "4" } })).status,
    ).toBe(404);
  });
});
