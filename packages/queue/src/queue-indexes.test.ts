import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { claimCandidates } from "./claim.js";
import { createQueue, type Queue } from "./queue.js";

// The embedded server has no query planner (it scans), so this runs against a real MongoDB only:
// MONGODB_URI set, or testcontainers. There it proves that finished jobs stay off the claim path.
const realMongo = inject("mongoSource") !== "embedded";

describe.skipIf(!realMongo)("claim query on MongoDB", () => {
  let mongo: TestMongo;
  let queue: Queue;

  beforeAll(async () => {
    mongo = await createTestMongo("indexes");
    queue = createQueue({ db: mongo.db });
    await queue.ensureIndexes();
    const finished = new Date();
    await queue.enqueueMany(Array.from({ length: 20_000 }, () => ({ type: "noop" })));
    await queue.jobs.updateMany({}, { $set: { status: "completed", completedAt: finished } });
    await queue.enqueueMany(Array.from({ length: 10 }, () => ({ type: "noop" })));
  });
  afterAll(() => mongo.close());

  it("reads only runnable jobs through indexes, however many finished jobs the collection holds", async () => {
    const plan = (await claimCandidates(queue.jobs, new Date(), { limit: 10 }).explain("executionStats")) as {
      executionStats: { totalDocsExamined: number; nReturned: number };
      queryPlanner: { winningPlan: unknown };
    };
    expect(plan.executionStats.nReturned).toBe(10);
    expect(plan.executionStats.totalDocsExamined).toBeLessThanOrEqual(20);
    expect(JSON.stringify(plan.queryPlanner.winningPlan)).not.toContain("COLLSCAN");
  });
});
