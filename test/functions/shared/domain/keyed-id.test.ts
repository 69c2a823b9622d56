import { createHash } from "node:crypto";
import { v4 as uuidv4 } from "uuid";
import { keyedUuid } from "../../../../functions/shared/domain/marker";
import { UUID_V4 } from "../../../../simulators/linear";

const KEY = "a-deployment's-own-marker-key";
const SEED = "linear-ENG-42-0123456789abcdef:reply";

/** The ids before issue 17: anyone who saw the webhook could compute them. */
function publicUuid(seed: string): string {
  return uuidv4({ random: createHash("sha256").update(seed).digest().subarray(0, 16) });
}

describe("comment and activity ids keyed with the marker key", () => {
  it("are the same for the same seed and key, so a retried post is known by its id", () => {
    expect(keyedUuid(KEY, SEED)).toBe(keyedUuid(KEY, SEED));
  });

  it("differ with another key or another seed", () => {
    const ids = new Set([
      keyedUuid(KEY, SEED),
      keyedUuid("another deployment's key", SEED),
      keyedUuid(KEY, `${SEED}x`),
      keyedUuid(KEY, "linear-ENG-42-0123456789abcdef:ack"),
    ]);
    expect(ids.size).toBe(4);
  });

  it("cannot be computed from the seed alone: not the plain digest anyone can compute", () => {
    expect(keyedUuid(KEY, SEED)).not.toBe(publicUuid(SEED));
  });

  it("are v4 UUIDs, the format Linear takes for client-chosen comment and activity ids", () => {
    for (const seed of [SEED, "", "x".repeat(500), "ünïcode:ack"])
      expect(keyedUuid(KEY, seed)).toMatch(UUID_V4);
  });

  it("refuse an empty key: an id anyone could compute is what they replace", () => {
    expect(() => keyedUuid("", SEED)).toThrow(/key/);
  });
});
