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

  async function race(claimers: number, take: (workerId: string) => Promise<{ _id: unknown }[]>) {
    const claimedBy = new Map<string, string[]>();
    const claimer = async (workerId: string) => {
      for (;;) {
        const jobs = await take(workerId);
        if (jobs.length === 0) return;
        for (const job of jobs) {
          const id = String(job._id);
          claimedBy.set(id, [...(claimedBy.get(id) ?? []), workerId]);
        }
      }
    };
    await Promise.all(Array.from({ length: claimers }, (_, i) => claimer(`w${i}`)));
    return claimedBy;
  }

  it("20 concurrent single claimers take 1,000 pending jobs, each exactly once", async () => {
    await queue.jobs.deleteMany({});
    await queue.enqueueMany(Array.from({ length: 1000 }, (_, n) => ({ type: "noop", payload: { n } })));
    const claimedBy = await race(20, async (workerId) => {
      const job = await queue.claim(workerId, 60_000);
      return job ? [job] : [];
    });
    expect(claimedBy.size).toBe(1000);
    expect([...claimedBy.values()].filter((owners) => owners.length > 1)).toEqual([]);
    expect(await queue.jobs.countDocuments({ status: "processing" })).toBe(1000);
    // Every claimer got work: the claims really ran concurrently rather than one draining the queue.
    expect(new Set([...claimedBy.values()].map((owners) => owners[0])).size).toBeGreaterThan(1);
  });

  it("20 concurrent batch claimers (10 at a time) racing for the same head claim each job exactly once", async () => {
    await queue.jobs.deleteMany({});
    await queue.enqueueMany(Array.from({ length: 1000 }, (_, n) => ({ type: "noop", payload: { n } })));
    const claimedBy = await race(20, (workerId) =>
      queue.claimBatch({ workerId, leaseMs: 60_000, limit: 10 }),
    );
    expect(claimedBy.size).toBe(1000);
    expect([...claimedBy.values()].filter((owners) => owners.length > 1)).toEqual([]);
    // The database agrees with what each claimer was told.
    const docs = await queue.jobs.find({}).toArray();
    for (const doc of docs) {
      expect(doc.status).toBe("processing");
      expect(doc.attempts).toBe(1);
      expect(claimedBy.get(String(doc._id))).toEqual([doc.lockedBy]);
    }
    expect(new Set([...claimedBy.values()].map((owners) => owners[0])).size).toBeGreaterThan(1);
  });
});
