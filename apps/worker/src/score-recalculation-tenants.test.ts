import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { LEADS_COLLECTION, saveScoringRules, scoringCapability } from "@ecodrix/crm";
import { createTenancyServices, type TenancyServices } from "@ecodrix/domain";
import { createLogger, loadConfig } from "@ecodrix/platform";
import { createQueue, type JobDocument, type Queue } from "@ecodrix/queue";
import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import type { Db } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildWorker, type Worker } from "./worker.js";

const quiet = createLogger({ level: "silent", name: "test" });
const key = randomBytes(32);

describe("nightly score_recalculation over every tenant (worker, real database)", () => {
  let mongo: TestMongo;
  let queue: Queue;
  let tenancy: TenancyServices;
  let worker: Worker;
  const tenantDb = (code: string): Db => mongo.client.db(`${mongo.dbName}_${code}`);

  beforeAll(async () => {
    mongo = await createTestMongo("nightly");
    queue = createQueue({ db: mongo.db });
    await queue.ensureIndexes();
    tenancy = createTenancyServices({
      db: mongo.db,
      encryptionKeys: [key],
      queue,
      logger: quiet,
      capabilities: [scoringCapability],
      pool: { connectTimeoutMs: 1_000 },
    });
    for (const code of ["tenanta", "tenantc", "tenantd"]) {
      const db = tenantDb(code);
      await tenancy.datasources.save(code, `${mongo.uri}/${db.databaseName}`, db.databaseName);
      await db
        .collection(LEADS_COLLECTION)
        .insertMany(
          Array.from({ length: 40 }, (_, i) => ({ name: `L${i}`, stage: i % 2 ? "new" : "won", score: 0 })),
        );
      if (code !== "tenantd") {
        await saveScoringRules(
          db,
          { rules: [{ name: "won", when: { field: "stage", equals: "won" }, points: 50 }] },
          new Date(),
        );
      }
    }
    // A tenant whose database cannot be reached (a dead cluster): sorted between the others.
    await tenancy.datasources.save("tenantb", "mongodb://127.0.0.1:1/gone", "gone");
    const config = loadConfig({
      MONGODB_URI: mongo.uri,
      CORE_API_TOKEN: `test_${randomBytes(24).toString("hex")}`,
      ENCRYPTION_KEY: key.toString("hex"),
      WORKER_POLL_MIN_MS: "20",
      WORKER_POLL_MAX_MS: "100",
      // The test enqueues the nightly tick itself; without this, a worker started within three hours
      // after 02:00 UTC would also catch up today's real tick and recalculate the same tenants.
      CRON_CATCH_UP_MINUTES: "0",
    });
    worker = buildWorker({ config, logger: quiet, db: mongo.db, queue, tenancy });
  });
  afterAll(async () => {
    await worker.stop();
    await tenancy.close();
    for (const code of ["tenanta", "tenantc", "tenantd"]) await tenantDb(code).dropDatabase();
    await mongo.close();
  });

  it("the cron's job recalculates every tenant; one failing tenant is reported and does not stop the others", async () => {
    // What the nightly schedule enqueues (the same call croner makes at 02:00).
    const tick = await worker.cron.tick("score_recalculation", new Date("2026-03-01T02:00:00Z"));
    expect(tick).toMatchObject({ type: "score_recalculation", clientCode: null, priority: -1 });
    worker.start();
    let job: JobDocument | null = null;
    const deadline = Date.now() + 60_000;
    while (job?.status !== "completed") {
      if (Date.now() > deadline) throw new Error(`job still ${job?.status}: ${job?.lastError}`);
      await sleep(25);
      job = await queue.get(tick._id);
    }
    expect(job.result).toMatchObject({
      // The tenant without rules is skipped: its leads are not read.
      processed: 80,
      total: 80,
      changed: 40,
      failedTenants: 1,
      resumed: false,
      scheduledFor: "2026-03-01T02:00:00.000Z",
      tenants: [
        { clientCode: "tenanta", status: "done", processed: 40, changed: 20, rulesVersion: 1 },
        { clientCode: "tenantb", status: "failed", processed: 0, reason: expect.any(String) },
        { clientCode: "tenantc", status: "done", processed: 40, changed: 20 },
        { clientCode: "tenantd", status: "skipped", reason: "no scoring rules" },
      ],
    });
    // The failure says what went wrong, without a stack.
    const failed = (job.result as { tenants: { reason?: string }[] }).tenants[1]?.reason ?? "";
    expect(failed).toMatch(/^MongoServerSelectionError: .*ECONNREFUSED/);
    expect(failed).not.toMatch(/at .*\.js:\d+/);
    for (const code of ["tenanta", "tenantc"]) {
      expect(await tenantDb(code).collection(LEADS_COLLECTION).countDocuments({ score: 50 })).toBe(20);
    }
    expect(await tenantDb("tenantd").collection(LEADS_COLLECTION).countDocuments({ score: 0 })).toBe(40);
  });

  it("a job inserted by hand the runbook §6 way (mongosh, no clientCode) runs over every tenant too", async () => {
    const now = new Date();
    const { insertedId } = await mongo.db.collection("jobs").insertOne({
      type: "score_recalculation",
      clientCode: null,
      payload: {},
      status: "pending",
      priority: -1,
      runAt: now,
      retries: 0,
      maxRetries: 5,
      attempts: 0,
      lockedBy: null,
      lockedUntil: null,
      lastError: null,
      errors: [],
      createdAt: now,
      updatedAt: now,
      completedAt: null,
    });
    let job: JobDocument | null = null;
    const deadline = Date.now() + 60_000;
    while (job?.status !== "completed") {
      if (Date.now() > deadline) throw new Error(`job still ${job?.status}: ${job?.lastError}`);
      await sleep(25);
      job = await queue.get(insertedId);
    }
    // Nothing changed since the nightly run: every lead read, none written.
    expect(job.result).toMatchObject({ processed: 80, changed: 0, failedTenants: 1 });
  });
});
