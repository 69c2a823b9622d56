import { type FakeQaTech, type FakeQaTechOptions, startFakeQaTech } from "../../../simulators/qatech";
import { qatechRunsRow } from "../../../tools/doctor/doctor";
import { checkQaTechRuns, QATECH_RUNS_CHECK } from "../../../tools/ops/credentials";

describe("the check whether QA.tech's key may read test runs", () => {
  let qa: FakeQaTech;
  afterEach(() => qa.close());
  const start = async (options: FakeQaTechOptions = {}) => {
    qa = await startFakeQaTech({ apiKey: "qa-runs-key-1234", ...options });
  };
  const check = () => checkQaTechRuns(qa.url, "qa-runs-key-1234");

  it("passes for a key QA.tech lets past to a run that does not exist (404), creating nothing", async () => {
    await start();

    const result = await check();

    expect(result).toEqual({ ok: true, detail: expect.stringContaining("404") });
    expect(qa.requests.map((r) => r.method)).toEqual(["GET"]);
    expect(qa.requests[0].path).toMatch(/^\/v1\/run\//);
    expect(qa.runs()).toEqual([]);
  });

  it("says a key refused with 401 may not read runs, what follows, and the fix", async () => {
    await start({ runsAccess: "none" });

    const result = await check();

    expect(result).toEqual({
      ok: false,
      detail:
        'QA.tech answered 401 to a read of test runs: this key may not read them; every verdict will say "Could not verify"',
      fix: expect.stringContaining("a QA.tech API key that may read test runs"),
    });
  });

  it("says it could not tell when QA.tech fails, without the key", async () => {
    await start();
    qa.failNext({ fault: { status: 503, body: { message: "echo: Bearer qa-runs-key-1234" } } });

    const result = await check();

    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(/^could not tell: QA\.tech answered 503/);
    expect(result.detail).not.toContain("qa-runs-key-1234");
    expect(qa.requests).toHaveLength(1);
  });

  it("is a warning in doctor's table, never a failure", () => {
    expect(qatechRunsRow({ ok: true, detail: "fine" })).toEqual({
      check: QATECH_RUNS_CHECK,
      status: "ok",
      detail: "fine",
    });
    expect(qatechRunsRow({ ok: false, detail: "no", fix: "a key" })).toEqual({
      check: QATECH_RUNS_CHECK,
      status: "warn",
      detail: "no",
      fix: "a key",
    });
  });
});
