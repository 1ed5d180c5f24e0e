// A real worker process for the queue's multi-process tests: RUNNERS worker runners sharing one
// MongoClient, with a `record` handler that logs each execution in the `executions` collection.
// Env: MONGODB_URI, SERVICES_DB_NAME, RUNNERS, CONCURRENCY, LEASE_MS. Prints READY once claiming.
import { setTimeout as sleep } from "node:timers/promises";
import { createLogger } from "@ecodrix/platform";
import { MongoClient } from "mongodb";
import { handlerRegistry } from "../job-definition.js";
import type { JobHandlers } from "../job-handler.js";
import { createQueue } from "../queue.js";
import { createWorkerRunner } from "../worker-runner.js";

const env = process.env;
const client = new MongoClient(env.MONGODB_URI ?? "");
await client.connect();
const db = client.db(env.SERVICES_DB_NAME);
const queue = createQueue({ db });
const executions = db.collection("executions");
const logger = createLogger({ level: "warn", name: "test-worker", pretty: false });

const handlers: JobHandlers = {
  record: async ({ job }) => {
    await executions.insertOne({ jobId: job._id, attempt: job.attempts, pid: process.pid, at: new Date() });
    const ms = Number(job.payload.ms ?? 0);
    if (ms > 0) await sleep(ms);
    return { pid: process.pid };
  },
};

const runners = Array.from({ length: Number(env.RUNNERS ?? 1) }, (_, index) =>
  createWorkerRunner({
    queue,
    jobs: handlerRegistry(handlers),
    logger,
    concurrency: Number(env.CONCURRENCY ?? 2),
    leaseMs: Number(env.LEASE_MS ?? 30_000),
    pollMinMs: 20,
    pollMaxMs: 200,
    shutdownTimeoutMs: 1_000,
    workerId: `pid${process.pid}-runner${index}`,
  }),
);
for (const runner of runners) runner.start();
process.stdout.write("READY\n");

process.once("SIGTERM", async () => {
  await Promise.all(runners.map((runner) => runner.stop()));
  await client.close();
  process.exit(0);
});
