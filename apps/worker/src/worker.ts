import type { Config, Logger } from "@ecodrix/platform";
import {
  type CronSchedule,
  type CronScheduler,
  createCronScheduler,
  createRetentionSweeper,
  createWorkerRunner,
  type JobHandlers,
  type Queue,
  type RetentionSweeper,
  type WorkerObserver,
  type WorkerRunner,
} from "@ecodrix/queue";
import { handlers as defaultHandlers } from "./handlers/index.js";
import { schedules as defaultSchedules } from "./schedules/index.js";

export interface WorkerDeps {
  config: Pick<Config, "worker" | "jobRetentionDays">;
  logger: Logger;
  queue: Queue;
  handlers?: JobHandlers;
  schedules?: CronSchedule[];
  observer?: WorkerObserver;
}

export interface Worker {
  readonly workerId: string;
  readonly runner: WorkerRunner;
  readonly cron: CronScheduler;
  readonly retention: RetentionSweeper;
  /** Starts claiming, the cron schedules and the retention sweeper. */
  start(): void;
  /** Stops cron and claiming; running jobs get WORKER_SHUTDOWN_TIMEOUT_MS, then their leases are released. */
  stop(): Promise<void>;
}

/** The worker's composition root: tests call it with a test database; main.ts with the real one. */
export function buildWorker(deps: WorkerDeps): Worker {
  const { worker } = deps.config;
  const runner = createWorkerRunner({
    queue: deps.queue,
    handlers: deps.handlers ?? defaultHandlers,
    logger: deps.logger,
    concurrency: worker.concurrency,
    prefetch: worker.prefetch,
    leaseMs: worker.leaseMs,
    pollMinMs: worker.pollMinMs,
    pollMaxMs: worker.pollMaxMs,
    jobTimeoutMs: worker.jobTimeoutMs,
    shutdownTimeoutMs: worker.shutdownTimeoutMs,
    fairness: {
      ...(worker.tenantConcurrency > 0 ? { tenantConcurrency: worker.tenantConcurrency } : {}),
      typeConcurrency: worker.typeConcurrency,
      rateLimits: worker.rateLimits,
    },
    ...(deps.observer ? { observer: deps.observer } : {}),
  });
  const cron = createCronScheduler({
    queue: deps.queue,
    schedules: deps.schedules ?? defaultSchedules(deps.config),
    logger: deps.logger,
    timezone: worker.cronTimezone,
  });
  const retention = createRetentionSweeper({
    queue: deps.queue,
    retentionDays: deps.config.jobRetentionDays,
    logger: deps.logger,
  });
  return {
    workerId: runner.workerId,
    runner,
    cron,
    retention,
    start() {
      runner.start();
      cron.start();
      retention.start();
    },
    async stop() {
      cron.stop();
      retention.stop();
      await runner.stop();
    },
  };
}
