/**
 * One benchmark worker process (forked by queue-bench.ts). Runs one contender against the database
 * named in its config and counts every command its MongoClient sends (`monitorCommands`), reporting
 * back over IPC. Counting starts at `go`, so setup (connect, indexes) is not counted.
 */

import { setTimeout as sleep } from "node:timers/promises";
import { MongoBackend } from "@agendajs/mongo-backend";
import { createLogger } from "@ecodrix/platform";
import {
  createQueue,
  createWorkerRunner,
  handlerRegistry,
  JOBS_COLLECTION,
  type JobDocument,
  readyFilter,
} from "@ecodrix/queue";
import { Agenda, type Job } from "agenda";
import { type Db, MongoClient } from "mongodb";
import {
  type ChildMessage,
  CommandCounter,
  isParentMessage,
  NOOP_JOB,
  type NoopPayload,
  type WorkerProcessConfig,
} from "./protocol.js";

interface Runner {
  start(): void;
  /** Stops claiming; resolves when the handlers that were running have finished and been recorded. */
  stop(): Promise<void>;
}

type OnHandled = (enqueuedAt: unknown) => void;

/** Promise rejections nobody handled (Agenda's, on FerretDB); reported with `stopped`. */
let unhandledRejections = 0;

function send(message: ChildMessage): void {
  process.send?.(message);
}

/**
 * Our queue: createQueue + createWorkerRunner with a no-op handler, woken as the product's worker is
 * (queue.openWakeSignal with WORKER_WAKE / WORKER_WAKE_HOST: change streams where the server has
 * them, else the parent's nudges) and reporting to the worker registry as the product's worker does.
 */
async function oursRunner(config: WorkerProcessConfig, db: Db, onHandled: OnHandled): Promise<Runner> {
  const queue = createQueue({ db });
  const logger = createLogger({ level: "warn", name: "bench-worker", destination: process.stderr });
  const wake = await queue.openWakeSignal({
    mode: config.worker.wakeMode,
    host: config.worker.wakeHost,
    logger,
  });
  send({ type: "wake", kind: wake.kind });
  const runner = createWorkerRunner({
    ...config.worker,
    queue,
    workers: queue.workers,
    wake,
    jobs: handlerRegistry({
      [NOOP_JOB]: async ({ job }) => {
        onHandled(job.payload.enqueuedAt);
        return undefined;
      },
    }),
    // Warnings and errors still show; the per-job info lines are not written (see README).
    logger,
    concurrency: config.concurrency,
  });
  return {
    start: () => runner.start(),
    async stop() {
      await runner.stop();
      await wake.close();
    },
  };
}

/** Agenda 6 with its MongoDB backend, set up as its README recommends and tuned (see README). */
async function agendaRunner(config: WorkerProcessConfig, db: Db, onHandled: OnHandled): Promise<Runner> {
  const settings = config.agenda;
  const agenda = new Agenda({
    backend: new MongoBackend({ mongo: db, ensureIndex: true }),
    name: `bench-${process.pid}`,
    processEvery: settings.processEveryMs,
    maxConcurrency: settings.maxConcurrency,
    defaultConcurrency: settings.defaultConcurrency,
    lockLimit: settings.lockLimit,
    defaultLockLimit: settings.defaultLockLimit,
    defaultLockLifetime: settings.defaultLockLifetimeMs,
  });
  let running = 0;
  let idle: (() => void) | undefined;
  agenda.on("start", () => {
    running += 1;
  });
  agenda.on("complete", () => {
    running -= 1;
    if (running === 0) idle?.();
  });
  agenda.on("error", (error: Error) => {
    process.stderr.write(`agenda error: ${error.message}\n`);
  });
  // On FerretDB, Agenda's own updates sometimes fail with "deadlock detected" inside Agenda, as a
  // promise nobody handles, which ends a Node process. Counted and reported instead, so Agenda keeps
  // running and gets a figure; the table says how many there were.
  process.on("unhandledRejection", (reason: unknown) => {
    unhandledRejections += 1;
    process.stderr.write(
      `agenda: unhandled rejection (${reason instanceof Error ? reason.message : String(reason)})\n`,
    );
  });
  agenda.define(
    NOOP_JOB,
    async (job: Job<NoopPayload>) => {
      onHandled(job.attrs.data.enqueuedAt);
    },
    { concurrency: settings.defaultConcurrency },
  );
  await agenda.ready;
  return {
    start: () => {
      void agenda.start();
    },
    async stop() {
      // stop() unlocks the jobs it had locked but not started; the running ones finish and save.
      await agenda.stop(false);
      if (running > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 10_000);
          idle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    },
  };
}

/**
 * The ceiling: `concurrency` bare loops, each doing only a claim findOneAndUpdate (our claim's filter,
 * readyFilter, and its sort, priority then runAt) and the completing updateOne (our complete's fenced
 * filter and update). No queue code runs; a loop ends when the claim finds nothing.
 */
function ceilingRunner(config: WorkerProcessConfig, db: Db, onHandled: OnHandled): Runner {
  const jobs = db.collection<JobDocument>(JOBS_COLLECTION);
  const workerId = `ceiling:${process.pid}`;
  const leaseMs = config.worker.leaseMs;
  let stopping = false;
  let loops: Promise<void>[] = [];
  async function loop(): Promise<void> {
    while (!stopping) {
      const now = new Date();
      const job = await jobs.findOneAndUpdate(
        readyFilter(now),
        {
          $set: {
            status: "processing",
            lockedBy: workerId,
            lockedUntil: new Date(now.getTime() + leaseMs),
            updatedAt: now,
          },
          $inc: { attempts: 1 },
        },
        { sort: { priority: -1, runAt: 1 }, returnDocument: "after" },
      );
      if (!job) return;
      onHandled(job.payload.enqueuedAt);
      const done = new Date();
      await jobs.updateOne(
        { _id: job._id, attempts: job.attempts, status: "processing" },
        {
          $set: {
            status: "completed",
            completedAt: done,
            updatedAt: done,
            lockedBy: null,
            lockedUntil: null,
          },
        },
      );
    }
  }
  return {
    start() {
      loops = Array.from({ length: config.concurrency }, () => loop());
    },
    async stop() {
      stopping = true;
      await Promise.all(loops);
    },
  };
}

async function main(): Promise<void> {
  const raw = process.argv[2];
  if (!raw) throw new Error("bench-worker: missing its config argument");
  const config = JSON.parse(raw) as WorkerProcessConfig;
  const counter = new CommandCounter();
  const client = new MongoClient(config.uri, { monitorCommands: true, appName: `bench-${config.contender}` });
  let inFlight = 0;
  client.on("commandStarted", (event) => {
    counter.add(event.commandName);
    inFlight += 1;
  });
  client.on("commandSucceeded", () => {
    inFlight -= 1;
  });
  client.on("commandFailed", () => {
    inFlight -= 1;
  });
  /** After stop: lets stragglers (e.g. a lock Agenda started before it stopped) finish before close. */
  const quiesce = async () => {
    const deadline = Date.now() + 5_000;
    let quietSince = Date.now();
    while (Date.now() < deadline) {
      if (inFlight > 0) quietSince = Date.now();
      else if (Date.now() - quietSince >= 250) return;
      await sleep(25);
    }
  };
  await client.connect();
  const db = client.db(config.dbName);

  let handled = 0;
  const pickupMs: number[] = [];
  const onHandled: OnHandled = (enqueuedAt) => {
    handled += 1;
    if (config.recordPickup && typeof enqueuedAt === "number") pickupMs.push(Date.now() - enqueuedAt);
  };

  const runner =
    config.contender === "ours"
      ? await oursRunner(config, db, onHandled)
      : config.contender === "agenda"
        ? await agendaRunner(config, db, onHandled)
        : ceilingRunner(config, db, onHandled);

  let progress: NodeJS.Timeout | undefined;
  let lastReported = -1;
  process.on("message", (message: unknown) => {
    if (!isParentMessage(message)) return;
    if (message.type === "go") {
      counter.reset();
      handled = 0;
      runner.start();
      progress = setInterval(() => {
        if (handled !== lastReported) {
          lastReported = handled;
          send({ type: "progress", handled });
        }
      }, 25);
    } else if (message.type === "snapshot") {
      send({ type: "snapshot", commands: counter.snapshot(), handled, at: Date.now() });
    } else if (message.type === "stop") {
      void (async () => {
        clearInterval(progress);
        await runner.stop();
        await quiesce();
        // Snapshot before close(): closing sends endSessions, which is not the contender's doing.
        send({
          type: "stopped",
          commands: counter.snapshot(),
          handled,
          at: Date.now(),
          pickupMs,
          unhandledRejections,
        });
        await client.close();
        process.disconnect?.();
      })().catch(fail);
    }
  });
  process.on("disconnect", () => {
    // The parent went away: do not linger.
    setTimeout(() => process.exit(0), 1_000).unref();
  });
  send({ type: "ready", pid: process.pid });
}

function fail(error: unknown): void {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  send({ type: "error", message });
  process.stderr.write(`bench-worker failed: ${message}\n`);
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 500).unref();
}

main().catch(fail);
