import { composeComment } from "../../../../../functions/shared/domain/comment";
import { renderLinearComment } from "../../../../../functions/shared/trackers/linear/comment";
import { CONVERSATION_URL, state } from "../../domain/ticket-fixture";

describe("renderLinearComment", () => {
  const TRAILER = "qa-ticket linear-ENG-42-0123456789abcdef/reply chat_7 0123456789abcdef0123456789abcdef";

  it("ends with one line of its own under a rule: the conversation link and the marker", () => {
    const markdown = renderLinearComment(
      {
        kind: "reply",
        markdown: "## Tested\n\nAll good.",
        link: { url: CONVERSATION_URL, label: "Open the conversation in QA.tech" },
      },
      TRAILER,
    );

    expect(markdown).toBe(
      `## Tested\n\nAll good.\n\n---\n[Open the conversation in QA.tech](${CONVERSATION_URL}) · \`${TRAILER}\``,
    );
  });

  it("ends with the marker alone when there is no conversation to link", () => {
    expect(renderLinearComment({ kind: "failure", markdown: "No conversation was opened." }, TRAILER)).toBe(
      `No conversation was opened.\n\n---\n\`${TRAILER}\``,
    );
  });

  it("closes a code fence the reply left open, so the link line is not swallowed by it", () => {
    const markdown = renderLinearComment({ kind: "reply", markdown: "Look:\n```ts\nconst a = 1;" }, TRAILER);

    expect(markdown.split("\n").filter((line) => line.startsWith("```"))).toHaveLength(2);
    expect(markdown.endsWith(`\`${TRAILER}\``)).toBe(true);
  });

  it("shows the reply's javascript: and data: links as text, and keeps the conversation link", () => {
    const markdown = renderLinearComment(
      {
        kind: "reply",
        markdown: "Try [click](javascript:alert(1)) or <data:text/html,x>.",
        link: { url: CONVERSATION_URL, label: "Open the conversation in QA.tech" },
      },
      TRAILER,
    );

    expect(markdown).toBe(
      `Try click or data:text/html,x.\n\n---\n[Open the conversation in QA.tech](${CONVERSATION_URL}) · \`${TRAILER}\``,
    );
  });

  it("renders what composeComment produces with a clickable link", () => {
    const markdown = renderLinearComment(
      composeComment("reply", state({ reply: { status: "COMPLETED", text: "All good." } })),
      TRAILER,
    );

    expect(markdown).toMatch(/^All good\.\n/);
    expect(markdown).toContain(`](${CONVERSATION_URL})`);
  });
});
