import { endsWithMarker, markerText, readMarker } from "../../../../functions/shared/domain/marker";

const KEY = "a-deployment's-own-marker-key";
const ticketA = { tracker: "linear" as const, id: "issue-a" };
const ticketB = { tracker: "linear" as const, id: "issue-b" };
const ofA = { runId: "linear-ENG-1-0123456789abcdef", kind: "ack" as const, conversationId: "chat_1" };

describe("comment markers", () => {
  it("read back what they say, on the ticket they were written for", () => {
    const comment = `QA.tech is on it.\n\n---\n[Open](https://app.qa.tech/c/chat_1) · \`${markerText(KEY, ticketA, ofA)}\``;

    expect(readMarker(KEY, ticketA, comment)).toEqual(ofA);
    expect(endsWithMarker(comment)).toBe(true);
  });

  it("say nothing when copied onto another ticket", () => {
    const copied = `Nice try\n${markerText(KEY, ticketA, ofA)}`;

    expect(readMarker(KEY, ticketB, copied)).toBeNull();
  });

  it("say nothing when made up without the key, or edited to name another conversation", () => {
    const forged = markerText("someone else's key", ticketB, { ...ofA, conversationId: "chat_1" });
    const edited = markerText(KEY, ticketB, { ...ofA, conversationId: "chat_2" }).replace("chat_2", "chat_1");

    expect(readMarker(KEY, ticketB, forged)).toBeNull();
    expect(readMarker(KEY, ticketB, edited)).toBeNull();
  });

  it("count only on the comment's last line: a genuine marker quoted above our own is ignored", () => {
    const genuineForB = markerText(KEY, ticketB, { ...ofA, conversationId: "chat_1" });
    const ours = markerText(KEY, ticketB, {
      ...ofA,
      runId: "linear-ENG-2-0123456789abcdef",
      conversationId: "chat_2",
    });
    const comment = `QA.tech said:\n${genuineForB}\nand more\n\n---\n\`${ours}\``;

    expect(readMarker(KEY, ticketB, comment)?.conversationId).toBe("chat_2");
  });

  it("survive the escapes a markdown round trip may add", () => {
    const text = markerText(KEY, ticketA, ofA).replaceAll("_", "\\_");

    expect(readMarker(KEY, ticketA, text)).toEqual(ofA);
  });

  it("bind the tracker too: the same id on the other tracker is another ticket", () => {
    const text = markerText(KEY, ticketA, ofA);

    expect(readMarker(KEY, { tracker: "jira", id: ticketA.id }, text)).toBeNull();
  });

  it("may name no conversation (a failure before one was opened)", () => {
    const marker = { runId: ofA.runId, kind: "failure" as const };

    expect(readMarker(KEY, ticketA, markerText(KEY, ticketA, marker))).toEqual(marker);
  });

  describe("with the conversation's project (a route's)", () => {
    const routed = { ...ofA, projectShortId: "proj_mobile" };

    it("carry it as chat_x@proj_y, signed, and read it back", () => {
      const text = markerText(KEY, ticketA, routed);

      expect(text).toMatch(/ chat_1@proj_mobile [0-9a-f]{32}$/);
      expect(readMarker(KEY, ticketA, `QA.tech is on it.\n\`${text}\``)).toEqual(routed);
      expect(readMarker(KEY, ticketA, text.replaceAll("_", "\\_"))).toEqual(routed);
      expect(endsWithMarker(text)).toBe(true);
    });

    it("keep the old form: a marker without a project reads as before, with the same digest", () => {
      // Written before routes: the digest of the old form must not change, or every thread would be lost.
      const old = markerText(KEY, ticketA, ofA);

      expect(old).toMatch(/ chat_1 [0-9a-f]{32}$/);
      expect(readMarker(KEY, ticketA, old)).toEqual(ofA);
      expect(readMarker(KEY, ticketA, old)).not.toHaveProperty("projectShortId");
    });

    it("refuse a forged project: added to, changed in or dropped from a genuine marker", () => {
      const genuine = markerText(KEY, ticketA, routed);
      const plain = markerText(KEY, ticketA, ofA);
      const digestOf = (text: string) => text.split(" ").at(-1);

      const changed = genuine.replace("@proj_mobile", "@proj_web");
      const added = plain.replace("chat_1 ", "chat_1@proj_web ");
      const dropped = genuine.replace("@proj_mobile", "");
      const madeUp = markerText("someone else's key", ticketA, { ...routed, projectShortId: "proj_web" });

      for (const forged of [changed, added, dropped, madeUp])
        expect(readMarker(KEY, ticketA, forged)).toBeNull();
      expect(digestOf(dropped)).toBe(digestOf(genuine));
    });

    it("still read an old marker whose conversation id itself held @proj", () => {
      const odd = { ...ofA, conversationId: "chat_1@proj_x" };

      expect(readMarker(KEY, ticketA, markerText(KEY, ticketA, odd))).toEqual(odd);
    });

    it("refuse to carry a project the trailer could not read back, or one without a conversation", () => {
      for (const projectShortId of ["proj x", "proj_`", `proj_${"x".repeat(101)}`, "prj_x"])
        expect(() => markerText(KEY, ticketA, { ...ofA, projectShortId })).toThrow(
          /cannot carry the project/,
        );
      expect(() =>
        markerText(KEY, ticketA, { runId: ofA.runId, kind: "failure", projectShortId: "proj_mobile" }),
      ).toThrow(/cannot carry the project/);
    });
  });
});
