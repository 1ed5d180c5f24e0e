import { AppError, type Logger } from "@ecodrix/platform";
import { type Db, MongoClient } from "mongodb";
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
  /** An operation on a tenant cluster that gets no answer fails after this. Default 60 s. */
  socketTimeoutMs?: number;
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
  /** Leases taken by withDb (and by acquire until its caller has the Db). */
  inUse: number;
  /** Driver operations in flight on the client (connection checked out or being checked out). */
  operations: number;
  tenants: Set<string>;
}

/**
 * One MongoClient per distinct cluster (same scheme, credentials, hosts and options; the database
 * name aside), created on first use, shared by every tenant on that cluster, closed after idleMs
 * without use, and at most maxClients at once, counting clients still being created (the least
 * recently used idle client makes room). Concurrent first requests for a cluster share one creation.
 * A client counts as in use while withDb runs on it and while any operation runs on it, whoever holds
 * the Db (so a Db from db() is not closed under a running operation), and every operation counts as
 * a use for the idle timeout.
 * The datasource is read on every call (one indexed lookup), so a re-registered or deleted
 * datasource takes effect at once; only the clients are pooled.
 */
export function createTenantConnectionPool(options: TenantConnectionPoolOptions): TenantConnectionPool {
  const maxClients = options.maxClients ?? 50;
  const idleMs = options.idleMs ?? 5 * 60_000;
  const entries = new Map<string, Entry>();
  /** Clients being created (waiting for room), one per cluster key; they count against maxClients. */
  const creating = new Map<string, Promise<Entry>>();
  let closed = false;

  const timer = setInterval(() => void pool.sweepIdle(), Math.max(100, Math.min(idleMs / 2, 60_000)));
  timer.unref();

  const busy = (entry: Entry) => entry.inUse > 0 || entry.operations > 0;

  async function closeEntry(key: string, entry: Entry, reason: string): Promise<void> {
    entries.delete(key);
    options.logger?.info({ tenants: entry.tenants.size, reason }, "closing tenant database client");
    await entry.client.close().catch(() => {});
  }

  /** Called with this creation already in `creating`: evicts until the total fits within maxClients. */
  async function makeRoom(): Promise<void> {
    while (entries.size + creating.size > maxClients) {
      let victim: [string, Entry] | undefined;
      for (const candidate of entries) {
        if (busy(candidate[1])) continue;
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
      // closeEntry removes the victim from `entries` before its first await: the slot is ours at once.
      await closeEntry(victim[0], victim[1], "evicted to stay within maxClients");
    }
  }

  function newEntry(connectionUri: string): Entry {
    const timeout = options.connectTimeoutMs ?? 5_000;
    // The driver connects lazily on the first operation and reconnects by itself.
    const client = new MongoClient(connectionUri, {
      appName: "ecodrix-tenant",
      maxPoolSize: options.maxPoolSize ?? 10,
      maxIdleTimeMS: idleMs,
      serverSelectionTimeoutMS: timeout,
      connectTimeoutMS: timeout,
      // A tenant cluster that stops answering mid-operation (a network partition that drops packets)
      // must not hold an API request or a job forever: the operation fails after this and is retried.
      socketTimeoutMS: options.socketTimeoutMs ?? 60_000,
    });
    const entry: Entry = { client, lastUsed: Date.now(), inUse: 0, operations: 0, tenants: new Set() };
    // Connection-pool events (always emitted): every check-out is one operation, ended by a check-in
    // or a failed check-out.
    const started = () => {
      entry.operations += 1;
      entry.lastUsed = Date.now();
    };
    const ended = () => {
      entry.operations = Math.max(0, entry.operations - 1);
      entry.lastUsed = Date.now();
    };
    client.on("connectionCheckOutStarted", started);
    client.on("connectionCheckOutFailed", ended);
    client.on("connectionCheckedIn", ended);
    return entry;
  }

  function entryFor(clusterKey: string, connectionUri: string): Promise<Entry> {
    const existing = entries.get(clusterKey);
    if (existing) return Promise.resolve(existing);
    const pending = creating.get(clusterKey);
    if (pending) return pending;
    const creation = (async () => {
      await Promise.resolve(); // `creating` holds this creation before makeRoom counts it
      try {
        await makeRoom();
        if (closed) throw new Error("tenant connection pool is closed");
        const entry = newEntry(connectionUri);
        entries.set(clusterKey, entry);
        return entry;
      } finally {
        creating.delete(clusterKey);
      }
    })();
    creating.set(clusterKey, creation);
    return creation;
  }

  /** The tenant's Db with a lease on its client (inUse + 1): the caller must release it. */
  async function acquire(clientCode: string): Promise<{ db: Db; entry: Entry }> {
    if (closed) throw new Error("tenant connection pool is closed");
    const datasource = await options.datasources.findUri(clientCode);
    if (!datasource) throw noTenantConnection(clientCode);
    const parsed = parseMongoUri(datasource.uri);
    for (;;) {
      const entry = await entryFor(parsed.clusterKey, parsed.connectionUri);
      // Evicted or swept while this caller waited (it was not leased yet): get the current one.
      if (entries.get(parsed.clusterKey) !== entry) continue;
      entry.inUse += 1;
      entry.lastUsed = Date.now();
      entry.tenants.add(clientCode);
      return { db: entry.client.db(datasource.dbName), entry };
    }
  }

  function release(entry: Entry): void {
    entry.inUse -= 1;
    entry.lastUsed = Date.now();
  }

  const pool: TenantConnectionPool = {
    async db(clientCode) {
      const { db, entry } = await acquire(clientCode);
      // From here on the client counts as in use while an operation runs on it (connection events).
      release(entry);
      return db;
    },
    async withDb(clientCode, work) {
      const { db, entry } = await acquire(clientCode);
      try {
        return await work(db);
      } finally {
        release(entry);
      }
    },
    async sweepIdle(now = Date.now()) {
      let count = 0;
      for (const [key, entry] of [...entries]) {
        if (!busy(entry) && now - entry.lastUsed >= idleMs) {
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
