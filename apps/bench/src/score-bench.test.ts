/**
 * Smoke test of the scoring benchmark with tiny counts: every lead is recalculated by the worker
 * process, scores change under each new rule version, and memory and CPU figures are reported. It
 * asserts nothing about speed.
 */
import { describe, expect, inject, it } from "vitest";
import { runScoreBench } from "./score-bench.js";

describe("bench:crm scoring phase (tiny counts)", () => {
  it("recalculates every lead at each size in a worker process, and again with a capped heap", async () => {
    const lines: string[] = [];
    const runs = await runScoreBench({
      uri: inject("mongoUri"),
      sizes: [120, 300],
      batchSize: 50,
      heapCapMb: 64,
      log: (line) => lines.push(line),
    });
    expect(runs.map((run) => run.leads)).toEqual([120, 300, 300]);
    expect(runs[2]?.heapCapMb).toBe(64);
    for (const run of runs) {
      // Most leads score something under every version (about 9 in 10 of the seeded mix).
      expect(run.changed).toBeGreaterThan(run.leads * 0.7);
      expect(run.changed).toBeLessThanOrEqual(run.leads);
      expect(run.events).toBeGreaterThan(run.leads);
      expect(run.maxRssMb).toBeGreaterThan(run.startRssMb * 0.5);
      expect(run.handlerMs).toBeGreaterThan(0);
      expect(run.workerCpuS).toBeGreaterThan(0);
    }
    expect(runs[2]?.heapLimitMb).toBeLessThan(runs[1]?.heapLimitMb ?? 0);
    expect(lines.some((line) => line.includes("warm-up"))).toBe(true);
  });
});
