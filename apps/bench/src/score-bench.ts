/**
 * The scoring phase of `npm run bench:crm`: one tenant's leads (with their events) recalculated by
 * the product's `score_recalculation` job in a real worker process, at two sizes (default 25,000 and
 * 100,000 leads), each in a fresh worker process so that its peak RSS belongs to that run alone.
 */
import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  LEAD_EVENTS_COLLECTION,
  LEADS_COLLECTION,
  type ScoringRuleSet,
  saveScoringRules,
  scoreRecalculationContract,
  scoringCapability,
} from "@ecodrix/crm";
import { createTenancyServices } from "@ecodrix/domain";
import { createLogger } from "@ecodrix/platform";
import { createQueue, enqueueJob, type JobDocument } from "@ecodrix/queue";
import { type Db, MongoClient, ObjectId } from "mongodb";

const workerScript = path.join(path.dirname(fileURLToPath(import.meta.url)), "score-bench-worker.ts");
const DAY_MS = 24 * 60 * 60 * 1000;

/** Ten rules, six of them on events, decaying with a 30-day half-life. `scale` changes every score. */
export function benchRules(scale: number): ScoringRuleSet {
  return {
    rules: [
      { name: "ads", when: { field: "source", equals: "google_ads" }, points: 10 * scale },
      { name: "qualified", when: { field: "stage", in: ["qualified", "booked"] }, points: 15 * scale },
      { name: "vip", when: { field: "tags", equals: "vip" }, points: 20 * scale },
      { name: "insured", when: { field: "customFields.insured", equals: true }, points: 5 * scale },
      { name: "reader", when: { event: "message_read", withinDays: 14 }, points: 8 * scale },
      { name: "engaged", when: { event: "message_read", withinDays: 30, atLeast: 3 }, points: 12 * scale },
      { name: "booked", when: { event: "appointment_booked", withinDays: 60 }, points: 10 * scale },
      { name: "visited", when: { event: "appointment_completed", withinDays: 180 }, points: 30 * scale },
      { name: "no-show", when: { event: "appointment_no_show", withinDays: 60 }, points: -25 * scale },
      { name: "bounced", when: { event: "message_failed", withinDays: 30 }, points: -5 * scale },
    ],
    decay: { halfLifeDays: 30 },
  };
}

const SOURCES = ["google_ads", "facebook", "walk_in", "referral", "website"];
const STAGES = ["new", "contacted", "qualified", "booked", "won", "lost"];
const EVENT_TYPES = [
  "message_sent",
  "message_delivered",
  "message_read",
  "message_read",
  "message_failed",
  "appointment_booked",
  "appointment_completed",
  "appointment_no_show",
];

/** A small deterministic generator (mulberry32): the same data on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Inserts `count` leads (and 0–6 events each, 3 on average, over the last 120 days) from index `from`. */
export async function seedLeads(db: Db, from: number, count: number, now: Date): Promise<number> {
  const next = random(from + 1);
  let events = 0;
  for (let start = 0; start < count; start += 1_000) {
    const leads = [];
    const leadEvents = [];
    for (let i = start; i < Math.min(count, start + 1_000); i++) {
      const n = from + i;
      const _id = new ObjectId();
      leads.push({
        _id,
        name: `Lead ${n}`,
        phone: `+9190${String(n).padStart(8, "0")}`,
        email: `lead${n}@example.com`,
        source: SOURCES[Math.floor(next() * SOURCES.length)],
        stage: STAGES[Math.floor(next() * STAGES.length)],
        tags: next() < 0.2 ? ["vip"] : [],
        customFields: { insured: next() < 0.5 },
        score: 0,
        createdAt: now,
      });
      const eventCount = Math.floor(next() * 7);
      for (let k = 0; k < eventCount; k++) {
        leadEvents.push({
          leadId: _id,
          type: EVENT_TYPES[Math.floor(next() * EVENT_TYPES.length)],
          at: new Date(now.getTime() - next() * 120 * DAY_MS),
          data: {},
        });
      }
    }
    await db.collection(LEADS_COLLECTION).insertMany(leads, { ordered: false });
    if (leadEvents.length > 0)
      await db.collection(LEAD_EVENTS_COLLECTION).insertMany(leadEvents, { ordered: false });
    events += leadEvents.length;
  }
  return events;
}

export interface ScoreRun {
  leads: number;
  events: number;
  changed: number;
  /** The handler's own time (job result durationMs). */
  handlerMs: number;
  /** From enqueue to the job document showing `completed`. */
  wallMs: number;
  leadsPerS: number;
  maxRssMb: number;
  sampledPeakRssMb: number;
  heapUsedMb: number;
  /** The worker's RSS when the run started (after start-up). */
  startRssMb: number;
  /** The largest V8 heap in use, sampled every 50 ms (garbage included). */
  peakHeapUsedMb: number;
  /** The largest heap in use right after a full collection: what the run kept alive. */
  liveHeapAfterGcMb: number;
  /** The worker's V8 heap limit (lowered for the capped run). */
  heapLimitMb: number;
  /** Set on the run whose worker had its heap capped (--max-old-space-size). */
  heapCapMb?: number;
  /** CPU time of the worker process during the run. */
  workerCpuS: number;
  /** CPU time of the database server process during the run (embedded server on Linux only). */
  serverCpuS: number | null;
}

export interface ScoreBenchOptions {
  uri: string;
  /** The database server's process id, when it runs on this machine (its CPU time is read from /proc). */
  serverPid?: number;
  /** Sizes to measure, ascending (default [25_000, 100_000]). */
  sizes: number[];
  batchSize?: number;
  /** Also measure the largest size in a worker started with --max-old-space-size=heapCapMb. */
  heapCapMb?: number;
  log: (line: string) => void;
}

/** Linux's USER_HZ: /proc times are in 1/100 s on every Linux the project runs on. */
const USER_HZ = 100;

/** CPU time (user + system) of a local process in seconds, from /proc; null where that is not readable. */
function processCpuS(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
  } catch {
    return null;
  }
}

async function startWorker(env: NodeJS.ProcessEnv, heapCapMb?: number): Promise<ChildProcess> {
  const child = fork(workerScript, [], {
    env,
    execArgv: ["--import", "tsx", ...(heapCapMb ? [`--max-old-space-size=${heapCapMb}`] : [])],
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  await new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`score bench worker exited with ${code}`)));
    child.on("message", (message: { ready?: boolean }) => {
      if (message.ready) resolve();
    });
  });
  return child;
}

interface WorkerReport {
  liveHeapAfterGcMb: number;
  heapLimitMb: number;
  maxRssMb: number;
  startRssMb: number;
  peakHeapUsedMb: number;
  sampledPeakRssMb: number;
  heapUsedMb: number;
  cpuS: number;
}

async function askReport(child: ChildProcess): Promise<WorkerReport> {
  return new Promise((resolve) => {
    const onMessage = (message: { report?: WorkerReport }) => {
      if (!message.report) return;
      child.off("message", onMessage);
      resolve(message.report);
    };
    child.on("message", onMessage);
    child.send("report");
  });
}

async function stopWorker(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.send("stop");
  await exited;
}

/** Seeds one tenant up to each size in turn and measures a full recalculation at each. */
export async function runScoreBench(options: ScoreBenchOptions): Promise<ScoreRun[]> {
  const run = randomBytes(3).toString("hex");
  const centralName = `bench_${run}_crm`;
  const clientCode = "benchclinic";
  const tenantName = `bench_${run}_${clientCode}`;
  const key = randomBytes(32);
  const client = new MongoClient(options.uri);
  await client.connect();
  const central = client.db(centralName);
  const tenant = client.db(tenantName);
  const queue = createQueue({ db: central });
  await queue.ensureIndexes();
  const tenancy = createTenancyServices({
    db: central,
    encryptionKeys: [key],
    queue,
    logger: createLogger({ level: "silent", name: "bench" }),
    capabilities: [scoringCapability],
  });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MONGODB_URI: options.uri,
    SERVICES_DB_NAME: centralName,
    CORE_API_TOKEN: `bench_${randomBytes(24).toString("hex")}`,
    ENCRYPTION_KEY: key.toString("hex"),
    LOG_LEVEL: "warn",
  };
  const results: ScoreRun[] = [];
  try {
    await tenancy.datasources.save(clientCode, `${options.uri}/${tenantName}`, tenantName);
    for (const spec of scoringCapability.tenantIndexes)
      await tenant.collection(spec.collection).createIndexes(spec.indexes);
    // The CRM's timeline index (leadId, at): what the events cursor's sort uses on MongoDB.
    await tenant.collection(LEAD_EVENTS_COLLECTION).createIndex({ leadId: 1, at: -1 });
    const now = new Date();
    let seeded = 0;
    let events = 0;
    /** One full recalculation in a fresh worker process, under a new rule version (every score changes). */
    const measure = async (scale: number, label: string, heapCapMb?: number): Promise<ScoreRun> => {
      await saveScoringRules(tenant, benchRules(scale), new Date());
      const child = await startWorker(env, heapCapMb);
      try {
        child.send("mark");
        const serverCpuBefore = processCpuS(options.serverPid);
        const enqueued = Date.now();
        const job = await enqueueJob(queue, scoreRecalculationContract, {
          clientCode,
          payload: options.batchSize ? { batchSize: options.batchSize } : {},
        });
        let doc: JobDocument | null = null;
        let lastLog = Date.now();
        for (;;) {
          doc = await queue.get(job._id);
          if (doc?.status === "completed") break;
          if (doc?.status === "failed") throw new Error(`score_recalculation failed: ${doc.lastError}`);
          if (Date.now() - lastLog > 10_000) {
            lastLog = Date.now();
            options.log(
              `scoring: ${JSON.stringify({ processed: doc?.progress?.processed, total: doc?.progress?.total })}`,
            );
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const wallMs = (doc.completedAt?.getTime() ?? Date.now()) - enqueued;
        const result = doc.result as { processed: number; changed: number; durationMs: number };
        const memory = await askReport(child);
        const serverCpuAfter = processCpuS(options.serverPid);
        const figures: ScoreRun = {
          leads: result.processed,
          events,
          changed: result.changed,
          handlerMs: result.durationMs,
          wallMs,
          leadsPerS: result.processed / (result.durationMs / 1000),
          maxRssMb: memory.maxRssMb,
          sampledPeakRssMb: memory.sampledPeakRssMb,
          heapUsedMb: memory.heapUsedMb,
          startRssMb: memory.startRssMb,
          peakHeapUsedMb: memory.peakHeapUsedMb,
          liveHeapAfterGcMb: memory.liveHeapAfterGcMb,
          heapLimitMb: memory.heapLimitMb,
          ...(heapCapMb ? { heapCapMb } : {}),
          workerCpuS: memory.cpuS,
          serverCpuS:
            serverCpuBefore === null || serverCpuAfter === null
              ? null
              : Math.round((serverCpuAfter - serverCpuBefore) * 100) / 100,
        };
        options.log(`scoring${label}: ${JSON.stringify(figures)}`);
        return figures;
      } finally {
        await stopWorker(child);
      }
    };
    for (const [index, size] of options.sizes.entries()) {
      const seedStarted = Date.now();
      events += await seedLeads(tenant, seeded, size - seeded, now);
      seeded = size;
      options.log(
        `scoring: seeded ${seeded.toLocaleString("en-US")} leads, ${events.toLocaleString("en-US")} events (${((Date.now() - seedStarted) / 1000).toFixed(1)} s)`,
      );
      // Not reported: the first pass warms the server's JIT, so the first measured size is not penalised.
      if (index === 0) await measure(1, " (warm-up, not reported)");
      results.push(await measure(index + 2, ""));
    }
    if (options.heapCapMb) {
      // The largest size again in a worker whose heap cannot grow past the cap: if the pass kept
      // anything per lead, it would run out of memory here.
      results.push(
        await measure(
          options.sizes.length + 2,
          ` (heap capped at ${options.heapCapMb} MB)`,
          options.heapCapMb,
        ),
      );
    }
    return results;
  } finally {
    await tenancy.close();
    await tenant.dropDatabase().catch(() => undefined);
    await central.dropDatabase().catch(() => undefined);
    await client.close();
  }
}
