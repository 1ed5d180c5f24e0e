import { describe, expect, it } from "vitest";
import { restartDelayMs } from "./restart-policy.js";

describe("restart back-off of npm start", () => {
  const policy = { initialMs: 1_000, maxMs: 30_000, stableAfterMs: 30_000, maxQuickCrashes: 7 };

  it("doubles from the initial delay up to the cap, then gives up after the last allowed crash", () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => restartDelayMs(policy, n));
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, undefined]);
  });
});
