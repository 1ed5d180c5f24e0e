import { isDuplicateKeyError } from "@ecodrix/platform";
import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import { ObjectId } from "mongodb";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { buildJobDocument } from "./enqueue-input.js";
import type { JobDocument } from "./job-types.js";
import { createQueue, type Queue } from "./queue.js";

// Where the servers differ in behaviour the queue relies on, each case written so it holds on all of
// them (packages/test-kit/README.md has the table; packages/queue/README.md what the queue does).
const { server } = inject("mongoCapabilities");

describe("behaviour that differs between servers, handled on each", () => {
  let mongo: TestMongo;
  let queue: Queue;

  beforeAll(async () => {
    mongo = await createTestMongo("differences");
    queue = createQueue({ db: mongo.db, nudgeWorkers: false });
    await queue.ensureIndexes();
  });
  beforeEach(async () => {
    await queue.jobs.deleteMany({});
  });
  afterAll(() => mongo.close());

  it("duplicate key: each server words it its own way; the code (11000) is what is recognised", async () => {
    const things = mongo.db.collection("things");
    await things.createIndex({ key: 1 }, { unique: true, name: "key_unique" });
    await things.insertOne({ key: "k" });
    const single = await things.insertOne({ key: "k" }).catch((error: unknown) => error);
    const bulk = await things
      .bulkWrite([{ insertOne: { document: { key: "k" } } }, { insertOne: { document: { key: "other" } } }], {
        ordered: false,
      })
      .catch((error: unknown) => error);
    for (const error of [single, bulk]) {
      expect(isDuplicateKeyError(error)).toBe(true);
      const message = (error as Error).message;
      if (server === "ferretdb") expect(message).toContain("Duplicate key violation");
      else expect(message).toContain("E11000 duplicate key error");
    }
    // The rest of an unordered bulk write applied on both.
    expect(await things.countDocuments({ key: "other" })).toBe(1);
    // And the queue's dedupe, which rests on it, returns the job already holding the key.
    const first = await queue.enqueue({ type: "noop", dedupeKey: "once" });
    const again = await queue.enqueue({ type: "noop", dedupeKey: "once" });
    expect(String(again._id)).toBe(String(first._id));
    expect(await queue.jobs.countDocuments({ dedupeKey: "once" })).toBe(1);
  });

  it("bulkWrite counts as MongoDB gives them: a matching update that changes nothing is matched, not modified", async () => {
    const [job] = await queue.enqueueMany([{ type: "noop" }]);
    const result = await queue.jobs.bulkWrite(
      [
        { updateOne: { filter: { _id: job!._id }, update: { $set: { status: "pending" } } } },
        { updateOne: { filter: { _id: job!._id }, update: { $set: { priority: 5 } } } },
        { updateOne: { filter: { _id: new ObjectId() }, update: { $set: { priority: 5 } } } },
      ],
      { ordered: false },
    );
    expect({ matched: result.matchedCount, modified: result.modifiedCount }).toEqual({
      matched: 2,
      modified: 1,
    });
  });

  it("ties in the claim sort, claimers preferring different orders: each job is claimed once, on its first attempt, without deadlocks", async () => {
    // enqueueMany gives all 400 the same runAt. FerretDB returns such ties in no fixed order, and a
    // claimer's own preference (the fairness planner's `select`) reorders candidates too; claimers
    // writing their compare-and-sets in different orders deadlocked there (PostgreSQL row locks), and
    // the lost claims were handed back and claimed again with attempts 2. Half the claimers here
    // prefer the reverse order, which made that happen every run.
    await queue.enqueueMany(Array.from({ length: 400 }, (_, n) => ({ type: "noop", payload: { n } })));
    const claimedBy = new Map<string, string[]>();
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (;;) {
          const jobs = await queue.claimBatch({
            workerId: `w${w}`,
            leaseMs: 60_000,
            limit: 10,
            candidates: 20,
            select: (candidates) => (w % 2 === 0 ? candidates : [...candidates].reverse()),
          });
          if (jobs.length === 0) return;
          for (const job of jobs)
            claimedBy.set(String(job._id), [...(claimedBy.get(String(job._id)) ?? []), `w${w}`]);
        }
      }),
    );
    expect(claimedBy.size).toBe(400);
    expect([...claimedBy.values()].filter((owners) => owners.length !== 1)).toEqual([]);
    const docs = await queue.jobs.find({}).toArray();
    expect(docs.filter((doc) => doc.attempts !== 1 || doc.status !== "processing")).toEqual([]);
    expect(docs.every((doc) => claimedBy.get(String(doc._id))?.[0] === doc.lockedBy)).toBe(true);
  });

  it("a claim whose bulk write the server refuses in part keeps the jobs that applied, and leaves the rest untouched", async () => {
    // A per-operation refusal, made to happen on every server: jobs written by hand without lock
    // fields, and a unique sparse index on lockedUntil, which all compare-and-sets of one claim set to
    // the same instant. Only the first (in _id order) applies; the others fail with 11000, as
    // FerretDB's deadlock victims fail with 16908292.
    const now = new Date(Date.now() - 1_000);
    const docs = Array.from({ length: 5 }, () => {
      const { lockedBy: _by, lockedUntil: _until, ...bare } = buildJobDocument({ type: "noop" }, now, 5);
      return bare;
    });
    await queue.jobs.insertMany(docs as unknown as JobDocument[]);
    await queue.jobs.createIndex(
      { lockedUntil: 1 },
      { unique: true, sparse: true, name: "one_lease_per_instant" },
    );
    try {
      const claimed = await queue.claimBatch({ workerId: "w", leaseMs: 60_000, limit: 5 });
      const stored = await queue.jobs.find({}).toArray();
      const processing = stored.filter((doc) => doc.status === "processing");
      expect(claimed).toHaveLength(1);
      expect(processing.map((doc) => String(doc._id))).toEqual(claimed.map((job) => String(job._id)));
      expect(processing[0]).toMatchObject({ lockedBy: "w", attempts: 1 });
      // The refused ones were not claimed, so they were not handed back either: still on attempt 0.
      expect(stored.filter((doc) => doc.status === "pending").map((doc) => doc.attempts)).toEqual([
        0, 0, 0, 0,
      ]);
    } finally {
      await queue.jobs.dropIndex("one_lease_per_instant");
    }
  });
});
