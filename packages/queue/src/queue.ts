import type { Collection, Db } from "mongodb";
import { type BackoffOptions, DEFAULT_BACKOFF } from "./backoff.js";
import type { JobDocument } from "./job-types.js";
import { createNudgeSender, openWakeSignal, type WakeOptions, type WakeSignal } from "./job-wake.js";
import { createQueueAdmin, type QueueAdmin } from "./queue-admin.js";
import { createQueueConsumer, type QueueConsumer } from "./queue-consumer.js";
import { JOB_INDEXES } from "./queue-indexes.js";
import { createQueueProducer, type QueueProducer } from "./queue-producer.js";
import { createWorkerRegistry, QUEUE_WORKERS_COLLECTION, type WorkerRegistry } from "./worker-registry.js";

export const JOBS_COLLECTION = "jobs";
export const ERROR_HISTORY_LIMIT = 10;

export interface QueueOptions {
  db: Db;
  /** Retries after the first attempt when `enqueue` does not say. Default 5. */
  defaultMaxRetries?: number;
  backoff?: BackoffOptions;
  /** Length of the `errors` history kept per job. Default 10. */
  errorHistoryLimit?: number;
  /** Nudge idle workers after an enqueue (see job-wake.ts). Default true; costless without listeners. */
  nudgeWorkers?: boolean;
  /**
   * The time leases are written and compared in (claim, heartbeat, fail, release): the worker passes
   * the database server's (createServerClock), so hosts with skewed clocks agree. Default: local.
   */
  clock?: () => Date;
}

/**
 * The whole queue, for the worker's composition root and the queue's own tests. Everything else is
 * handed one side: the API gets `QueueProducer & QueueAdmin` (it cannot claim), handlers that enqueue
 * follow-up jobs get `QueueProducer`, and only the worker runner uses `QueueConsumer`.
 */
export interface Queue extends QueueProducer, QueueConsumer, QueueAdmin {
  /** The raw collection: the queue package and tests only (tests play the admin's mongosh). */
  readonly jobs: Collection<JobDocument>;
  /** Which job types the running workers know (the runner reports; stats reads). */
  readonly workers: WorkerRegistry;
  /** Creates the queue's indexes (idempotent). Call at start-up. */
  ensureIndexes(): Promise<void>;
  /** The worker side of the wake-up (change stream or nudge listener), for the worker runner. */
  openWakeSignal(options: WakeOptions): Promise<WakeSignal>;
}

/** The sides the API is given. */
export type ApiQueue = QueueProducer & QueueAdmin;

export function createQueue(options: QueueOptions): Queue {
  const jobs = options.db.collection<JobDocument>(JOBS_COLLECTION);
  const defaultMaxRetries = options.defaultMaxRetries ?? 5;
  const historyLimit = options.errorHistoryLimit ?? ERROR_HISTORY_LIMIT;
  const workers = createWorkerRegistry(options.db);
  const nudger =
    options.nudgeWorkers === false ? undefined : createNudgeSender(() => workers.wakeEndpoints());
  const producer = createQueueProducer(jobs, defaultMaxRetries, nudger?.nudge);
  const consumer = createQueueConsumer(jobs, {
    clock: options.clock ?? (() => new Date()),
    defaultMaxRetries,
    historyLimit,
    backoff: options.backoff ?? DEFAULT_BACKOFF,
  });
  const admin = createQueueAdmin(jobs, workers);
  return {
    ...producer,
    ...consumer,
    ...admin,
    jobs,
    workers,
    openWakeSignal: (wake) => openWakeSignal(jobs, wake),
    async ensureIndexes() {
      await jobs.createIndexes(JOB_INDEXES);
      await options.db
        .collection(QUEUE_WORKERS_COLLECTION)
        .createIndexes([{ key: { seenAt: 1 }, name: "seen" }]);
    },
  };
}
