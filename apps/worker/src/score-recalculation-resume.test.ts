import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import {
  LEADS_COLLECTION,
  type RecalculationProgress,
  SCORING_RULES_COLLECTION,
  saveScoringRules,
  scoreRecalculationContract,
  scoringCapability,
} from "@ecodrix/crm";
import { createTenancyServices, type TenancyServices } from "@ecodrix/domain";
import { createLogger, loadConfig } from "@ecodrix/platform";
import { createQueue, enqueueJob, type JobDocument, type Queue } from "@ecodrix/queue";
import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import type { Db, ObjectId } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildWorker, type Worker } from "./worker.js";

const mainScript = path.join(path.dirname(fileURLToPath(import.meta.url)), "main.ts");
const ENCRYPTION_KEY = randomBytes(32).toString("hex");
const quiet = createLogger({ level: "silent", name: "test" });

/** Every lead has a stage: rule set N gives every lead exactly N points, so a score tells who wrote it. */
const rulesWorth = (points: number) => ({
  rules: [{ name: "staged", when: { field: "stage", exists: true }, points }],
});

describe("nightly score_recalculation: a worker killed mid-run, another finishes from the checkpoint", () => {
  let mongo: TestMongo;
  let queue: Queue;
  let tenancy: TenancyServices;
  let child: ChildProcess | undefined;
  let worker: Worker | undefined;
  const tenants = { resumea: 300, resumeb: 3_000, resumec: 300 } as const;
  const tenantDb = (code: string): Db => mongo.client.db(`${mongo.dbName}_${code}`);
  const env = () => ({
    MONGODB_URI: mongo.uri,
    SERVICES_DB_NAME: mongo.dbName,
    CORE_API_TOKEN: `test_${randomBytes(24).toString("hex")}`,
    ENCRYPTION_KEY,
    WORKER_LEASE_MS: "1500",
    WORKER_POLL_MIN_MS: "20",
    WORKER_POLL_MAX_MS: "200",
    LOG_LEVEL: "warn",
    // Not during the test: the job under test is enqueued by hand, as runbook §6 says an operator may.
    SCORE_RECALCULATION_CRON: "0 0 1 1 *",
  });

  beforeAll(async () => {
    mongo = await createTestMongo("resume");
    queue = createQueue({ db: mongo.db });
    await queue.ensureIndexes();
    tenancy = createTenancyServices({
      db: mongo.db,
      encryptionKeys: [Buffer.from(ENCRYPTION_KEY, "hex")],
      queue,
      logger: quiet,
      capabilities: [scoringCapability],
    });
    for (const [code, count] of Object.entries(tenants)) {
      const db = tenantDb(code);
      await tenancy.datasources.save(code, `${mongo.uri}/${db.databaseName}`, db.databaseName);
      for (const spec of scoringCapability.tenantIndexes)
        await db.collection(spec.collection).createIndexes(spec.indexes);
      for (let start = 0; start < count; start += 1_000) {
        await db.collection(LEADS_COLLECTION).insertMany(
          Array.from({ length: Math.min(1_000, count - start) }, (_, i) => ({
            name: `Lead ${start + i}`,
            phone: `+9199${String(start + i).padStart(8, "0")}`,
            stage: "new",
            score: 0,
          })),
        );
      }
      await saveScoringRules(db, rulesWorth(10), new Date());
    }
  });
  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await worker?.stop();
    await tenancy.close();
    for (const code of Object.keys(tenants)) await tenantDb(code).dropDatabase();
    await mongo.close();
  });

  async function waitFor<T>(
    what: string,
    probe: () => Promise<T | undefined>,
    timeoutMs = 60_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(10);
    }
  }

  it("finished tenants and written batches are not redone; the rest is finished by the new worker", async () => {
    const job = await enqueueJob(queue, scoreRecalculationContract, { payload: { batchSize: 100 } });

    // A real worker process (apps/worker main.ts) starts the run …
    child = spawn(process.execPath, ["--import", "tsx", mainScript], {
      env: { ...process.env, ...env() },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const midway = await waitFor("the first worker midway through the second tenant", async () => {
      if (child?.exitCode !== null) throw new Error(`worker exited early:\n${stderr}`);
      const doc = await queue.get(job._id);
      const progress = doc?.progress as RecalculationProgress | undefined;
      return progress?.current?.clientCode === "resumeb" && progress.current.processed >= 500
        ? progress
        : undefined;
    });
    // … and dies at once (no graceful shutdown, no lease release).
    child.kill("SIGKILL");
    await new Promise((resolve) => child?.once("exit", resolve));
    expect(midway.tenants.map((summary) => summary.clientCode)).toEqual(["resumea"]);

    const crashed = (await queue.get(job._id)) as JobDocument;
    expect(crashed.status).toBe("processing");
    const checkpoint = (crashed.progress as RecalculationProgress).current!;
    expect(checkpoint.clientCode).toBe("resumeb");
    expect(checkpoint.processed).toBeGreaterThanOrEqual(500);
    expect(checkpoint.processed).toBeLessThan(3_000);
    const afterId = checkpoint.afterId as string;

    // The rules change before the second worker runs: a lead scored again gets 20 points, a lead left
    // alone keeps the first worker's 10. That tells, lead by lead, what was redone.
    for (const code of Object.keys(tenants)) {
      await tenantDb(code)
        .collection(SCORING_RULES_COLLECTION)
        .updateOne({ _id: "current" as never }, { $set: rulesWorth(20) });
    }

    const config = loadConfig(env());
    worker = buildWorker({ config, logger: quiet, db: mongo.db, queue, schedules: [] });
    worker.start();
    const done = await waitFor("the job completed by the second worker", async () => {
      const doc = await queue.get(job._id);
      if (doc?.status === "failed") throw new Error(`job failed: ${doc.lastError}`);
      return doc?.status === "completed" ? doc : undefined;
    });

    // The lost attempt is on record; the second attempt resumed.
    expect(done.attempts).toBe(2);
    expect(done.errors.map((entry) => entry.code)).toEqual(["ECODRIX_JOBS_LEASE_EXPIRED"]);
    const result = done.result as {
      resumed: boolean;
      processed: number;
      total: number;
      failedTenants: number;
      tenants: { clientCode: string; status: string; processed: number; resumedAfter?: string }[];
    };
    expect(result).toMatchObject({ resumed: true, processed: 3_600, total: 3_600, failedTenants: 0 });
    expect(result.tenants).toEqual([
      expect.objectContaining({ clientCode: "resumea", status: "done", processed: 300 }),
      expect.objectContaining({
        clientCode: "resumeb",
        status: "done",
        processed: 3_000,
        resumedAfter: afterId,
      }),
      expect.objectContaining({ clientCode: "resumec", status: "done", processed: 300 }),
    ]);
    expect(result.tenants[0]).not.toHaveProperty("resumedAfter");

    const scores = async (code: string) =>
      (
        await tenantDb(code)
          .collection<{ _id: ObjectId; score: number }>(LEADS_COLLECTION)
          .find({}, { projection: { score: 1 } })
          .toArray()
      ).map((lead) => ({ id: lead._id.toHexString(), score: lead.score }));
    // The tenant finished before the crash: not one lead redone.
    expect(new Set((await scores("resumea")).map((lead) => lead.score))).toEqual(new Set([10]));
    // The tenant in progress: up to the checkpoint untouched, after it every lead scored by the new worker.
    const b = await scores("resumeb");
    const before = b.filter((lead) => lead.id <= afterId);
    expect(before).toHaveLength(checkpoint.processed);
    expect(before.every((lead) => lead.score === 10)).toBe(true);
    expect(b.filter((lead) => lead.id > afterId).every((lead) => lead.score === 20)).toBe(true);
    // The tenant not reached before the crash: all by the new worker.
    expect(new Set((await scores("resumec")).map((lead) => lead.score))).toEqual(new Set([20]));
  });
});
