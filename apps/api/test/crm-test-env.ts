// Test support for the CRM's integration tests: the real API (test-app.ts) and a real worker built by
// the worker's own composition root, on one test database, with tenants whose datasources are
// databases of the same server. Not a *.test.ts file: no tests here.
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { createLogger, loadConfig } from "@ecodrix/platform";
import type { JobDocument } from "@ecodrix/queue";
import { buildWorker, jobDefinitions, type Worker } from "@ecodrix/worker";
import type { Db } from "mongodb";
import { expect } from "vitest";
import {
  ADMIN_TOKEN,
  admin,
  startTestApi,
  type TestApi,
  type TestApiOptions,
  tenantHeaders,
} from "./test-app.js";

export interface Tenant {
  clientCode: string;
  apiKey: string;
  headers: Record<string, string>;
  /** The tenant's own database (null: no datasource registered). */
  db: Db | null;
}

export interface CrmTestEnv {
  api: TestApi;
  worker: Worker | null;
  tenants: Record<string, Tenant>;
  /** Jobs of one type (and tenant), oldest first. */
  jobs(type: string, clientCode?: string): Promise<JobDocument[]>;
  /** Polls until `check` returns a truthy value (or fails the test after `timeoutMs`). */
  until<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

export interface CrmTestOptions {
  /** Client codes to onboard with a datasource each. */
  tenants: string[];
  /** Client codes to onboard without a datasource. */
  withoutDatasource?: string[];
  /** Start an in-process worker running the product's job definitions (default true). */
  worker?: boolean;
  /** The client's `defaultCountry` per code. */
  countries?: Record<string, string>;
  /** More settings for the worker (e.g. a fake's endpoints: `GOOGLE_*`). */
  workerEnv?: Record<string, string>;
  /** Settings of the API (e.g. `outboundAllowPrivateNetworks` for webhook URLs on a local receiver). */
  apiConfig?: TestApiOptions["config"];
  /**
   * Run every job definition, `send_whatsapp` included (default false: those jobs stay pending so the
   * tests can read what the integration would receive). Point the integrations at fakes via `workerEnv`.
   */
  allDefinitions?: boolean;
}

/** WhatsApp templates as the template sync stores them (the fixture of a synced tenant). */
export async function syncedTemplates(
  db: Db,
  templates: { name: string; language: string; status?: string }[],
): Promise<void> {
  await db
    .collection("whatsapp_templates")
    .insertMany(
      templates.map((template) => ({ status: "APPROVED", category: "UTILITY", components: [], ...template })),
    );
}

export async function startCrmTestEnv(options: CrmTestOptions): Promise<CrmTestEnv> {
  const api = await startTestApi(options.apiConfig ? { config: options.apiConfig } : {});
  const tenants: Record<string, Tenant> = {};
  const codes = [...options.tenants, ...(options.withoutDatasource ?? [])];
  for (const clientCode of codes) {
    const created = await api.app.inject({
      method: "POST",
      url: "/api/clients",
      headers: admin,
      payload: {
        name: `${clientCode} clinic`,
        email: `hello@${clientCode}.example.com`,
        clientCode,
        ...(options.countries?.[clientCode] ? { defaultCountry: options.countries[clientCode] } : {}),
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const { apiKey } = created.json() as { apiKey: string };
    let db: Db | null = null;
    if (options.tenants.includes(clientCode)) {
      const dbName = `${api.mongo.dbName}_${clientCode.replace(/-/g, "_")}`;
      const registered = await api.app.inject({
        method: "POST",
        url: `/api/clients/${clientCode}/datasource`,
        headers: admin,
        payload: { dbUri: `${api.mongo.uri}/${dbName}` },
      });
      expect(registered.statusCode, registered.body).toBe(200);
      db = api.mongo.client.db(dbName);
    }
    tenants[clientCode] = { clientCode, apiKey, headers: tenantHeaders(clientCode, apiKey), db };
  }

  let worker: Worker | null = null;
  if (options.worker ?? true) {
    const config = loadConfig({
      NODE_ENV: "test",
      MONGODB_URI: api.mongo.uri,
      CORE_API_TOKEN: ADMIN_TOKEN,
      ENCRYPTION_KEY: (api.keys[0] ?? randomBytes(32)).toString("hex"),
      WORKER_POLL_MIN_MS: "10",
      WORKER_POLL_MAX_MS: "50",
      WORKER_SHUTDOWN_TIMEOUT_MS: "2000",
      LOG_LEVEL: "silent",
      ...options.workerEnv,
    });
    const quiet = new Writable({ write: (_chunk, _encoding, callback) => callback() });
    worker = buildWorker({
      config,
      logger: createLogger({ level: "warn", name: "ecodrix-worker-test", destination: quiet }),
      db: api.db,
      queue: api.queue,
      tenancy: api.tenancy,
      schedules: [],
      // By default every definition but send_whatsapp: those jobs stay pending, so the CRM tests assert on
      // exactly what the WhatsApp integration receives (crm-actions-e2e.test.ts runs them all, on fakes).
      definitions: options.allDefinitions
        ? jobDefinitions
        : jobDefinitions.filter((definition) => definition.type !== "send_whatsapp"),
    });
    worker.start();
  }

  return {
    api,
    worker,
    tenants,
    jobs: (type, clientCode) =>
      api.queue.jobs
        .find({ type, ...(clientCode ? { clientCode } : {}) })
        .sort({ _id: 1 })
        .toArray(),
    async until(what, check, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await check();
        if (value) return value;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(25);
      }
    },
    async close() {
      await worker?.stop();
      for (const tenant of Object.values(tenants)) await tenant.db?.dropDatabase().catch(() => {});
      await api.close();
    },
  };
}
