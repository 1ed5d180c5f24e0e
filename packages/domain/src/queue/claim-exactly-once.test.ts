import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createQueue, type Queue } from "./queue.js";

describe("atomic claim (the property the queue rests on)", () => {
  let mongo: TestMongo;
  let queue: Queue;

  beforeAll(async () => {
    mongo = await createTestMongo("claim");
    queue = createQueue({ db: mongo.db });
    await queue.ensureIndexes();
  });
  afterAll(() => mongo.close());

  it("20 concurrent claimers take 1,000 pending jobs, each exactly once", async () => {
    const now = new Date();
    await queue.jobs.insertMany(
      Array.from({ length: 1000 }, (_, n) => ({
        type: "noop",
        clientCode: null,
        payload: { n },
        status: "pending" as const,
        priority: 0,
        runAt: now,
        retries: 0,
        maxRetries: 0,
        lockedBy: null,
        lockedUntil: null,
        lastError: null,
        errors: [],
        createdAt: now,
        updatedAt: now,
        completedAt: null,
      })) as never[],
    );

    const claimedBy = new Map<string, string[]>();
    const claimer = async (workerId: string) => {
      for (;;) {
        const job = await queue.claim(workerId, 60_000);
        if (!job) return;
        const id = String(job._id);
        claimedBy.set(id, [...(claimedBy.get(id) ?? []), workerId]);
      }
    };
    await Promise.all(Array.from({ length: 20 }, (_, i) => claimer(`w${i}`)));

    expect(claimedBy.size).toBe(1000);
    const duplicates = [...claimedBy.values()].filter((owners) => owners.length > 1);
    expect(duplicates).toEqual([]);
    expect(await queue.jobs.countDocuments({ status: "processing" })).toBe(1000);
    // Every claimer got work: the claims really ran concurrently rather than one draining the queue.
    const perWorker = new Set([...claimedBy.values()].map((owners) => owners[0]));
    expect(perWorker.size).toBeGreaterThan(1);
  });
});
