import { DESCRIPTION_MAX_BYTES, jsonBytes } from "../../../../../functions/shared/domain/limits";
import { detectAgentEvent } from "../../../../../functions/shared/trackers/linear-agent/webhook";

const SESSION = {
  id: "5a0b2c1d-7e6f-4a3b-9c8d-1e2f3a4b5c6d",
  issueId: "issue-1",
  issue: {
    id: "issue-1",
    identifier: "ENG-42",
    title: "Checkout",
    url: "https://linear.app/x",
    description: "Steps",
  },
};

function created(extra: Record<string, unknown>, session: Record<string, unknown> = {}) {
  return { type: "AgentSessionEvent", action: "created", agentSession: { ...SESSION, ...session }, ...extra };
}

describe("what a new Linear agent session asks QA.tech, without promptContext (Linear's fallback fields)", () => {
  it("a delegation sends the issue and the guidance, never Linear's system comment", () => {
    const trigger = detectAgentEvent(
      created(
        { guidance: [{ body: "Use staging." }] },
        {
          comment: { id: "c-1", body: "This thread is for an agent session with QA.tech." },
          commentId: "c-1",
        },
      ),
    );
    expect(trigger?.ticket.description).toContain("Steps");
    expect(trigger?.ticket.description).toContain("Use staging.");
    expect(trigger?.ticket.description).not.toContain("This thread is for an agent session");
  });

  it("a mention in a reply sends the earlier comments of the thread, not only the root", () => {
    const trigger = detectAgentEvent(
      created(
        {
          previousComments: [
            { id: "c-1", body: "Root text" },
            { id: "c-2", body: "A reply" },
          ],
        },
        { comment: { id: "c-1", body: "Root text" }, commentId: "c-1", sourceCommentId: "c-3" },
      ),
    );
    expect(trigger?.ticket.description).toContain("A reply");
  });

  it("a mention at the root sends the mention", () => {
    const trigger = detectAgentEvent(
      created(
        {},
        { comment: { id: "c-1", body: "@QA.tech test coupons" }, commentId: "c-1", sourceCommentId: "c-1" },
      ),
    );
    expect(trigger?.ticket.description).toContain("test coupons");
  });

  it("bounds a huge promptContext like any untrusted text, and keeps the request's room beside a huge description", () => {
    const huge = "x".repeat(200_000);
    const fromContext = detectAgentEvent(created({ promptContext: huge }));
    expect(jsonBytes(fromContext?.ticket.description)).toBeLessThanOrEqual(DESCRIPTION_MAX_BYTES + 2);
    const fromFields = detectAgentEvent(
      created({ guidance: [{ body: "Use staging." }] }, { issue: { ...SESSION.issue, description: huge } }),
    );
    expect(jsonBytes(fromFields?.ticket.description)).toBeLessThanOrEqual(DESCRIPTION_MAX_BYTES + 2);
    expect(fromFields?.ticket.description).toContain("Use staging.");
  });
});
