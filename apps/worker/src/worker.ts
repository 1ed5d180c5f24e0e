import { crmCapabilities } from "@ecodrix/crm";
import { createTenancyServices, type TenancyServices } from "@ecodrix/domain";
import { integrationCapabilities } from "@ecodrix/integrations";
import { createSmtpTransports } from "@ecodrix/integrations/email";
import type { Config, Logger } from "@ecodrix/platform";
import {
  type AnyJobDefinition,
  type CronSchedule,
  type CronScheduler,
  createClusterRateLimiter,
  createCronScheduler,
  createJobRegistry,
  createRetentionSweeper,
  createWorkerRunner,
  type JobRegistry,
  type Queue,
  type RetentionSweeper,
  type WakeSignal,
  type WorkerObserver,
  type WorkerRunner,
} from "@ecodrix/queue";
import type { Db } from "mongodb";
import { jobDefinitions } from "./job-definitions.js";
import type { WorkerJobDeps } from "./job-deps.js";
import { schedules as defaultSchedules } from "./schedules/index.js";

export { jobDefinitions };

export interface WorkerDeps {
  config: Config;
  logger: Logger;
  /** The central database. */
  db: Db;
  queue: Queue;
  /** Clients, secrets, tenant connections; built from db + config when omitted (then closed by stop). */
  tenancy?: TenancyServices;
  /** The job types this worker runs; default: every definition of the product (job-definitions.ts). */
  definitions?: readonly AnyJobDefinition<WorkerJobDeps>[];
  schedules?: CronSchedule[];
  observer?: WorkerObserver;
  clock?: () => Date;
  /** Wakes the idle runner when a job arrives (queue.openWakeSignal); without it the runner only polls. */
  wake?: WakeSignal;
}

export interface Worker {
  readonly workerId: string;
  readonly runner: WorkerRunner;
  readonly jobs: JobRegistry;
  readonly cron: CronScheduler;
  readonly retention: RetentionSweeper;
  /** Starts claiming, the cron schedules and the retention sweeper. */
  start(): void;
  /** Stops cron and claiming; running jobs get WORKER_SHUTDOWN_TIMEOUT_MS, then their leases are released. */
  stop(): Promise<void>;
}

/**
 * The worker's composition root: builds the handlers' dependencies once, registers one list of job
 * definitions, and wires the runner, cron and retention. Tests call it with a test database and fakes;
 * main.ts with the real ones.
 */
export function buildWorker(deps: WorkerDeps): Worker {
  const { worker } = deps.config;
  const tenancy =
    deps.tenancy ??
    createTenancyServices({
      db: deps.db,
      encryptionKeys: deps.config.encryptionKeys,
      queue: deps.queue,
      logger: deps.logger,
      capabilities: [...integrationCapabilities, ...crmCapabilities],
    });
  const rateLimiter = createClusterRateLimiter(deps.db);
  const smtpTransports = createSmtpTransports({ logger: deps.logger });
  const jobDeps: WorkerJobDeps = {
    rateLimiter,
    smtpTransports,
    config: deps.config,
    logger: deps.logger,
    db: deps.db,
    queue: deps.queue,
    tenancy,
    clock: deps.clock ?? (() => new Date()),
  };
  const jobs = createJobRegistry(deps.definitions ?? jobDefinitions, jobDeps);
  const runner = createWorkerRunner({
    queue: deps.queue,
    jobs,
    workers: deps.queue.workers,
    rateLimiter,
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
    ...(deps.wake ? { wake: deps.wake } : {}),
  });
  const cron = createCronScheduler({
    queue: deps.queue,
    schedules: deps.schedules ?? defaultSchedules(deps.config),
    logger: deps.logger,
    timezone: worker.cronTimezone,
    catchUpMs: worker.cronCatchUpMs,
  });
  const retention = createRetentionSweeper({
    queue: deps.queue,
    retentionDays: deps.config.jobRetentionDays,
    logger: deps.logger,
  });
  return {
    workerId: runner.workerId,
    runner,
    jobs,
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
      // After the runner: running sends have finished (or been given up) before their connections close.
      await smtpTransports.close();
      if (!deps.tenancy) await tenancy.close();
    },
  };
}
