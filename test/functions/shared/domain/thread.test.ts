import { threadAction } from "../../../../functions/shared/domain/thread";

const OURS = { own: false, ours: true };
const NOT_OURS = { own: false, ours: false };

describe("threadAction", () => {
  it("ignores the integration's own comments, whatever they say", () => {
    expect(threadAction({ own: true, ours: true }, "help", "linear")).toBe("ignore");
    expect(threadAction({ own: true, ours: true }, "Does it work on Safari?", "jira")).toBe("ignore");
  });

  it("sends a question in our thread to its conversation", () => {
    expect(threadAction(OURS, "Does it work on Safari?", "linear")).toBe("ask");
  });

  it("ignores a question in a thread that is not ours", () => {
    expect(threadAction(NOT_OURS, "Does it work on Safari?", "linear")).toBe("ignore");
  });

  it.each(["retry", "rerun", "status", "help"] as const)("answers %s in our thread", (command) => {
    expect(threadAction(OURS, `  ${command.toUpperCase()} `, "linear")).toBe(command);
  });

  it("answers help even where no conversation exists yet", () => {
    expect(threadAction(NOT_OURS, "help", "linear")).toBe("help");
  });

  it("starts afresh on retry in Jira where the trigger label is on the ticket, but not in a stranger's Linear thread", () => {
    expect(threadAction({ ...NOT_OURS, labelled: true }, "retry", "jira")).toBe("retry");
    expect(threadAction(NOT_OURS, "retry", "linear")).toBe("ignore");
  });

  it("ignores retry in Jira on a ticket nobody labelled and without a conversation of ours", () => {
    expect(threadAction({ ...NOT_OURS, labelled: false }, "retry", "jira")).toBe("ignore");
    expect(threadAction(NOT_OURS, "retry", "jira")).toBe("ignore");
  });

  it("reruns only where there is a conversation of ours whose runs can be rerun, on either tracker", () => {
    expect(threadAction(NOT_OURS, "rerun", "linear")).toBe("ignore");
    expect(threadAction({ ...NOT_OURS, labelled: true }, "rerun", "jira")).toBe("ignore");
    expect(threadAction(OURS, "rerun", "jira")).toBe("rerun");
    // Only the word itself: a question that mentions a rerun goes to the conversation.
    expect(threadAction(OURS, "rerun the checkout test please", "linear")).toBe("ask");
  });

  it("asks for status only where there is a conversation to ask about", () => {
    expect(threadAction(NOT_OURS, "status", "jira")).toBe("ignore");
  });
});
