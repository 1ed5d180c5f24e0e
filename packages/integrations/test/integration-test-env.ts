// Test support for the integrations' job tests: a fresh database of the run's embedded server, the queue,
// the tenancy services with the integrations' capabilities, clients with secrets and a tenant database,
// and one worker runner at a time. Not a *.test.ts file: no tests here.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { createTenancyServices, type TenancyServices } from "@ecodrix/domain";
import { type Config, createLogger, type Logger, loadConfig } from "@ecodrix/platform";
import {
  createQueue,
  createWorkerRunner,
  type JobDocument,
  type JobRegistry,
  type Queue,
  type WorkerRunner,
  type WorkerRunnerOptions,
} from "@ecodrix/queue";
import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import type { ObjectId } from "mongodb";
import { integrationCapabilities } from "../src/capabilities.js";

/** A fresh client code (unique per run: the tests share one database). */
export const newClientCode = (): string => `clinic-${randomBytes(4).toString("hex")}`;

type ClientSecrets = Parameters<TenancyServices["clients"]["setSecrets"]>[1];

export interface IntegrationTestEnvOptions {
  /** Names the test database (`createTestMongo(name)`). */
  name: string;
  /** Settings on top of the required ones (e.g. a fake's endpoints, `OUTBOUND_ALLOW_PRIVATE_NETWORKS`). */
  env?: Record<string, string>;
  /** Default: a silent logger. */
  logger?: Logger;
}

/** How the runner is tuned per test file; the poll intervals are short for every test. */
export type TestWorkerOptions = Pick<
  WorkerRunnerOptions,
  "concurrency" | "leaseMs" | "jobTimeoutMs" | "shutdownTimeoutMs"
>;

export interface IntegrationTestEnv {
  mongo: TestMongo;
  queue: Queue;
  tenancy: TenancyServices;
  config: Config;
  logger: Logger;
  /**
   * A new client (`clinic-<hex>` unless `clientCode` is given: secrets may name it) with these secrets
   * (none when omitted) and, unless `datasource: false`, a tenant database on the same server (dropped
   * by `close`).
   */
  createClient(options?: {
    clientCode?: string;
    secrets?: ClientSecrets;
    datasource?: boolean;
  }): Promise<string>;
  /** Starts a runner for these jobs (the one running is replaced, not stopped: stop it first). */
  startWorker(jobs: JobRegistry, options: TestWorkerOptions): void;
  /**
   * Runs the job's handler from `jobs` once, in this process, as a worker attempt would (no lease): for
   * tests of what a second run of the same job does.
   */
  runHandler(jobs: JobRegistry, job: JobDocument): Promise<unknown>;
  /** Stops the running runner, if any (call in afterEach). */
  stopWorker(): Promise<void>;
  /** Polls the job until `done` holds (or throws naming its status after `timeoutMs`). */
  until(id: ObjectId | string, done: (job: JobDocument) => boolean, timeoutMs?: number): Promise<JobDocument>;
  /** Polls the job until it is completed or failed. */
  settled(id: ObjectId | string, timeoutMs?: number): Promise<JobDocument>;
  /** Closes the tenancy services, drops the tenant databases and the test database's connection. */
  close(): Promise<void>;
}

export async function startIntegrationTestEnv(
  options: IntegrationTestEnvOptions,
): Promise<IntegrationTestEnv> {
  const logger = options.logger ?? createLogger({ level: "silent", name: `${options.name}-test` });
  const mongo = await createTestMongo(options.name);
  const config = loadConfig({
    MONGODB_URI: mongo.uri,
    CORE_API_TOKEN: "t".repeat(32),
    ENCRYPTION_KEY: randomBytes(32).toString("hex"),
    ...options.env,
  });
  // Short backoff so that retried jobs come round again within a test.
  const queue = createQueue({ db: mongo.db, backoff: { baseMs: 100, maxMs: 200 } });
  await queue.ensureIndexes();
  const tenancy = createTenancyServices({
    db: mongo.db,
    encryptionKeys: config.encryptionKeys,
    queue,
    logger,
    capabilities: integrationCapabilities,
  });
  await tenancy.ensureIndexes();
  let runner: WorkerRunner | undefined;

  async function until(
    id: ObjectId | string,
    done: (job: JobDocument) => boolean,
    timeoutMs = 20_000,
  ): Promise<JobDocument> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await queue.get(id);
      if (job && done(job)) return job;
      if (Date.now() > deadline) throw new Error(`job ${String(id)} still ${job?.status}`);
      await sleep(25);
    }
  }

  return {
    mongo,
    queue,
    tenancy,
    config,
    logger,
    async createClient({ secrets, datasource = true, ...rest } = {}) {
      const clientCode = rest.clientCode ?? newClientCode();
      await tenancy.clients.create({
        name: `Clinic ${clientCode}`,
        email: `info@${clientCode}.example`,
        clientCode,
      });
      if (secrets) await tenancy.clients.setSecrets(clientCode, secrets);
      if (datasource) {
        await tenancy.clients.setDatasource(
          clientCode,
          `${mongo.uri}/${mongo.dbName}_${clientCode.replace(/-/g, "_")}`,
        );
      }
      return clientCode;
    },
    startWorker(jobs, workerOptions) {
      runner = createWorkerRunner({ queue, jobs, logger, pollMinMs: 10, pollMaxMs: 50, ...workerOptions });
      runner.start();
    },
    async runHandler(jobs, job) {
      const registered = jobs.get(job.type);
      if (!registered) throw new Error(`no handler for ${job.type} in this registry`);
      return registered.handler({
        job,
        log: logger,
        signal: new AbortController().signal,
        progress: async () => true,
      });
    },
    async stopWorker() {
      await runner?.stop();
      runner = undefined;
    },
    until,
    settled: (id, timeoutMs) =>
      until(id, (job) => job.status === "completed" || job.status === "failed", timeoutMs),
    async close() {
      await tenancy.close();
      for (const name of (await mongo.client.db().admin().listDatabases()).databases.map((db) => db.name)) {
        if (name.startsWith(`${mongo.dbName}_`)) await mongo.client.db(name).dropDatabase();
      }
      await mongo.close();
    },
  };
}
