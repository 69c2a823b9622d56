import { createHmac } from "node:crypto";
import { verifyJiraSignature } from "../../../../../functions/shared/trackers/jira/webhook";

const secret = "whsec-jira-test";
const body = Buffer.from('{"webhookEvent":"jira:issue_updated","issue":{"id":"10002"}}');

function sign(raw: Buffer, key = secret): string {
  return `sha256=${createHmac("sha256", key).update(raw).digest("hex")}`;
}

describe("verifyJiraSignature", () => {
  it("accepts the signature of the raw body", () => {
    expect(verifyJiraSignature(body, sign(body), secret)).toBe(true);
  });

  it("rejects a signature made with another secret", () => {
    expect(verifyJiraSignature(body, sign(body, "other-secret"), secret)).toBe(false);
  });

  it("rejects the signature of another body", () => {
    const other = Buffer.from('{"webhookEvent":"jira:issue_updated","issue":{"id":"10003"}}');

    expect(verifyJiraSignature(body, sign(other), secret)).toBe(false);
  });

  it("rejects a request without the header", () => {
    expect(verifyJiraSignature(body, undefined, secret)).toBe(false);
    expect(verifyJiraSignature(body, "", secret)).toBe(false);
  });

  it("rejects everything when no secret is configured", () => {
    expect(verifyJiraSignature(body, sign(body, ""), undefined)).toBe(false);
    expect(verifyJiraSignature(body, sign(body, ""), "")).toBe(false);
  });

  it("rejects another algorithm's prefix or none", () => {
    const hex = sign(body).slice("sha256=".length);

    expect(verifyJiraSignature(body, `sha1=${hex}`, secret)).toBe(false);
    expect(verifyJiraSignature(body, hex, secret)).toBe(false);
    expect(verifyJiraSignature(body, `SHA256=${hex}`, secret)).toBe(false);
  });

  it("rejects a truncated, padded or non-hex signature without throwing", () => {
    const valid = sign(body);

    expect(verifyJiraSignature(body, valid.slice(0, -2), secret)).toBe(false);
    expect(verifyJiraSignature(body, `${valid}00`, secret)).toBe(false);
    expect(verifyJiraSignature(body, `${valid.slice(0, -1)}g`, secret)).toBe(false);
    expect(verifyJiraSignature(body, ` ${valid}`, secret)).toBe(false);
  });

  it("accepts uppercase hex digits, which encode the same bytes", () => {
    const upper = `sha256=${sign(body).slice("sha256=".length).toUpperCase()}`;

    expect(verifyJiraSignature(body, upper, secret)).toBe(true);
  });
});
