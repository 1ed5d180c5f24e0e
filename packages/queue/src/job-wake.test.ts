import { createSocket } from "node:dgram";
import { setTimeout as sleep } from "node:timers/promises";
import { createLogger } from "@ecodrix/platform";
import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import { MongoClient } from "mongodb";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { handlerRegistry } from "./job-definition.js";
import type { WakeSignal } from "./job-wake.js";
import { createQueue, type Queue } from "./queue.js";
import { QUEUE_WORKERS_COLLECTION } from "./worker-registry.js";
import { createWorkerRunner, type WorkerRunner } from "./worker-runner.js";

const quiet = createLogger({ level: "silent", name: "test" });
const { changeStreams } = inject("mongoCapabilities");

describe("waking idle workers when a job arrives", () => {
  let mongo: TestMongo;
  let queue: Queue;
  /** A second client: the producer side, as the API would be (another process, its own pool). */
  let producerClient: MongoClient;
  let producer: Queue;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    mongo = await createTestMongo("wake");
    queue = createQueue({ db: mongo.db });
    await queue.ensureIndexes();
    producerClient = new MongoClient(mongo.uri);
    await producerClient.connect();
    producer = createQueue({ db: producerClient.db(mongo.dbName) });
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await queue.jobs.deleteMany({});
    await mongo.db.collection(QUEUE_WORKERS_COLLECTION).deleteMany({});
  });
  afterAll(async () => {
    await producerClient.close();
    await mongo.close();
  });

  /**
   * A runner that, without a wake signal, would poll once a minute: a job it runs within seconds was
   * brought by the signal. Resolves each job's enqueue-to-start time.
   */
  function sleepyRunner(wake: WakeSignal): { runner: WorkerRunner; started: Promise<number>[] } {
    const starts: ((ms: number) => void)[] = [];
    const started = Array.from({ length: 3 }, () => new Promise<number>((resolve) => starts.push(resolve)));
    let n = 0;
    const runner = createWorkerRunner({
      queue,
      workers: queue.workers,
      wake,
      jobs: handlerRegistry({
        ping: async ({ job }) => {
          starts[n++]?.(Date.now() - Number(job.payload.at));
        },
      }),
      logger: quiet,
      concurrency: 2,
      leaseMs: 5_000,
      pollMinMs: 60_000,
      pollMaxMs: 60_000,
      shutdownTimeoutMs: 200,
    });
    runner.start();
    cleanups.push(() => runner.stop());
    return { runner, started };
  }

  async function waitFor(what: string, predicate: () => Promise<boolean>, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await predicate())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(20);
    }
  }

  it("auto: change streams where the server has them, producers' nudges elsewhere", async () => {
    const wake = await queue.openWakeSignal({ mode: "auto", host: "127.0.0.1", logger: quiet });
    cleanups.push(() => wake.close());
    expect(wake.kind).toBe(changeStreams ? "change-stream" : "nudge");
    expect(wake.live).toBe(true);
    if (wake.kind === "nudge") expect(wake.endpoint).toMatch(/^udp:\/\/127\.0\.0\.1:\d+$/);
    const off = await queue.openWakeSignal({ mode: "off", host: "127.0.0.1", logger: quiet });
    expect(off).toMatchObject({ kind: "none", live: false, endpoint: undefined });
  });

  it("nudge: a producer's enqueue wakes an idle runner that would otherwise poll a minute later", async () => {
    const wake = await queue.openWakeSignal({ mode: "nudge", host: "127.0.0.1", logger: quiet });
    cleanups.push(() => wake.close());
    const { started } = sleepyRunner(wake);
    // The runner records its nudge address in the worker registry; producers read it from there.
    await waitFor("the runner's nudge address in the registry", async () =>
      (await producer.workers.wakeEndpoints()).includes(wake.endpoint ?? "?"),
    );
    await sleep(200); // its first (empty) claim is done: it now waits a minute
    await producer.enqueue({ type: "ping", payload: { at: Date.now() } });
    expect(await started[0]).toBeLessThan(5_000);
    // A second one, with the runner idle again, is picked up the same way.
    await sleep(200);
    await producer.enqueue({ type: "ping", payload: { at: Date.now() } });
    expect(await started[1]).toBeLessThan(5_000);
  });

  it("change stream: an insert wakes an idle runner that would otherwise poll a minute later", async (ctx) => {
    ctx.skip(!changeStreams, "needs change streams (a MongoDB replica set or Atlas); this server has none");
    const wake = await queue.openWakeSignal({ mode: "change-stream", host: "127.0.0.1", logger: quiet });
    cleanups.push(() => wake.close());
    expect(wake.kind).toBe("change-stream");
    const { started } = sleepyRunner(wake);
    await sleep(300);
    await producer.enqueue({ type: "ping", payload: { at: Date.now() } });
    expect(await started[0]).toBeLessThan(5_000);
  });

  it("producers nudge every live worker's address after enqueueing a job due now, and not for later jobs", async () => {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
    let datagrams = 0;
    socket.on("message", () => {
      datagrams += 1;
    });
    const now = new Date();
    await mongo.db.collection(QUEUE_WORKERS_COLLECTION).insertMany([
      // Live, with an address: nudged. Gone for a minute: not.
      {
        _id: "live" as never,
        types: ["ping"],
        seenAt: now,
        wake: `udp://127.0.0.1:${socket.address().port}`,
      },
      {
        _id: "gone" as never,
        types: ["ping"],
        seenAt: new Date(now.getTime() - 120_000),
        wake: "udp://127.0.0.1:9",
      },
    ]);
    expect(await producer.workers.wakeEndpoints()).toEqual([`udp://127.0.0.1:${socket.address().port}`]);
    // A fresh producer (its own address cache) so the list above is what it reads.
    const fresh = createQueue({ db: producerClient.db(mongo.dbName) });
    await fresh.enqueue({ type: "ping", runAt: new Date(Date.now() + 60_000) });
    await sleep(300);
    expect(datagrams).toBe(0);
    await fresh.enqueue({ type: "ping" });
    await waitFor("a nudge", async () => datagrams > 0, 3_000);
    const none = createQueue({ db: producerClient.db(mongo.dbName), nudgeWorkers: false });
    const before = datagrams;
    await none.enqueueMany([{ type: "ping" }, { type: "ping" }]);
    await sleep(300);
    expect(datagrams).toBe(before);
  });
});
