/**
 * Smoke test of `npm run bench:crm`'s automation phase with tiny counts, against the test server:
 * every confirmation ends in exactly one completed send_whatsapp job and one message at the fake Graph API, and the latencies are measured
 * from real jobs. It asserts nothing about speed.
 */
import { describe, expect, inject, it } from "vitest";
import { percentile } from "./bench-util.js";
import { measureAutomation } from "./crm-bench.js";

describe("CRM benchmark (smoke, tiny counts)", () => {
  it("the automation phase: each confirmation → one completed send, latencies from PATCH to completion", async () => {
    const figures = await measureAutomation(inject("mongoUri"), {
      ratePerSecond: 4,
      durationSeconds: 1,
      workerProcesses: 2,
      graphAnswerMs: 5,
    });
    expect(figures.automation_expected).toBe(4);
    expect(figures.automation_sends).toBe(4);
    expect(figures.automation_graph_sends).toBe(4);
    expect(figures.automation_p50_ms).toBeGreaterThan(0);
    expect(figures.automation_p95_ms).toBeGreaterThanOrEqual(figures.automation_p50_ms);
    expect(figures.automation_max_ms).toBeGreaterThanOrEqual(figures.automation_p95_ms);
  });

  it("percentile is nearest-rank", () => {
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(Number.isNaN(percentile([], 50))).toBe(true);
  });
});
