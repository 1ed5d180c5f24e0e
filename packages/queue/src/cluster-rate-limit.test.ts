import type { ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startWorkerProcess } from "../test/fixtures/start-worker-process.js";
import { createClusterRateLimiter } from "./cluster-rate-limiter.js";
import { createQueue, type Queue } from "./queue.js";

/** The most starts in any window of `windowMs` (sliding: every start opens a window). */
function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

describe("cluster-wide rate limits (shared through MongoDB)", () => {
  let mongo: TestMongo;
  let queue: Queue;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    mongo = await createTestMongo("ratelimit");
    queue = createQueue({ db: mongo.db });
    await queue.ensureIndexes();
  });
  afterEach(async () => {
    for (const child of children.splice(0))
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  afterAll(() => mongo.close());

  it("60 concurrent reservations on a 20/s key get 60 distinct slots 50 ms apart", async () => {
    let clock = 1_000_000;
    const limiter = createClusterRateLimiter(mongo.db, () => clock);
    const results = await Promise.all(
      Array.from({ length: 60 }, () => limiter.reserve("burst-key", { max: 20, perMs: 1_000 })),
    );
    const waits = results.map((result) => result.waitMs).sort((a, b) => a - b);
    expect(waits).toEqual(Array.from({ length: 60 }, (_, n) => n * 50));
    // Once the reserved slots have passed, the key is idle again: the next reservation runs at once.
    clock += 3_001;
    expect(await limiter.reserve("burst-key", { max: 20, perMs: 1_000 })).toEqual({
      waitMs: 0,
      slotAt: clock,
    });
  });

  it("3 worker processes, 20/s on one key, 200 jobs: every job runs once, no 1-second window over 20", async () => {
    for (let n = 0; n < 3; n++) {
      children.push(
        await startWorkerProcess({
          MONGODB_URI: mongo.uri,
          SERVICES_DB_NAME: mongo.dbName,
          CONCURRENCY: "10",
          RATE_LIMIT: "20/1000",
        }),
      );
    }
    await queue.enqueueMany(Array.from({ length: 200 }, () => ({ type: "limited", clientCode: "clinic" })));
    const deadline = Date.now() + 60_000;
    while ((await queue.jobs.countDocuments({ type: "limited", status: "completed" })) < 200) {
      if (Date.now() > deadline) throw new Error("the 200 limited jobs did not complete in 60 s");
      await sleep(200);
    }
    const runs = await mongo.db
      .collection<{ jobId: unknown; at: Date; pid: number }>("executions")
      .find({})
      .toArray();
    expect(runs).toHaveLength(200);
    expect(new Set(runs.map((run) => String(run.jobId))).size).toBe(200);
    expect(new Set(runs.map((run) => run.pid)).size).toBeGreaterThan(1);
    const times = runs.map((run) => run.at.getTime());
    const busiest = maxInWindow(times, 1_000);
    const span = (Math.max(...times) - Math.min(...times)) / 1000;
    console.log(
      `rate limit 20/s over 3 processes: 200 jobs in ${span.toFixed(1)} s, busiest 1-s window ${busiest}`,
    );
    // Slots are spread for starts up to 50 ms late (52.5 ms apart): no window holds a 21st. (Without the
    // spread, slots 50 ms apart, the busiest window held 21.)
    expect(busiest).toBeLessThanOrEqual(20);
    // None failed or were charged a retry for being deferred.
    expect(await queue.jobs.countDocuments({ type: "limited", retries: { $gt: 0 } })).toBe(0);
    expect(span).toBeGreaterThan(8);
  }, 120_000);
});
