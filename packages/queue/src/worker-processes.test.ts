import type { ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import type { ObjectId } from "mongodb";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startWorkerProcess } from "../test/fixtures/start-worker-process.js";
import { createQueue, type Queue } from "./queue.js";

describe("worker processes (real child processes on the embedded server)", () => {
  let mongo: TestMongo;
  let queue: Queue;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    mongo = await createTestMongo("procs");
    queue = createQueue({ db: mongo.db });
    await queue.ensureIndexes();
  });
  afterEach(async () => {
    for (const child of children.splice(0))
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await queue.jobs.deleteMany({});
    await mongo.db.collection("executions").deleteMany({});
  });
  afterAll(() => mongo.close());

  async function startWorker(env: Record<string, string>): Promise<ChildProcess> {
    const child = await startWorkerProcess({
      MONGODB_URI: mongo.uri,
      SERVICES_DB_NAME: mongo.dbName,
      ...env,
    });
    children.push(child);
    return child;
  }

  async function waitFor(what: string, predicate: () => Promise<boolean>, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await predicate())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(50);
    }
  }

  const executionsByJob = async () => {
    const rows = await mongo.db
      .collection<{ jobId: ObjectId; attempt: number; pid: number }>("executions")
      .find({})
      .toArray();
    const map = new Map<string, { attempt: number; pid: number }[]>();
    for (const row of rows) map.set(String(row.jobId), [...(map.get(String(row.jobId)) ?? []), row]);
    return map;
  };

  it("8 concurrent workers in 2 processes run each of 400 jobs exactly once", async () => {
    const jobs = await queue.enqueueMany(
      Array.from({ length: 400 }, (_, n) => ({ type: "record", payload: { n, ms: 2 } })),
    );
    const env = { RUNNERS: "4", CONCURRENCY: "3", LEASE_MS: "30000" };
    await Promise.all([startWorker(env), startWorker(env)]);
    await waitFor(
      "all jobs completed",
      async () => (await queue.jobs.countDocuments({ status: "completed" })) === 400,
    );

    const runs = await executionsByJob();
    expect(runs.size).toBe(400);
    expect([...runs.values()].filter((list) => list.length !== 1)).toEqual([]);
    const pids = new Set([...runs.values()].map((list) => list[0]?.pid));
    expect(pids.size).toBe(2);
    const done = await queue.jobs.find({}).toArray();
    expect(done.every((job) => job.attempts === 1 && job.retries === 0 && job.lockedBy === null)).toBe(true);
    expect(new Set(done.map((job) => String(job._id)))).toEqual(new Set(jobs.map((job) => String(job._id))));
  });

  it("a worker killed with SIGKILL mid-job: its jobs are reclaimed after the lease and completed elsewhere, none lost", async () => {
    await queue.enqueueMany(
      Array.from({ length: 12 }, (_, n) => ({ type: "record", payload: { n, ms: 700 } })),
    );
    const leaseMs = "800";
    const victim = await startWorker({ RUNNERS: "1", CONCURRENCY: "4", LEASE_MS: leaseMs });
    await waitFor(
      "the victim to be mid-job",
      async () => (await mongo.db.collection("executions").countDocuments()) >= 4,
    );
    const inFlight = await queue.jobs.find({ status: "processing" }).toArray();
    expect(inFlight.length).toBeGreaterThan(0);
    victim.kill("SIGKILL");
    await new Promise((resolve) => victim.once("exit", resolve));
    const killedAt = Date.now();

    const survivor = await startWorker({ RUNNERS: "1", CONCURRENCY: "4", LEASE_MS: leaseMs });
    await waitFor(
      "all jobs completed",
      async () => (await queue.jobs.countDocuments({ status: "completed" })) === 12,
    );

    const runs = await executionsByJob();
    const done = await queue.jobs.find({}).toArray();
    expect(done).toHaveLength(12);
    for (const orphan of inFlight) {
      const job = done.find((row) => String(row._id) === String(orphan._id))!;
      // Run twice (at-least-once), finished once, by the survivor, on the second attempt.
      expect(job).toMatchObject({
        status: "completed",
        attempts: 2,
        retries: 1,
        result: { pid: survivor.pid },
      });
      expect(job.errors.map((entry) => entry.code)).toEqual(["ECODRIX_JOBS_LEASE_EXPIRED"]);
      expect(runs.get(String(orphan._id))?.map((run) => run.pid)).toEqual([victim.pid, survivor.pid]);
      // Not before the lease ran out.
      expect(job.completedAt!.getTime()).toBeGreaterThan(orphan.lockedUntil!.getTime());
    }
    expect(Date.now() - killedAt).toBeLessThan(20_000);
  });
});
