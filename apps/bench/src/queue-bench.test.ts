/**
 * Smoke test of the benchmark's measurements with tiny counts: the numbers add up (every enqueued job
 * completes once, commands are counted). It asserts nothing about speed.
 */
import { loadConfig } from "@ecodrix/platform";
import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { percentile } from "./bench-util.js";
import {
  type BenchSettings,
  dropDatabase,
  measureIdle,
  measurePickup,
  measureThroughput,
  type Target,
} from "./phases.js";
import { totalCommands } from "./protocol.js";

const settings: BenchSettings = {
  concurrency: 4,
  worker: loadConfig({
    MONGODB_URI: "mongodb://127.0.0.1:1",
    CORE_API_TOKEN: "bench-not-a-real-token-0123456789",
    ENCRYPTION_KEY: "00".repeat(32),
  }).worker,
  agenda: {
    processEveryMs: 100,
    maxConcurrency: 4,
    defaultConcurrency: 4,
    lockLimit: 4,
    defaultLockLimit: 4,
    defaultLockLifetimeMs: 30_000,
  },
};

describe("queue benchmark (smoke, tiny counts)", () => {
  let mongo: TestMongo;
  const targets: Target[] = [];
  const target = (name: string): Target => {
    const t = { uri: mongo.uri, dbName: `${mongo.dbName}_${name}` };
    targets.push(t);
    return t;
  };

  beforeAll(async () => {
    mongo = await createTestMongo("bench");
  });
  afterAll(async () => {
    await Promise.all(targets.map(dropDatabase));
    await mongo.close();
  });

  it("percentile is nearest-rank", () => {
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10);
    expect(percentile([], 95)).toBeNaN();
  });

  it.each(["ours", "ceiling", "agenda"] as const)(
    "%s: every one of 100 jobs completes once, and the processing commands are counted",
    async (contender) => {
      const result = await measureThroughput(contender, target(`tp_${contender}`), settings, {
        jobs: 100,
        processes: 2,
        timeCapMs: 60_000,
      });
      expect(result.timedOut).toBe(false);
      expect(result.completed).toBe(100);
      expect(result.handled).toBe(100);
      expect(totalCommands(result.commands)).toBeGreaterThan(0);
      expect(result.commandsPerJob).toBeGreaterThan(0);
      expect(result.jobsPerS).toBeGreaterThan(0);
    },
    90_000,
  );

  it("pickup: every job enqueued at low load is picked up and timed", async () => {
    const result = await measurePickup("ours", target("pickup"), settings, {
      processes: 1,
      warmupMs: 200,
      intervalMs: 50,
      durationMs: 500,
    });
    expect(result.enqueued).toBe(10);
    expect(result.picked).toBe(10);
    expect(result.p95Ms).toBeGreaterThanOrEqual(result.p50Ms);
  }, 60_000);

  it("idle: measures a window of an idle worker", async () => {
    const result = await measureIdle("ours", target("idle"), settings, { warmupMs: 200, windowMs: 1_000 });
    expect(result.windowMs).toBeGreaterThanOrEqual(900);
    expect(result.qps).toBeGreaterThanOrEqual(0);
  }, 60_000);
});
