import { setTimeout as sleep } from "node:timers/promises";
import { AppError } from "@ecodrix/platform";
import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import { MongoClient, ObjectId } from "mongodb";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { backoffDelayMs } from "./backoff.js";
import type { JobDocument, JobStatus } from "./job-types.js";
import { createQueue, type Queue } from "./queue.js";

describe("job queue", () => {
  let mongo: TestMongo;
  let queue: Queue;

  beforeAll(async () => {
    mongo = await createTestMongo("queue");
    queue = createQueue({ db: mongo.db, backoff: { baseMs: 1_000, maxMs: 60_000 } });
    await queue.ensureIndexes();
  });
  afterAll(() => mongo.close());
  beforeEach(async () => {
    await queue.jobs.deleteMany({});
  });

  /** A queue on its own client with command monitoring: `commands` lists the commands it sends. */
  async function withMonitoredQueue(
    run: (monitored: Queue, commands: string[]) => Promise<void>,
  ): Promise<void> {
    const client = new MongoClient(mongo.uri, { monitorCommands: true });
    await client.connect();
    try {
      const commands: string[] = [];
      client.on("commandStarted", (event) => commands.push(event.commandName));
      await run(createQueue({ db: client.db(mongo.dbName) }), commands);
    } finally {
      await client.close();
    }
  }

  describe("enqueue", () => {
    it("writes a plain document with exactly the documented fields", async () => {
      const job = await queue.enqueue({ type: "send_email", clientCode: "acme", payload: { to: "a@b.c" } });
      const stored = await queue.jobs.findOne({ _id: job._id });
      expect(Object.keys(stored ?? {}).sort()).toEqual(
        [
          "_id",
          "type",
          "clientCode",
          "payload",
          "status",
          "priority",
          "runAt",
          "retries",
          "maxRetries",
          "attempts",
          "lockedBy",
          "lockedUntil",
          "lastError",
          "errors",
          "createdAt",
          "updatedAt",
          "completedAt",
        ].sort(),
      );
      expect(stored).toMatchObject({
        type: "send_email",
        clientCode: "acme",
        payload: { to: "a@b.c" },
        status: "pending",
        priority: 0,
        retries: 0,
        maxRetries: 5,
        attempts: 0,
        lockedBy: null,
        lockedUntil: null,
        lastError: null,
        errors: [],
        completedAt: null,
      });
    });

    it("refuses a malformed job with a clear message", async () => {
      await expect(queue.enqueue({ type: "" })).rejects.toMatchObject({
        code: "ECODRIX_JOBS_INVALID_INPUT",
        statusCode: 400,
      });
      await expect(queue.enqueue({ type: "x", maxRetries: -1 })).rejects.toThrow(/maxRetries/);
    });

    it("bulk enqueue inserts many jobs and returns them in input order", async () => {
      const jobs = await queue.enqueueMany(
        Array.from({ length: 50 }, (_, n) => ({
          type: "noop",
          payload: { n },
          ...(n === 7 ? { dedupeKey: "k7" } : {}),
        })),
      );
      expect(jobs.map((job) => job.payload.n)).toEqual(Array.from({ length: 50 }, (_, n) => n));
      expect(await queue.jobs.countDocuments({})).toBe(50);
    });

    it("a delayed job (delayMs or runAt) is not claimed before it is due", async () => {
      await queue.enqueue({ type: "later", delayMs: 300 });
      await queue.enqueue({ type: "much-later", runAt: new Date(Date.now() + 60_000) });
      expect(await queue.claim("w", 10_000)).toBeNull();
      await sleep(350);
      expect((await queue.claim("w", 10_000))?.type).toBe("later");
      expect(await queue.claim("w", 10_000)).toBeNull();
    });

    it("claims by priority (higher first), then by runAt", async () => {
      const now = Date.now();
      await queue.enqueue({ type: "low-old", priority: 0, runAt: new Date(now - 3000) });
      await queue.enqueue({ type: "high-new", priority: 5, runAt: new Date(now - 1000) });
      await queue.enqueue({ type: "high-old", priority: 5, runAt: new Date(now - 2000) });
      const batch = await queue.claimBatch({ workerId: "w", leaseMs: 10_000, limit: 3 });
      expect(batch.map((job) => job.type)).toEqual(["high-old", "high-new", "low-old"]);
    });
  });

  describe("dedupe", () => {
    it("a second enqueue with the same key returns the existing job while it is unfinished", async () => {
      const first = await queue.enqueue({ type: "sync", dedupeKey: "sync:acme" });
      const second = await queue.enqueue({ type: "sync", dedupeKey: "sync:acme" });
      expect(String(second._id)).toBe(String(first._id));
      const claimed = await queue.claim("w", 10_000);
      const third = await queue.enqueue({ type: "sync", dedupeKey: "sync:acme" });
      expect(String(third._id)).toBe(String(first._id));
      expect(await queue.jobs.countDocuments({})).toBe(1);

      // Once it finishes, the key is free again and the old job keeps it as finishedDedupeKey.
      expect(await queue.complete(claimed!)).toBe(true);
      const fourth = await queue.enqueue({ type: "sync", dedupeKey: "sync:acme" });
      expect(String(fourth._id)).not.toBe(String(first._id));
      expect(await queue.get(first._id)).toMatchObject({
        status: "completed",
        finishedDedupeKey: "sync:acme",
      });
      expect((await queue.get(first._id))?.dedupeKey).toBeUndefined();
    });

    it("cancelled and dead-lettered jobs free their key too; bulk enqueue dedupes within the batch", async () => {
      const cancelled = await queue.enqueue({ type: "a", dedupeKey: "k" });
      expect(await queue.cancelPending({ id: cancelled._id })).toBe(1);
      const failing = await queue.enqueue({ type: "a", dedupeKey: "k", maxRetries: 0 });
      expect(String(failing._id)).not.toBe(String(cancelled._id));
      const claimed = await queue.claim("w", 10_000);
      expect(await queue.fail(claimed!, { message: "boom" })).toEqual({ outcome: "failed" });
      const batch = await queue.enqueueMany([
        { type: "a", dedupeKey: "k" },
        { type: "a", dedupeKey: "k" },
      ]);
      expect(String(batch[0]?._id)).toBe(String(batch[1]?._id));
      expect(await queue.jobs.countDocuments({ dedupeKey: "k" })).toBe(1);
    });

    it("concurrent enqueues of one key produce one job", async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, () => queue.enqueue({ type: "once", dedupeKey: "race" })),
      );
      expect(new Set(results.map((job) => String(job._id))).size).toBe(1);
      expect(await queue.jobs.countDocuments({ type: "once" })).toBe(1);
    });
  });

  describe("leases and fencing", () => {
    it("a stale worker cannot complete, fail or heartbeat a job another worker reclaimed", async () => {
      await queue.enqueue({ type: "slow" });
      const stale = (await queue.claim("worker-a", 50))!;
      expect(stale.attempts).toBe(1);
      await sleep(80); // worker-a's lease expires (it hung)
      const fresh = (await queue.claim("worker-b", 10_000))!;
      expect(String(fresh._id)).toBe(String(stale._id));
      expect(fresh.attempts).toBe(2);
      expect(fresh.retries).toBe(1);
      expect(fresh.errors.at(-1)).toMatchObject({ code: "ECODRIX_JOBS_LEASE_EXPIRED", attempt: 1 });

      expect(await queue.heartbeat(stale, 10_000)).toBe(false);
      expect(await queue.complete(stale, { by: "a" })).toBe(false);
      expect(await queue.fail(stale, { message: "late" })).toEqual({ outcome: "lost" });
      expect(await queue.release(stale)).toBe(false);
      expect(await queue.get(fresh._id)).toMatchObject({
        status: "processing",
        lockedBy: "worker-b",
        attempts: 2,
      });

      expect(await queue.heartbeat(fresh, 10_000)).toBe(true);
      expect(await queue.complete(fresh, { by: "b" })).toBe(true);
      expect(await queue.get(fresh._id)).toMatchObject({ status: "completed", result: { by: "b" } });
      // And a completed job is not completed twice.
      expect(await queue.complete(fresh, { by: "b again" })).toBe(false);
    });

    it("a heartbeat keeps the lease: the job is not reclaimed while its worker renews it", async () => {
      await queue.enqueue({ type: "long" });
      const job = (await queue.claim("worker-a", 120))!;
      for (let i = 0; i < 4; i++) {
        await sleep(60);
        expect(await queue.heartbeat(job, 120)).toBe(true);
      }
      expect(await queue.claim("worker-b", 10_000)).toBeNull();
    });

    it("an expired lease on a job out of retries dead-letters it instead of running it again", async () => {
      await queue.enqueue({ type: "kills-its-worker", maxRetries: 0 });
      await queue.claim("worker-a", 30);
      await sleep(60);
      expect(await queue.claim("worker-b", 10_000)).toBeNull();
      const [job] = await queue.jobs.find({}).toArray();
      expect(job).toMatchObject({
        status: "failed",
        lockedBy: null,
        lastError: expect.stringMatching(/Lease expired/),
      });
    });

    it("progress is written only by the attempt holding the lease, and survives a takeover", async () => {
      await queue.enqueue({ type: "long" });
      const stale = (await queue.claim("worker-a", 50))!;
      expect(await queue.progress(stale, { processed: 10, total: 100 })).toBe(true);
      expect((await queue.get(stale._id))?.progress).toEqual({ processed: 10, total: 100 });
      await sleep(80); // worker-a hung; worker-b takes over and reads the checkpoint from the claim
      const fresh = (await queue.claim("worker-b", 10_000))!;
      expect(fresh.progress).toEqual({ processed: 10, total: 100 });
      expect(await queue.progress(stale, { processed: 99, total: 100 })).toBe(false);
      expect(await queue.progress(fresh, { processed: 20, total: 100 })).toBe(true);
      expect(await queue.complete(fresh, { done: true })).toBe(true);
      expect(await queue.get(fresh._id)).toMatchObject({
        status: "completed",
        progress: { processed: 20, total: 100 },
      });
      // A finished job's progress is frozen.
      expect(await queue.progress(fresh, { processed: 0, total: 0 })).toBe(false);
    });

    it("release (graceful shutdown) makes the job claimable at once without counting a retry", async () => {
      await queue.enqueue({ type: "x", runAt: new Date(Date.now() - 5000) });
      const job = (await queue.claim("worker-a", 60_000))!;
      expect(await queue.release(job)).toBe(true);
      const again = (await queue.claim("worker-b", 60_000))!;
      expect(again).toMatchObject({ retries: 0, attempts: 2, lockedBy: "worker-b" });
    });
  });

  describe("failures", () => {
    it("backoff is exponential with equal jitter, capped", () => {
      const options = { baseMs: 1_000, maxMs: 10_000 };
      expect([0, 1, 2, 3, 4, 5].map((retries) => backoffDelayMs(retries, options, () => 0))).toEqual([
        500, 1_000, 2_000, 4_000, 5_000, 5_000,
      ]);
      expect([0, 1, 2, 3, 4, 5].map((retries) => backoffDelayMs(retries, options, () => 1))).toEqual([
        1_000, 2_000, 4_000, 8_000, 10_000, 10_000,
      ]);
      const spread = new Set(Array.from({ length: 50 }, () => backoffDelayMs(3, options)));
      expect(spread.size).toBeGreaterThan(10);
    });

    it("each failure reschedules along the backoff schedule and records the error", async () => {
      await queue.enqueue({ type: "flaky", maxRetries: 3 });
      for (const [retries, base] of [
        [0, 1_000],
        [1, 2_000],
        [2, 4_000],
      ] as const) {
        await queue.jobs.updateMany({}, { $set: { runAt: new Date(Date.now() - 1) } });
        const job = (await queue.claim("w", 10_000))!;
        expect(job.retries).toBe(retries);
        const before = Date.now();
        const outcome = await queue.fail(job, { message: `boom ${retries}`, code: "X" });
        expect(outcome.outcome).toBe("retry");
        const stored = (await queue.get(job._id))!;
        expect(stored).toMatchObject({
          status: "pending",
          retries: retries + 1,
          lastError: `boom ${retries}`,
          lockedBy: null,
        });
        const delay = stored.runAt.getTime() - before;
        expect(delay).toBeGreaterThanOrEqual(base / 2 - 5);
        expect(delay).toBeLessThanOrEqual(base + 50);
      }
    });

    it("after maxRetries the job is failed (the dead letter) with its whole error history", async () => {
      await queue.enqueue({ type: "doomed", maxRetries: 2 });
      for (let attempt = 1; attempt <= 3; attempt++) {
        await queue.jobs.updateMany({}, { $set: { runAt: new Date(Date.now() - 1) } });
        const job = (await queue.claim("w", 10_000))!;
        const outcome = await queue.fail(job, { message: `attempt ${attempt} failed` });
        expect(outcome.outcome).toBe(attempt < 3 ? "retry" : "failed");
      }
      const [job] = await queue.jobs.find({}).toArray();
      expect(job).toMatchObject({ status: "failed", retries: 2, lastError: "attempt 3 failed" });
      expect(job?.completedAt).toBeInstanceOf(Date);
      expect(job?.errors.map((entry) => entry.message)).toEqual([
        "attempt 1 failed",
        "attempt 2 failed",
        "attempt 3 failed",
      ]);
      await queue.jobs.updateMany({}, { $set: { runAt: new Date(Date.now() - 1) } });
      expect(await queue.claim("w", 10_000)).toBeNull();
    });

    it("a permanent error dead-letters at once; a retry-after is honoured", async () => {
      const permanent = new AppError("ECODRIX_WHATSAPP_TOKEN_INVALID", "token invalid", 422, {
        retryable: false,
      });
      await queue.enqueue({ type: "p" });
      const job = (await queue.claim("w", 10_000))!;
      expect(await queue.fail(job, { message: permanent.message, retryable: permanent.retryable })).toEqual({
        outcome: "failed",
      });
      await queue.enqueue({ type: "r" });
      const limited = (await queue.claim("w", 10_000))!;
      const outcome = await queue.fail(limited, { message: "429", retryAfterMs: 30_000 });
      expect(outcome.outcome).toBe("retry");
      if (outcome.outcome === "retry") expect(outcome.runAt.getTime() - Date.now()).toBeGreaterThan(29_000);
    });

    it("the error history is bounded", async () => {
      await queue.enqueue({ type: "noisy", maxRetries: 100 });
      for (let i = 0; i < 13; i++) {
        await queue.jobs.updateMany({}, { $set: { runAt: new Date(Date.now() - 1) } });
        const job = (await queue.claim("w", 10_000))!;
        await queue.fail(job, { message: `e${i}` });
      }
      const [job] = await queue.jobs.find({}).toArray();
      expect(job?.errors).toHaveLength(10);
      expect(job?.errors[0]?.message).toBe("e3");
    });
  });

  describe("cancellation", () => {
    it("cancels pending jobs by id and by tenant, never running or other tenants' jobs", async () => {
      const one = await queue.enqueue({ type: "a", clientCode: "acme" });
      await queue.enqueue({ type: "a", clientCode: "acme" });
      await queue.enqueue({ type: "a", clientCode: "acme" });
      await queue.enqueue({ type: "a", clientCode: "other" });
      const running = await queue.claimBatch({ workerId: "w", leaseMs: 10_000, limit: 1 });
      expect(String(running[0]?._id)).toBe(String(one._id));

      const byId = (await queue.jobs.find({ status: "pending", clientCode: "acme" }).toArray())[0]!;
      expect(await queue.cancelPending({ id: byId._id })).toBe(1);
      expect(await queue.cancelPending({ clientCode: "acme" })).toBe(1);
      expect(await queue.jobs.countDocuments({ clientCode: "acme", status: "cancelled" })).toBe(2);
      expect(await queue.get(one._id)).toMatchObject({ status: "processing" });
      expect(await queue.jobs.countDocuments({ clientCode: "other", status: "pending" })).toBe(1);

      await expect(queue.cancel(one._id)).rejects.toMatchObject({
        statusCode: 409,
        code: "ECODRIX_JOBS_NOT_PENDING",
      });
      await expect(queue.cancel(new ObjectId())).rejects.toMatchObject({ statusCode: 404 });
      await expect(queue.cancel("nope")).rejects.toMatchObject({
        statusCode: 400,
        code: "ECODRIX_JOBS_INVALID_ID",
      });
    });
  });

  describe("runbook §2 mongosh commands, as driver calls", () => {
    it("count by status, find stuck, reset to pending (picked up again despite old lock fields), delete", async () => {
      await queue.enqueueMany([{ type: "a" }, { type: "a" }, { type: "b" }]);
      const stuck = (await queue.claim("crashed-worker", 60 * 60 * 1000))!;
      // A crash long ago: nobody renewed it for 11 minutes (its lease is long, so it is not reclaimed yet).
      await queue.jobs.updateOne(
        { _id: stuck._id },
        { $set: { updatedAt: new Date(Date.now() - 11 * 60 * 1000) } },
      );

      // db.jobs.aggregate([{ $group: { _id: "$status", count: { $sum: 1 } } }]);
      const counts = await queue.jobs
        .aggregate([{ $group: { _id: "$status", count: { $sum: 1 } } }])
        .toArray();
      expect(Object.fromEntries(counts.map((row) => [row._id, row.count]))).toEqual({
        pending: 2,
        processing: 1,
      });

      // db.jobs.find({ status: "processing", updatedAt: { $lt: new Date(Date.now() - 10 * 60 * 1000) } });
      const found = await queue.jobs
        .find({ status: "processing", updatedAt: { $lt: new Date(Date.now() - 10 * 60 * 1000) } })
        .toArray();
      expect(found.map((job) => String(job._id))).toEqual([String(stuck._id)]);

      // db.jobs.updateOne({ _id: ObjectId("...") }, { $set: { status: "pending", retries: 0 } });
      await queue.jobs.updateOne({ _id: stuck._id }, { $set: { status: "pending", retries: 0 } });
      const reset = (await queue.get(stuck._id))!;
      expect(reset.lockedBy).toBe("crashed-worker");
      expect(reset.lockedUntil!.getTime()).toBeGreaterThan(Date.now());
      const claimed = await queue.claimBatch({ workerId: "healthy", leaseMs: 10_000, limit: 10 });
      const again = claimed.find((job) => String(job._id) === String(stuck._id));
      expect(again).toMatchObject({ lockedBy: "healthy", attempts: 2 });
      // The crashed worker, should it wake up, is fenced out.
      expect(await queue.complete(stuck)).toBe(false);
      expect(await queue.complete(again!)).toBe(true);

      // db.jobs.deleteOne({ _id: ObjectId("...") });
      const poison = claimed.find((job) => job.type === "b")!;
      expect((await queue.jobs.deleteOne({ _id: poison._id })).deletedCount).toBe(1);
      expect(await queue.get(poison._id)).toBeNull();
    });

    it("a failed (dead-lettered) job reset the runbook way runs again", async () => {
      await queue.enqueue({ type: "x", maxRetries: 0 });
      const job = (await queue.claim("w", 10_000))!;
      await queue.fail(job, { message: "boom" });
      await queue.jobs.updateOne({ _id: job._id }, { $set: { status: "pending", retries: 0 } });
      expect((await queue.claim("w2", 10_000))?._id.toString()).toBe(job._id.toString());
    });
  });

  describe("admin operations and retention", () => {
    it("stats count by status and type and report stuck jobs; list filters", async () => {
      await queue.enqueueMany([
        { type: "send_email", clientCode: "acme" },
        { type: "send_email", clientCode: "other" },
        { type: "webhook", clientCode: "acme" },
      ]);
      const job = (await queue.claim("w", 10))!;
      await sleep(30);
      const stats = await queue.stats();
      expect(stats.total).toBe(3);
      expect(stats.byStatus).toEqual({ pending: 2, processing: 1, completed: 0, failed: 0, cancelled: 0 });
      expect(stats.byType.find((row) => row.type === "send_email")).toMatchObject({
        total: 2,
        processing: 1,
        pending: 1,
      });
      expect(stats.stuck).toBe(1);
      expect((await queue.list({ stuck: true })).map((row) => String(row._id))).toEqual([String(job._id)]);
      expect(await queue.list({ clientCode: "acme", type: "webhook" })).toHaveLength(1);
      expect(await queue.list({ status: "pending" })).toHaveLength(2);
      expect(await queue.list({ limit: 1 })).toHaveLength(1);
    });

    it("requeue of a running job (live lease) or a completed one is refused unless forced", async () => {
      await queue.enqueue({ type: "x" });
      const running = (await queue.claim("w1", 10_000))!;
      await expect(queue.requeue(running._id)).rejects.toMatchObject({
        statusCode: 409,
        code: "ECODRIX_JOBS_NOT_REQUEUEABLE",
        message: expect.stringContaining("is running (worker w1 holds its lease until"),
      });
      expect(await queue.get(running._id)).toMatchObject({ status: "processing", lockedBy: "w1" });
      expect(await queue.complete(running)).toBe(true);
      await expect(queue.requeue(running._id)).rejects.toMatchObject({
        statusCode: 409,
        message: `Job ${running._id} is completed: requeueing it would run it again; requeue with force to do it anyway`,
      });
      expect(await queue.get(running._id)).toMatchObject({ status: "completed" });
      // Stuck (the lease expired: its worker is gone): no force needed.
      await queue.enqueue({ type: "y" });
      const stuck = (await queue.claim("w2", 1))!;
      await sleep(5);
      expect(await queue.requeue(stuck._id)).toMatchObject({ status: "pending" });
      expect(await queue.requeue(running._id, { force: true })).toMatchObject({
        status: "pending",
        retries: 0,
      });
    });

    it("throughput: completed and dead-lettered jobs per minute over the last hour, zeros included", async () => {
      const now = new Date("2026-03-01T10:30:20Z");
      const at = (minutesAgo: number, seconds = 0) =>
        new Date(Date.parse("2026-03-01T10:30:00Z") - minutesAgo * 60_000 + seconds * 1000);
      const docs = await queue.enqueueMany(Array.from({ length: 7 }, () => ({ type: "t" })));
      const finish = (index: number, status: JobStatus, completedAt: Date) =>
        queue.jobs.updateOne({ _id: docs[index]!._id }, { $set: { status, completedAt } });
      await finish(0, "completed", at(0, 5)); // current, partial minute
      await finish(1, "completed", at(0, 15));
      await finish(2, "failed", at(0, 10));
      await finish(3, "completed", at(59, 59)); // oldest bucket
      await finish(4, "completed", at(60, 30)); // before the window
      await finish(5, "cancelled", at(1)); // cancelled is not throughput
      // docs[6] stays pending.
      const result = await queue.throughput({ now });
      expect(result.bucketMs).toBe(60_000);
      expect(result.buckets).toHaveLength(60);
      expect(result.buckets[0]).toEqual({ at: at(59), completed: 1, failed: 0 });
      expect(result.buckets[59]).toEqual({ at: at(0), completed: 2, failed: 1 });
      const total = result.buckets.reduce((sum, bucket) => sum + bucket.completed + bucket.failed, 0);
      expect(total).toBe(4);
      const five = await queue.throughput({ now, buckets: 5, bucketMs: 120_000 });
      expect(five.buckets.map((bucket) => bucket.at.toISOString())).toEqual([
        "2026-03-01T10:22:00.000Z",
        "2026-03-01T10:24:00.000Z",
        "2026-03-01T10:26:00.000Z",
        "2026-03-01T10:28:00.000Z",
        "2026-03-01T10:30:00.000Z",
      ]);
      await expect(queue.throughput({ buckets: 0 })).rejects.toMatchObject({ statusCode: 400 });
    });

    it("requeue resets a job to pending with retries 0 and fences the old attempt", async () => {
      await queue.enqueue({ type: "x", maxRetries: 0 });
      const job = (await queue.claim("w", 10_000))!;
      const requeued = await queue.requeue(String(job._id), { force: true });
      expect(requeued).toMatchObject({ status: "pending", retries: 0, lockedBy: null, lockedUntil: null });
      expect(await queue.complete(job)).toBe(false);
      await expect(queue.requeue(new ObjectId())).rejects.toMatchObject({ statusCode: 404 });
      await queue.remove(job._id);
      expect(await queue.get(job._id)).toBeNull();
      await expect(queue.remove(job._id)).rejects.toMatchObject({ code: "ECODRIX_JOBS_NOT_FOUND" });
    });

    it("the retention sweep deletes finished jobs older than the cutoff and nothing else", async () => {
      const old = new Date(Date.now() - 8 * 24 * 3600 * 1000);
      const docs = await queue.enqueueMany([{ type: "a" }, { type: "b" }, { type: "c" }, { type: "d" }]);
      await queue.jobs.updateOne({ _id: docs[0]!._id }, { $set: { status: "completed", completedAt: old } });
      await queue.jobs.updateOne({ _id: docs[1]!._id }, { $set: { status: "failed", completedAt: old } });
      await queue.jobs.updateOne(
        { _id: docs[2]!._id },
        { $set: { status: "completed", completedAt: new Date() } },
      );
      const removed = await queue.sweepFinished(new Date(Date.now() - 7 * 24 * 3600 * 1000));
      expect(removed).toBe(2);
      expect((await queue.jobs.find({}).toArray()).map((job: JobDocument) => job.type).sort()).toEqual([
        "c",
        "d",
      ]);
    });
  });

  it("an uncontended batch claim costs two commands (find + one bulk update) for up to `limit` jobs", async () => {
    await queue.enqueueMany(Array.from({ length: 30 }, () => ({ type: "noop" })));
    await withMonitoredQueue(async (monitored, commands) => {
      const jobs = await monitored.claimBatch({ workerId: "w", leaseMs: 10_000, limit: 10 });
      expect(jobs).toHaveLength(10);
      expect(commands).toEqual(["find", "update"]);
      commands.length = 0;
      for (const job of jobs) await monitored.complete(job);
      expect(commands).toEqual(Array(10).fill("update"));
    });
  });

  it("requeueing a finished job gives it its dedupe key back", async () => {
    const first = await queue.enqueue({ type: "sync", dedupeKey: "templates:acme" });
    const [claimed] = await queue.claimBatch({ workerId: "w", leaseMs: 10_000, limit: 1 });
    expect(await queue.complete(claimed!)).toBe(true);
    await queue.requeue(first._id, { force: true });
    const again = await queue.enqueue({ type: "sync", dedupeKey: "templates:acme" });
    expect(String(again._id)).toBe(String(first._id));
    expect(await queue.jobs.countDocuments({ type: "sync" })).toBe(1);
  });

  it("cancelPending refuses an empty filter instead of cancelling every pending job", async () => {
    await queue.enqueue({ type: "noop", clientCode: "acme" });
    await expect(queue.cancelPending({})).rejects.toThrow("cancelPending needs a job id or a clientCode");
    await expect(queue.cancelPending({ clientCode: "" })).rejects.toThrow();
    expect(await queue.jobs.countDocuments({ status: "pending" })).toBe(1);
  });

  it("group commit: concurrent completions share one bulk write, and a fenced one is still refused", async () => {
    await queue.enqueueMany(Array.from({ length: 20 }, () => ({ type: "noop" })));
    await withMonitoredQueue(async (monitored, commands) => {
      const jobs = await monitored.claimBatch({ workerId: "w", leaseMs: 10_000, limit: 20 });
      expect(jobs).toHaveLength(20);
      // An admin resets one job meanwhile (runbook §2): its running attempt must not complete it.
      const reset = jobs[7]!;
      await queue.jobs.updateOne({ _id: reset._id }, { $set: { status: "pending", retries: 0 } });
      commands.length = 0;

      const held = await Promise.all(jobs.map((job, n) => monitored.complete(job, { n })));

      expect(held.filter((ok) => !ok)).toHaveLength(1);
      expect(held[7]).toBe(false);
      // One bulk update for all twenty, one read-back because a write was refused.
      expect(commands).toEqual(["update", "find"]);
      expect(await queue.jobs.countDocuments({ status: "completed" })).toBe(19);
      expect(await queue.get(reset._id)).toMatchObject({ status: "pending" });
      expect(await queue.get(jobs[3]!._id)).toMatchObject({ status: "completed", result: { n: 3 } });
    });
  });
});
