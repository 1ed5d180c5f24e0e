import { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { createLogger, permanentFailure, retryLater } from "@ecodrix/platform";
import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import { MongoClient } from "mongodb";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { handlerRegistry } from "./job-definition.js";
import type { JobHandlers } from "./job-handler.js";
import { createQueue, type Queue } from "./queue.js";
import { createWorkerRunner, type WorkerRunner, type WorkerRunnerOptions } from "./worker-runner.js";

const quiet = createLogger({ level: "silent", name: "test" });
// The fairness burst. FerretDB writes the queue's indexes slowly (10,000 jobs take about 40 s to
// enqueue there, the whole test's budget), so it gets a smaller burst, still far more than get done.
const BURST = inject("mongoCapabilities").server === "ferretdb" ? 3_000 : 10_000;

describe("worker runner", () => {
  let mongo: TestMongo;
  let queue: Queue;
  const runners: WorkerRunner[] = [];

  beforeAll(async () => {
    mongo = await createTestMongo("runner");
    queue = createQueue({ db: mongo.db, backoff: { baseMs: 50, maxMs: 100 } });
    await queue.ensureIndexes();
  });
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((runner) => runner.stop()));
    await queue.jobs.deleteMany({});
  });
  afterAll(() => mongo.close());

  function start(handlers: JobHandlers, options: Partial<WorkerRunnerOptions> = {}): WorkerRunner {
    const runner = createWorkerRunner({
      queue,
      jobs: handlerRegistry(handlers),
      logger: quiet,
      concurrency: 4,
      leaseMs: 5_000,
      pollMinMs: 10,
      pollMaxMs: 100,
      shutdownTimeoutMs: 200,
      ...options,
    });
    runners.push(runner);
    runner.start();
    return runner;
  }

  async function waitFor(what: string, predicate: () => Promise<boolean> | boolean, timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await predicate())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(10);
    }
  }

  it("runs jobs with at most `concurrency` at once and stores each result", async () => {
    let active = 0;
    let peak = 0;
    start(
      {
        work: async ({ job }) => {
          active++;
          peak = Math.max(peak, active);
          await sleep(20);
          active--;
          return { n: job.payload.n };
        },
      },
      { concurrency: 3 },
    );
    await queue.enqueueMany(Array.from({ length: 30 }, (_, n) => ({ type: "work", payload: { n } })));
    await waitFor("all done", async () => (await queue.jobs.countDocuments({ status: "completed" })) === 30);
    expect(peak).toBe(3);
    const results = (await queue.jobs.find({}).toArray()).map((job) => (job.result as { n: number }).n);
    expect(results.sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, n) => n));
  });

  it("gives each job a child logger carrying jobId, type and clientCode", async () => {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk, _encoding, callback) {
        lines.push(JSON.parse(String(chunk)));
        callback();
      },
    });
    const logger = createLogger({ level: "info", name: "test", destination });
    start({ hello: async ({ log }) => log.info("inside the handler") }, { logger });
    const job = await queue.enqueue({ type: "hello", clientCode: "acme" });
    await waitFor("log line", () => lines.some((line) => line.msg === "inside the handler"));
    expect(lines.find((line) => line.msg === "inside the handler")).toMatchObject({
      jobId: String(job._id),
      type: "hello",
      clientCode: "acme",
    });
  });

  it("a handler over its timeout is aborted and the attempt fails as retryable", async () => {
    let sawAbort = false;
    start(
      {
        hang: ({ signal }) =>
          new Promise(() => {
            signal.addEventListener("abort", () => {
              sawAbort = true;
            });
          }),
      },
      { jobTimeoutMs: 100 },
    );
    const job = await queue.enqueue({ type: "hang", maxRetries: 0 });
    await waitFor("failed", async () => (await queue.get(job._id))?.status === "failed");
    expect(sawAbort).toBe(true);
    expect(await queue.get(job._id)).toMatchObject({
      lastError: "Job timed out after 100 ms",
      errors: [expect.objectContaining({ code: "ECODRIX_JOBS_TIMEOUT" })],
    });
  });

  it("maps AppErrors: permanent → dead letter at once, retryLater → retried after its delay; an unknown type is left pending", async () => {
    const calls: number[] = [];
    start({
      invalid_token: async () => {
        throw permanentFailure("ECODRIX_WHATSAPP_TOKEN_INVALID", "WhatsApp token is invalid");
      },
      rate_limited: async () => {
        calls.push(Date.now());
        if (calls.length === 1) throw retryLater("ECODRIX_WHATSAPP_RATE_LIMITED", "rate limited", 400);
        return "sent";
      },
    });
    const permanent = await queue.enqueue({ type: "invalid_token", maxRetries: 5 });
    const limited = await queue.enqueue({ type: "rate_limited" });
    const unknown = await queue.enqueue({ type: "no_such_type" });
    await waitFor(
      "settled",
      async () => (await queue.jobs.countDocuments({ status: { $in: ["completed", "failed"] } })) === 2,
    );
    expect(await queue.get(permanent._id)).toMatchObject({
      status: "failed",
      retries: 0,
      lastError: "WhatsApp token is invalid",
    });
    // No definition in this worker: never claimed, so a newer worker that knows the type can run it.
    expect(await queue.get(unknown._id)).toMatchObject({ status: "pending", attempts: 0, lastError: null });
    expect(await queue.get(limited._id)).toMatchObject({ status: "completed", retries: 1, result: "sent" });
    expect(calls[1]! - calls[0]!).toBeGreaterThanOrEqual(390);
  });

  it("a handler's progress is on the job document while it runs", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const reported: boolean[] = [];
    start({
      long: async ({ progress }) => {
        reported.push(await progress({ processed: 1, total: 3 }));
        await gate;
        reported.push(await progress({ processed: 3, total: 3 }));
        return { processed: 3 };
      },
    });
    const job = await queue.enqueue({ type: "long" });
    await waitFor("progress while running", async () => {
      const doc = await queue.get(job._id);
      return doc?.status === "processing" && doc.progress?.processed === 1;
    });
    expect((await queue.get(job._id))?.progress).toEqual({ processed: 1, total: 3 });
    release();
    await waitFor("completion", async () => (await queue.get(job._id))?.status === "completed");
    expect(await queue.get(job._id)).toMatchObject({
      progress: { processed: 3, total: 3 },
      result: { processed: 3 },
    });
    expect(reported).toEqual([true, true]);
  });

  it("heartbeats keep a long job's lease: another worker does not take it over", async () => {
    let runs = 0;
    const handlers: JobHandlers = {
      long: async () => {
        runs++;
        await sleep(900);
        return "done";
      },
    };
    start(handlers, { leaseMs: 300 });
    const job = await queue.enqueue({ type: "long" });
    await waitFor("claimed", async () => (await queue.get(job._id))?.status === "processing");
    start(handlers, { leaseMs: 300 });
    await waitFor("completed", async () => (await queue.get(job._id))?.status === "completed");
    expect(runs).toBe(1);
    expect(await queue.get(job._id)).toMatchObject({ attempts: 1, retries: 0 });
  });

  it("graceful shutdown: stops claiming, lets quick jobs finish, releases the rest for another worker at once", async () => {
    const handlers: JobHandlers = {
      quick: async () => {
        await sleep(50);
        return "quick done";
      },
      stubborn: async ({ signal }) => {
        await new Promise((resolve) => signal.addEventListener("abort", resolve));
        await sleep(10_000); // ignores the abort: stop() must not wait for it
      },
    };
    const first = start(handlers, { leaseMs: 60_000, shutdownTimeoutMs: 300 });
    const quick = await queue.enqueue({ type: "quick" });
    const stubborn = await queue.enqueue({ type: "stubborn" });
    await waitFor("both running", () => first.running === 2);
    await queue.enqueue({ type: "quick", delayMs: 10 }); // arrives during shutdown: must not be claimed

    const stopping = Date.now();
    await first.stop();
    expect(Date.now() - stopping).toBeLessThan(2_000);
    expect(await queue.get(quick._id)).toMatchObject({ status: "completed", result: "quick done" });
    const released = (await queue.get(stubborn._id))!;
    expect(released).toMatchObject({ status: "pending", lockedBy: null, lockedUntil: null, retries: 0 });
    expect(released.runAt.getTime()).toBeLessThanOrEqual(Date.now());
    expect(await queue.jobs.countDocuments({ status: "processing" })).toBe(0);

    // Another worker picks the released job up at once, not after the 60 s lease.
    const taken = Date.now();
    start({ ...handlers, stubborn: async () => "finished elsewhere" });
    await waitFor(
      "completed elsewhere",
      async () => (await queue.get(stubborn._id))?.status === "completed",
      3_000,
    );
    expect(Date.now() - taken).toBeLessThan(1_000);
  });

  it("prefetch: a backlog is claimed ahead of free slots, and stop() hands unstarted jobs back at once", async () => {
    const finishers: (() => void)[] = [];
    const runner = start(
      {
        slow: async ({ signal }) => {
          await new Promise<void>((resolve) => {
            finishers.push(resolve);
            signal.addEventListener("abort", () => resolve());
          });
        },
      },
      { concurrency: 2, prefetch: 4, leaseMs: 60_000, shutdownTimeoutMs: 100 },
    );
    await queue.enqueueMany(Array.from({ length: 20 }, () => ({ type: "slow" })));
    await waitFor("two running", () => finishers.length === 2);
    // The first claim came back full (a backlog): when a slot frees, the claim also fills the buffer.
    finishers[0]!();
    await waitFor(
      "buffer filled",
      async () => (await queue.jobs.countDocuments({ status: "processing" })) === 6,
    );
    expect(runner.running).toBe(2);
    expect(await queue.jobs.countDocuments({ status: "completed" })).toBe(1);
    await sleep(100);
    // Never more than concurrency + prefetch held by one runner.
    expect(await queue.jobs.countDocuments({ status: "processing" })).toBe(6);

    await runner.stop();
    expect(await queue.jobs.countDocuments({ status: "processing" })).toBe(0);
    expect(await queue.jobs.countDocuments({ status: "pending", lockedBy: null })).toBe(19);
  });

  it("prefetched jobs keep their leases while they wait, so no other worker takes them over", async () => {
    const ran: string[] = [];
    const work: JobHandlers = {
      work: async ({ job }) => {
        await sleep(150);
        ran.push(String(job._id));
      },
    };
    // Six jobs of 150 ms behind one slot: the last waits ~750 ms, far past the 300 ms lease.
    start(work, { concurrency: 1, prefetch: 5, leaseMs: 300, workerId: "a" });
    await queue.enqueueMany(Array.from({ length: 6 }, () => ({ type: "work" })));
    await waitFor("claimed by a", async () => (await queue.jobs.countDocuments({ status: "pending" })) === 0);
    // A second worker polls the whole time and would reclaim any expired lease.
    start(work, { concurrency: 1, prefetch: 0, leaseMs: 300, workerId: "b" });
    await waitFor(
      "all done",
      async () => (await queue.jobs.countDocuments({ status: "completed" })) === 6,
      10_000,
    );
    expect(ran).toHaveLength(6);
    expect(new Set(ran).size).toBe(6);
    expect(await queue.jobs.countDocuments({ "errors.0": { $exists: true } })).toBe(0);
  });

  it("an idle worker backs off to pollMaxMs: a bounded number of queries per second", async () => {
    const client = new MongoClient(mongo.uri, { monitorCommands: true });
    await client.connect();
    try {
      let finds = 0;
      client.on("commandStarted", (event) => {
        if (event.commandName === "find") finds++;
      });
      const idleQueue = createQueue({ db: client.db(mongo.dbName) });
      const runner = createWorkerRunner({
        queue: idleQueue,
        jobs: handlerRegistry({}),
        logger: quiet,
        concurrency: 10,
        leaseMs: 5_000,
        pollMinMs: 50,
        pollMaxMs: 500,
      });
      runners.push(runner);
      runner.start();
      await sleep(900); // the back-off reaches its ceiling: 50+100+200+400 ms
      const before = finds;
      await sleep(2_000);
      const perSecond = (finds - before) / 2;
      expect(perSecond).toBeLessThanOrEqual(2.6);
      expect(perSecond).toBeGreaterThan(0);

      await runner.stop();

      // …and an idle worker still picks a new job up within one (maximal) poll interval.
      let started = 0;
      start(
        {
          ping: async () => {
            started = Date.now();
          },
        },
        { pollMinMs: 50, pollMaxMs: 500 },
      );
      await sleep(900);
      const enqueued = Date.now();
      await queue.enqueue({ type: "ping" });
      await waitFor("ping ran", () => started > 0, 3_000);
      expect(started - enqueued).toBeLessThan(600);
    } finally {
      await client.close();
    }
  });

  it("per-type concurrency cap and per-tenant rate limit hold while other work flows", async () => {
    let slowActive = 0;
    let slowPeak = 0;
    const sends: { clientCode: string | null; at: number }[] = [];
    start(
      {
        slow: async () => {
          slowActive++;
          slowPeak = Math.max(slowPeak, slowActive);
          await sleep(40);
          slowActive--;
        },
        fast: async () => {},
        send_whatsapp: async ({ job }) => {
          sends.push({ clientCode: job.clientCode, at: Date.now() });
        },
      },
      {
        concurrency: 8,
        fairness: { typeConcurrency: { slow: 2 }, rateLimits: { send_whatsapp: { max: 5, perMs: 1_000 } } },
      },
    );
    const began = Date.now();
    await queue.enqueueMany([
      ...Array.from({ length: 12 }, () => ({ type: "slow" })),
      ...Array.from({ length: 40 }, () => ({ type: "fast" })),
      ...Array.from({ length: 8 }, () => ({ type: "send_whatsapp", clientCode: "acme" })),
      ...Array.from({ length: 8 }, () => ({ type: "send_whatsapp", clientCode: "beta" })),
    ]);
    await waitFor(
      "slow and fast done",
      async () =>
        (await queue.jobs.countDocuments({ type: { $in: ["slow", "fast"] }, status: "completed" })) === 52,
    );
    await waitFor("all sends", () => sends.length === 16, 15_000);
    expect(slowPeak).toBe(2);
    for (const tenant of ["acme", "beta"]) {
      // Timed by the sends themselves, not from the enqueue: how soon the first one starts depends on
      // the server and the machine's load (on FerretDB, or a loaded host, well into the first second).
      const times = sends
        .filter((send) => send.clientCode === tenant)
        .map((send) => send.at)
        .sort((a, b) => a - b);
      // Never more than 5 sends of one tenant within 900 ms ...
      for (let i = 5; i < times.length; i++) expect(times[i]! - times[i - 5]!).toBeGreaterThanOrEqual(900);
      // ... and the limit does not hold them back much longer than it must.
      expect(times[4]! - times[0]!).toBeLessThan(2_500);
      expect(times[0]! - began).toBeLessThan(5_000);
    }
  });

  it("a tenant cap holds while the fairness probe claims too (probe and main claim share one count)", async () => {
    const runningByTenant = new Map<string, number>();
    const peak = new Map<string, number>();
    start(
      {
        work: async ({ job }) => {
          const tenant = String(job.clientCode);
          const now = (runningByTenant.get(tenant) ?? 0) + 1;
          runningByTenant.set(tenant, now);
          peak.set(tenant, Math.max(peak.get(tenant) ?? 0, now));
          await sleep(tenant === "b" ? 100 : 20);
          runningByTenant.set(tenant, (runningByTenant.get(tenant) ?? 1) - 1);
        },
      },
      { concurrency: 10, fairness: { tenantConcurrency: 5, probeIntervalMs: 0 } },
    );
    // Two tenants' bursts fill the head of the queue; a third tenant's jobs sit behind them.
    await queue.enqueueMany([
      ...Array.from({ length: 120 }, () => ({ type: "work", clientCode: "a" })),
      ...Array.from({ length: 120 }, () => ({ type: "work", clientCode: "c" })),
    ]);
    await sleep(100);
    await queue.enqueueMany(
      Array.from({ length: 8 }, () => ({ type: "work", clientCode: "b", priority: 1 })),
    );
    await waitFor("all done", async () => (await queue.jobs.countDocuments({ status: "completed" })) === 248);
    expect(peak.get("b")).toBeGreaterThan(0);
    for (const tenant of ["a", "b", "c"]) expect(peak.get(tenant) ?? 0).toBeLessThanOrEqual(5);
  });

  it("a processing job written without counters (by hand or an older queue) is reclaimed and run once", async () => {
    let runs = 0;
    const past = new Date(Date.now() - 60_000);
    await queue.jobs.insertOne({
      type: "legacy",
      clientCode: null,
      payload: {},
      status: "processing",
      lockedBy: "old-worker",
      lockedUntil: past,
      runAt: past,
      createdAt: past,
      updatedAt: past,
    } as never);
    start({
      legacy: async () => {
        runs++;
        return "ok";
      },
    });
    await waitFor("completed", async () => (await queue.jobs.countDocuments({ status: "completed" })) === 1);
    await sleep(200);
    expect(runs).toBe(1);
    const job = await queue.jobs.findOne({ type: "legacy" });
    expect(job).toMatchObject({ status: "completed", attempts: 1, retries: 1, result: "ok" });
    expect(job?.errors).toHaveLength(1);
  });

  it(`fairness: a ${BURST.toLocaleString("en-US")}-job burst from one tenant does not starve another tenant's job`, async () => {
    const started = new Map<string, number>();
    const handlers: JobHandlers = {
      bulk: async () => {
        await sleep(5);
      },
      single: async ({ job }) => {
        started.set(String(job._id), Date.now());
      },
    };
    await queue.enqueueMany(
      Array.from({ length: BURST }, (_, n) => ({ type: "bulk", clientCode: "burst", payload: { n } })),
    );
    start(handlers, { concurrency: 10 });
    start(handlers, { concurrency: 10 });
    await waitFor(
      "the burst flowing",
      async () => (await queue.jobs.countDocuments({ status: "completed" })) >= 200,
    );

    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      const enqueuedAt = Date.now();
      const job = await queue.enqueue({ type: "single", clientCode: `quiet-${i}` });
      await waitFor("the other tenant's job", () => started.has(String(job._id)), 20_000);
      waits.push(started.get(String(job._id))! - enqueuedAt);
      // It did not just wait for the burst to drain.
      expect(await queue.jobs.countDocuments({ clientCode: "burst", status: "pending" })).toBeGreaterThan(
        BURST / 2,
      );
    }
    expect(Math.max(...waits), `waits ${waits.join(", ")} ms`).toBeLessThan(1_500);
  });
});
