import { parseRetryAfter } from "../../../../functions/shared/platform/http";

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-11-20T10:00:00.000Z");

  it("reads delay seconds", () => {
    expect(parseRetryAfter("120", now)).toBe(120);
    expect(parseRetryAfter(" 5 ", now)).toBe(5);
    expect(parseRetryAfter("0", now)).toBe(0);
  });

  it("reads an HTTP date as the seconds until then, rounded up", () => {
    expect(parseRetryAfter("Fri, 20 Nov 2026 10:01:30 GMT", now)).toBe(90);
    expect(parseRetryAfter(new Date(now + 1500).toUTCString(), now)).toBe(1);
  });

  it("treats a date in the past as no wait", () => {
    expect(parseRetryAfter("Fri, 20 Nov 2026 09:00:00 GMT", now)).toBe(0);
  });

  it("ignores an absent or unreadable header", () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter("", now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
  });

  it("ignores values that are neither delay seconds nor an HTTP date, instead of reading them as dates", () => {
    // V8's Date.parse reads "-5" as the year -5 and "1.5" as 5 January 2001: both would mean "retry now".
    expect(parseRetryAfter("-5", now)).toBeUndefined();
    expect(parseRetryAfter("1.5", now)).toBeUndefined();
  });
});
