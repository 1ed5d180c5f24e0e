import { setTimeout as sleep } from "node:timers/promises";
import { createLogger } from "@ecodrix/platform";
import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import { Type } from "@sinclair/typebox";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createJobRegistry, defineJob, enqueueJob, jobContract } from "./job-definition.js";
import { createQueue, type Queue } from "./queue.js";
import { createWorkerRunner, type WorkerRunner } from "./worker-runner.js";

const quiet = createLogger({ level: "silent", name: "test" });

const greetContract = jobContract({
  type: "greet",
  payload: Type.Object({ to: Type.String({ minLength: 1 }), times: Type.Integer({ minimum: 1 }) }),
  limits: { maxRetries: 2, priority: 3 },
});

describe("typed job definitions", () => {
  let mongo: TestMongo;
  let queue: Queue;
  const runners: WorkerRunner[] = [];

  beforeAll(async () => {
    mongo = await createTestMongo();
    queue = createQueue({ db: mongo.db });
    await queue.ensureIndexes();
  });
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((runner) => runner.stop()));
    await queue.jobs.deleteMany({});
    await mongo.db.collection("queue_workers").deleteMany({});
  });
  afterAll(() => mongo.close());

  function startWorker(
    definitions: Parameters<typeof createJobRegistry<{ seen: string[] }>>[0],
    seen: string[],
  ) {
    const runner = createWorkerRunner({
      queue,
      jobs: createJobRegistry(definitions, { seen }),
      workers: queue.workers,
      logger: quiet,
      concurrency: 2,
      leaseMs: 5_000,
      pollMinMs: 10,
      pollMaxMs: 50,
      shutdownTimeoutMs: 200,
    });
    runners.push(runner);
    runner.start();
    return runner;
  }

  const greetJob = defineJob({
    ...greetContract,
    create:
      ({ seen }: { seen: string[] }) =>
      async ({ job }) => {
        // Typed: job.payload.to is a string, job.payload.times a number.
        seen.push(job.payload.to.repeat(job.payload.times));
        return { greeted: job.payload.to };
      },
  });

  it("the typed enqueue refuses a payload that does not match the schema (400 naming the field) and applies limits", async () => {
    await expect(
      enqueueJob(queue, greetContract, { payload: { to: "", times: 1 } as never }),
    ).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining("payload/to") });
    await expect(enqueueJob(queue, greetContract, { payload: { to: "a" } as never })).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringContaining("times"),
    });
    expect(await queue.jobs.countDocuments({})).toBe(0);
    const job = await enqueueJob(queue, greetContract, { payload: { to: "ana", times: 2 } });
    expect(job).toMatchObject({
      type: "greet",
      maxRetries: 2,
      priority: 3,
      payload: { to: "ana", times: 2 },
    });
  });

  it("a malformed payload (written around the typed enqueue) is dead-lettered at once with a clear lastError", async () => {
    const seen: string[] = [];
    startWorker([greetJob], seen);
    const bad = await queue.enqueue({ type: "greet", payload: { to: 42, times: 1 }, maxRetries: 5 });
    await expectEventually(async () => (await queue.get(bad._id))?.status === "failed");
    const stored = await queue.get(bad._id);
    expect(stored).toMatchObject({ retries: 0, attempts: 1 });
    expect(stored?.lastError).toMatch(/^Invalid payload for greet: payload\/to must be string/);
    expect(seen).toEqual([]);
  });

  it("rolling deploy: an old worker leaves a new type pending (shown as unhandled); a new worker runs it", async () => {
    const seen: string[] = [];
    const oldWorker = startWorker([], seen);
    const job = await enqueueJob(queue, greetContract, { payload: { to: "bo", times: 1 } });
    await sleep(300);
    expect(await queue.get(job._id)).toMatchObject({ status: "pending", attempts: 0 });
    await expectEventually(async () => (await queue.stats()).workers === 1);
    expect((await queue.stats()).unhandledTypes).toEqual([{ type: "greet", pending: 1 }]);
    expect((await queue.depth()).unhandledTypes).toEqual([{ type: "greet", pending: 1 }]);

    startWorker([greetJob], seen);
    await expectEventually(async () => (await queue.get(job._id))?.status === "completed");
    expect(seen).toEqual(["bo"]);
    expect((await queue.stats()).unhandledTypes).toEqual([]);
    await oldWorker.stop();
    expect((await queue.stats()).workers).toBe(1);
  });

  it("a type defined twice is refused at start-up", () => {
    expect(() => createJobRegistry([greetJob, greetJob], { seen: [] })).toThrow(/greet is defined twice/);
  });
});

async function expectEventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(25);
  }
  throw new Error("condition not met in time");
}
