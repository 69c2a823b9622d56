import {
  boundedLabels,
  boundedTicket,
  LABEL_MAX_BYTES,
  LABELS_MAX,
} from "../../../../functions/shared/domain/ticket";

const TICKET = {
  tracker: "jira" as const,
  id: "10002",
  key: "PROJ-1",
  title: "Checkout",
  url: "https://acme.atlassian.net/browse/PROJ-1",
  description: "",
};

describe("a ticket's labels (what routing matches on)", () => {
  it("are kept whole or dropped, never cut, and at most LABELS_MAX", () => {
    const long = "x".repeat(LABEL_MAX_BYTES);
    const many = Array.from({ length: LABELS_MAX + 10 }, (_, i) => `l${i}`);

    expect(boundedLabels(["mobile", "", "  ", long, "bad\u0000label", 42, "ios"])).toEqual(["mobile", "ios"]);
    expect(boundedLabels(many)).toEqual(many.slice(0, LABELS_MAX));
  });

  it("travel with the ticket only when the tracker stated them", () => {
    expect(boundedTicket(TICKET)).not.toHaveProperty("labels");
    expect(boundedTicket({ ...TICKET, labels: ["mobile", "x".repeat(LABEL_MAX_BYTES)] }).labels).toEqual([
      "mobile",
    ]);
  });
});
