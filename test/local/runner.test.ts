import { setLogSink } from "../../functions/shared/platform/log";
import { causeChain, causeText } from "../../local/runner";
import { startHarness } from "../../simulators/harness";
import { recheck, waitFor } from "../support/wait-for";

describe("the local runner's log of a failed step", () => {
  it("says what caused the error, not only its name: the refused connection under 'could not be reached'", async () => {
    const lines: string[] = [];
    const previous = setLogSink((line) => {
      lines.push(line);
      recheck();
    });
    const h = await startHarness({ qatech: { plan: () => ({ status: "NEVER" }) } });
    try {
      await h.sendLinear("Issue.update.label-added");
      await waitFor(() => h.linearAcks().length === 1);
      // QA.tech goes away while the reply is awaited: the next poll cannot connect.
      await h.qatech.close();
      await waitFor(() => lines.some((l) => l.includes('"StateFailed"')));
    } finally {
      await h.close();
      setLogSink(previous);
    }

    const step = lines.map((l) => JSON.parse(l)).find((l) => l.event === "StateFailed");
    expect(step).toMatchObject({ state: "PollConversation", error: "TransientError" });
    expect(step.cause).toMatch(
      /^QA\.tech could not be reached \(GET \/v1\/chat\/chat_1\): fetch failed: .*ECONNREFUSED/,
    );
  }, 90_000);

  it("follows the whole chain of causes", () => {
    const error = new Error("QA.tech could not be reached", {
      cause: new Error("fetch failed", {
        cause: Object.assign(new Error("connect refused"), { code: "ECONNREFUSED" }),
      }),
    });

    expect(causeChain(error)).toBe("fetch failed: connect refused (ECONNREFUSED)");
    expect(causeChain(new Error("alone"))).toBeUndefined();
  });
});

describe("causeText", () => {
  it("writes an Error's message, not {}", () => {
    expect(causeText(new TypeError("fetch failed"))).toBe("fetch failed");
    expect(causeText("already text")).toBe("already text");
    expect(causeText({ code: 1 })).toBe('{"code":1}');
    expect(causeText(undefined)).toBeUndefined();
  });
});
