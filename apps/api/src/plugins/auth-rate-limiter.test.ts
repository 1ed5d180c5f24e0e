import { describe, expect, it } from "vitest";
import { createFailedAuthLimiter } from "./auth-rate-limiter.js";

const limitedFor = (run: () => void): number | undefined => {
  try {
    run();
    return undefined;
  } catch (error) {
    expect(error).toMatchObject({ statusCode: 429, code: "ECODRIX_AUTH_RATE_LIMITED" });
    return (error as { retryAfterMs: number }).retryAfterMs;
  }
};

describe("failed-authentication limiter", () => {
  it("a full table of over-limit IPs keeps every one of them limited; new IPs share one overflow budget", () => {
    const limiter = createFailedAuthLimiter({
      maxFailures: 1_000,
      maxFailuresPerIp: 3,
      windowMs: 60_000,
      maxEntries: 10,
    });
    const t0 = 1_000_000;
    for (let ip = 0; ip < 10; ip++) {
      for (let failure = 0; failure < 3; failure++)
        limiter.recordFailure(`10.0.0.${ip}`, `code${failure}`, t0);
    }
    // New IPs: the table has no room, and no window in it may be forgotten before it ends.
    for (let ip = 100; ip < 103; ip++) {
      expect(limitedFor(() => limiter.check(`10.0.0.${ip}`, "x", t0 + 1))).toBeUndefined();
      limiter.recordFailure(`10.0.0.${ip}`, "x", t0 + 1);
    }
    for (let ip = 0; ip < 10; ip++) {
      expect(limitedFor(() => limiter.check(`10.0.0.${ip}`, "x", t0 + 2))).toBe(60_000);
    }
    // The IPs the table could not remember have used up their shared budget together.
    expect(limitedFor(() => limiter.check("10.0.0.200", "x", t0 + 2))).toBe(60_000);
    // Once the windows end, everyone starts afresh.
    expect(limitedFor(() => limiter.check("10.0.0.0", "x", t0 + 60_000))).toBeUndefined();
    expect(limitedFor(() => limiter.check("10.0.0.200", "x", t0 + 60_001))).toBeUndefined();
  });

  it("makes room by dropping ended windows, then the oldest ones under their limit", () => {
    const limiter = createFailedAuthLimiter({ maxFailures: 2, maxFailuresPerIp: 1_000, maxEntries: 3 });
    const t0 = 1_000_000;
    limiter.recordFailure("ip", "over", t0);
    limiter.recordFailure("ip", "over", t0);
    limiter.recordFailure("ip", "under", t0 + 1);
    for (let code = 0; code < 20; code++) limiter.recordFailure("ip", `new${code}`, t0 + 2);
    expect(limitedFor(() => limiter.check("ip", "over", t0 + 3))).toBe(60_000);
    // An under-limit window was forgotten to make room (its single failure no longer counts).
    limiter.recordFailure("ip", "under", t0 + 3);
    expect(limitedFor(() => limiter.check("ip", "under", t0 + 3))).toBeUndefined();
  });
});
