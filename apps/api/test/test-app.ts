// Test support for the API's integration tests: a real app on a fresh database of the run's
// embedded server, with logs captured so tests can grep them. Not a *.test.ts file: no tests here.
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { createTenancyServices, type TenancyServices } from "@ecodrix/domain";
import { type Config, createLogger } from "@ecodrix/platform";
import { createQueue, type Queue } from "@ecodrix/queue";
import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import type { FastifyInstance } from "fastify";
import { type Db, MongoClient } from "mongodb";
import { buildApp, productCapabilities } from "../src/app.js";
import type { FailedAuthLimiterOptions } from "../src/plugins/auth-rate-limiter.js";

export const ADMIN_TOKEN = `test_${randomBytes(24).toString("hex")}`;

export interface TestApi {
  app: FastifyInstance;
  mongo: TestMongo;
  db: Db;
  queue: Queue;
  tenancy: TenancyServices;
  keys: Buffer[];
  /** Everything the app logged so far (JSON lines). */
  logs(): string;
  close(): Promise<void>;
}

export interface TestApiOptions {
  keys?: Buffer[];
  authRateLimit?: FailedAuthLimiterOptions;
  adminAuthRateLimit?: FailedAuthLimiterOptions;
  trustProxy?: Config["trustProxy"];
  /** Told of every tenant-scope route as it is registered. */
  onTenantRoute?: (route: { method: string; url: string }) => void;
  /** Reuse another TestApi's database (a second API process on the same data). */
  shareDatabaseOf?: TestApi;
  /** Google settings (e.g. pointing at the Google fake), the public URL, sandbox mode. */
  config?: Partial<
    Pick<Config, "google" | "outboundAllowPrivateNetworks" | "publicUrl" | "sandbox" | "sandboxOutboxUrl">
  >;
  /** The console build to serve at /console/ (default: apps/console/dist/web). */
  consoleRoot?: string;
}

export async function startTestApi(options: TestApiOptions = {}): Promise<TestApi> {
  const keys = options.keys ?? [randomBytes(32)];
  let mongo: TestMongo;
  let db: Db;
  let ownClient: MongoClient | undefined;
  if (options.shareDatabaseOf) {
    // A separate MongoClient, as a second API process would have.
    mongo = options.shareDatabaseOf.mongo;
    ownClient = new MongoClient(mongo.uri);
    await ownClient.connect();
    db = ownClient.db(mongo.dbName);
  } else {
    mongo = await createTestMongo("api");
    db = mongo.db;
  }
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  const logger = createLogger({ level: "debug", name: "ecodrix-api-test", destination });
  const queue = createQueue({ db });
  await queue.ensureIndexes();
  const tenancy = createTenancyServices({
    db,
    encryptionKeys: keys,
    queue,
    logger,
    capabilities: productCapabilities,
    datasourceTimeoutMs: 1_500,
  });
  const app = await buildApp({
    config: {
      coreApiToken: ADMIN_TOKEN,
      encryptionKeys: keys,
      trustProxy: options.trustProxy ?? false,
      ...options.config,
    },
    db,
    logger,
    queue,
    tenancy,
    authRateLimit: options.authRateLimit ?? { maxFailures: 1_000, maxFailuresPerIp: 10_000 },
    adminAuthRateLimit: options.adminAuthRateLimit ?? { maxFailures: 1_000, maxFailuresPerIp: 10_000 },
    ...(options.onTenantRoute ? { onTenantRoute: options.onTenantRoute } : {}),
    ...(options.consoleRoot ? { consoleRoot: options.consoleRoot } : {}),
  });
  await app.ready();
  return {
    app,
    mongo,
    db,
    queue,
    tenancy,
    keys,
    logs: () => chunks.join(""),
    async close() {
      await app.close();
      await tenancy.close();
      if (ownClient) await ownClient.close();
      else await mongo.close();
    },
  };
}

export const admin = { "x-core-api-key": ADMIN_TOKEN };
export const tenantHeaders = (clientCode: string, apiKey: string) => ({
  "x-client-code": clientCode,
  "x-api-key": apiKey,
});
