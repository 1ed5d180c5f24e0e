// Test support for the API's integration tests: a real app on a fresh database of the run's
// embedded server, with logs captured so tests can grep them. Not a *.test.ts file: no tests here.
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { createTenancyServices, type TenancyServices } from "@ecodrix/domain";
import { type Config, createLogger } from "@ecodrix/platform";
import { createQueue, type Queue } from "@ecodrix/queue";
import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { type Db, MongoClient } from "mongodb";
import { expect } from "vitest";
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

export interface OnboardOptions {
  /** Client fields over the defaults (`Clinic <code>`, `hi@<code>.com`). */
  client?: { name?: string; email?: string };
  /** Written through the secrets route after the client is created (none when omitted). */
  secrets?: Record<string, unknown>;
  /** Register the tenant database `<test db>_<clientCode>` (default true; drop it with dropTenantDatabases). */
  datasource?: boolean;
}

export interface OnboardedTenant {
  clientCode: string;
  apiKey: string;
  headers: Record<string, string>;
  /** The secrets route's answer (null: no secrets written), for tests that check what it shows. */
  secretsResponse: LightMyRequestResponse | null;
}

/**
 * Onboards a client the way an operator does, through the admin routes: created (201), its secrets
 * written (200) and its tenant database registered (200); each step is asserted.
 */
export async function onboardTenant(
  api: TestApi,
  clientCode: string,
  options: OnboardOptions = {},
): Promise<OnboardedTenant> {
  const created = await api.app.inject({
    method: "POST",
    url: "/api/clients",
    headers: admin,
    payload: { name: `Clinic ${clientCode}`, email: `hi@${clientCode}.com`, ...options.client, clientCode },
  });
  expect(created.statusCode, created.body).toBe(201);
  const apiKey = (created.json() as { apiKey: string }).apiKey;
  let secretsResponse: LightMyRequestResponse | null = null;
  if (options.secrets) {
    secretsResponse = await api.app.inject({
      method: "POST",
      url: `/api/clients/${clientCode}/secrets`,
      headers: admin,
      payload: options.secrets,
    });
    expect(secretsResponse.statusCode, secretsResponse.body).toBe(200);
  }
  if (options.datasource ?? true) {
    const datasource = await api.app.inject({
      method: "POST",
      url: `/api/clients/${clientCode}/datasource`,
      headers: admin,
      payload: { dbUri: `${api.mongo.uri}/${api.mongo.dbName}_${clientCode}` },
    });
    expect(datasource.statusCode, datasource.body).toBe(200);
  }
  return { clientCode, apiKey, headers: tenantHeaders(clientCode, apiKey), secretsResponse };
}

/** Drops the tenant databases onboardTenant registered for these clients. */
export async function dropTenantDatabases(api: TestApi, clientCodes: readonly string[]): Promise<void> {
  for (const clientCode of clientCodes) {
    await api.mongo.client.db(`${api.mongo.dbName}_${clientCode}`).dropDatabase();
  }
}
