import { type Db, MongoClient } from "mongodb";
import { AppError } from "../errors/app-error.js";
import type { Logger } from "../logging/logger.js";
import type { DatasourceRepository } from "./datasource-repository.js";
import { parseMongoUri } from "./mongo-uri.js";

/** The runbook §8 text for a tenant without a registered database. */
export function noTenantConnection(clientCode: string): AppError {
  return new AppError("ECODRIX_TENANT_NO_CONNECTION", `No tenant connection for ${clientCode}`, 409, {
    retryable: false,
  });
}

export interface TenantConnectionPoolOptions {
  datasources: Pick<DatasourceRepository, "findUri">;
  logger?: Pick<Logger, "info" | "warn">;
  /** At most this many MongoClients (distinct clusters) open at once. Default 50. */
  maxClients?: number;
  /** A client unused this long is closed. Default 5 minutes. */
  idleMs?: number;
  /** Connections per MongoClient (the driver's maxPoolSize). Default 10. */
  maxPoolSize?: number;
  /** Server selection / connect timeout for tenant clusters. Default 5 s. */
  connectTimeoutMs?: number;
}

export interface TenantConnectionPool {
  /** The tenant's database on a shared client; `No tenant connection for <code>` when none is registered. */
  db(clientCode: string): Promise<Db>;
  /** Runs `work` on the tenant's database; the client is not closed for idleness while it runs. */
  withDb<T>(clientCode: string, work: (db: Db) => Promise<T>): Promise<T>;
  /** Closes clients idle for longer than idleMs; returns how many it closed. */
  sweepIdle(now?: number): Promise<number>;
  stats(): { clients: number; tenants: number; inUse: number };
  close(): Promise<void>;
}

interface Entry {
  client: MongoClient;
  lastUsed: number;
  inUse: number;
  tenants: Set<string>;
}

/**
 * One MongoClient per distinct cluster (same scheme, credentials, hosts and options; the database
 * name aside), created on first use, shared by every tenant on that cluster, closed after idleMs
 * without use, and at most maxClients at once (the least recently used idle client makes room).
 * The datasource is read on every call (one indexed lookup), so a re-registered or deleted
 * datasource takes effect at once; only the clients are pooled.
 */
export function createTenantConnectionPool(options: TenantConnectionPoolOptions): TenantConnectionPool {
  const maxClients = options.maxClients ?? 50;
  const idleMs = options.idleMs ?? 5 * 60_000;
  const entries = new Map<string, Entry>();
  let closed = false;

  const timer = setInterval(() => void pool.sweepIdle(), Math.max(100, Math.min(idleMs / 2, 60_000)));
  timer.unref();

  async function closeEntry(key: string, entry: Entry, reason: string): Promise<void> {
    entries.delete(key);
    options.logger?.info({ tenants: entry.tenants.size, reason }, "closing tenant database client");
    await entry.client.close().catch(() => {});
  }

  async function makeRoom(): Promise<void> {
    if (entries.size < maxClients) return;
    let victim: [string, Entry] | undefined;
    for (const candidate of entries) {
      if (candidate[1].inUse > 0) continue;
      if (!victim || candidate[1].lastUsed < victim[1].lastUsed) victim = candidate;
    }
    if (!victim) {
      throw new AppError(
        "ECODRIX_TENANT_POOL_EXHAUSTED",
        `All ${maxClients} tenant database clients are busy; retry shortly`,
        503,
        { retryable: true, retryAfterMs: 1000, headers: { "retry-after": "1" } },
      );
    }
    await closeEntry(victim[0], victim[1], "evicted to stay within maxClients");
  }

  async function acquire(clientCode: string): Promise<{ db: Db; entry: Entry }> {
    if (closed) throw new Error("tenant connection pool is closed");
    const datasource = await options.datasources.findUri(clientCode);
    if (!datasource) throw noTenantConnection(clientCode);
    const parsed = parseMongoUri(datasource.uri);
    let entry = entries.get(parsed.clusterKey);
    if (!entry) {
      await makeRoom();
      entry = entries.get(parsed.clusterKey);
    }
    if (!entry) {
      const timeout = options.connectTimeoutMs ?? 5_000;
      entry = {
        // The driver connects lazily on the first operation and reconnects by itself.
        client: new MongoClient(parsed.connectionUri, {
          appName: "ecodrix-tenant",
          maxPoolSize: options.maxPoolSize ?? 10,
          maxIdleTimeMS: idleMs,
          serverSelectionTimeoutMS: timeout,
          connectTimeoutMS: timeout,
        }),
        lastUsed: Date.now(),
        inUse: 0,
        tenants: new Set(),
      };
      entries.set(parsed.clusterKey, entry);
    }
    entry.lastUsed = Date.now();
    entry.tenants.add(clientCode);
    return { db: entry.client.db(datasource.dbName), entry };
  }

  const pool: TenantConnectionPool = {
    async db(clientCode) {
      return (await acquire(clientCode)).db;
    },
    async withDb(clientCode, work) {
      const { db, entry } = await acquire(clientCode);
      entry.inUse += 1;
      try {
        return await work(db);
      } finally {
        entry.inUse -= 1;
        entry.lastUsed = Date.now();
      }
    },
    async sweepIdle(now = Date.now()) {
      let count = 0;
      for (const [key, entry] of [...entries]) {
        if (entry.inUse === 0 && now - entry.lastUsed >= idleMs) {
          await closeEntry(key, entry, "idle");
          count += 1;
        }
      }
      return count;
    },
    stats() {
      let tenants = 0;
      let inUse = 0;
      for (const entry of entries.values()) {
        tenants += entry.tenants.size;
        inUse += entry.inUse;
      }
      return { clients: entries.size, tenants, inUse };
    },
    async close() {
      closed = true;
      clearInterval(timer);
      await Promise.all([...entries].map(([key, entry]) => closeEntry(key, entry, "shutdown")));
    },
  };
  return pool;
}
