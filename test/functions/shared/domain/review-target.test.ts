import { reviewTarget } from "../../../../functions/shared/domain/review-target";
import { ConfigError } from "../../../../functions/shared/platform/errors";

const PR = "https://github.com/acme/shop/pull/7";
const OTHER_PR = "https://github.com/acme/shop/pull/8";
const overrides = [{ applicationShortId: "app_shop", environment: { url: "https://preview.acme.example" } }];

function settings(changeReview: "auto" | "always" | "never", withOverrides = true) {
  return { changeReview, applicationOverrides: withOverrides ? overrides : [], gitlabHosts: [] };
}

/** A links reader that records whether it was asked. */
function links(urls: string[]) {
  const read = { called: 0 };
  return {
    read,
    fn: async () => {
      read.called++;
      return urls;
    },
  };
}

const ticket = (description: string) => ({ title: "Checkout", description });

describe("reviewTarget (which pull request a change review reviews)", () => {
  it("never: no review, and the links are not read", async () => {
    const l = links([PR]);
    expect(await reviewTarget(ticket(PR), settings("never"), l.fn)).toBeNull();
    expect(l.read.called).toBe(0);
  });

  it("auto without application overrides: no review, and the links are not read", async () => {
    const l = links([PR]);
    expect(await reviewTarget(ticket(PR), settings("auto", false), l.fn)).toBeNull();
    expect(l.read.called).toBe(0);
  });

  it("prefers a pull request in the ticket's text, without reading the links", async () => {
    const l = links([OTHER_PR]);
    expect((await reviewTarget(ticket(`see ${PR}`), settings("auto"), l.fn))?.url).toBe(PR);
    expect(l.read.called).toBe(0);
  });

  it("falls back to the first linked pull request, skipping links too long for the state", async () => {
    const long = `${OTHER_PR}?${"x".repeat(3000)}`;
    const l = links(["https://acme.example/spec", long, PR]);
    expect((await reviewTarget(ticket("no link"), settings("auto"), l.fn))?.url).toBe(PR);
    expect(l.read.called).toBe(1);
  });

  it("no pull request anywhere: a conversation, not a review", async () => {
    expect(await reviewTarget(ticket("none"), settings("always"), links([]).fn)).toBeNull();
  });

  it("always without application overrides: a ConfigError once a pull request is found", async () => {
    await expect(reviewTarget(ticket(PR), settings("always", false), links([]).fn)).rejects.toBeInstanceOf(
      ConfigError,
    );
  });
});
