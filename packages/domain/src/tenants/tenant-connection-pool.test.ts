import { randomBytes } from "node:crypto";
import { createServer, type Socket, connect as tcpConnect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSecretBox } from "../crypto/secret-box.js";
import { createDatasourceRepository, type DatasourceRepository } from "./datasource-repository.js";
import { parseMongoUri } from "./mongo-uri.js";
import { createTenantConnectionPool } from "./tenant-connection-pool.js";

describe("tenant connection strings", () => {
  it("share a cluster key when only the database differs, or hosts/options are reordered", () => {
    const a = parseMongoUri("mongodb://u:p@h1:27017,h2:27017/clinic_a?retryWrites=true&w=majority");
    const b = parseMongoUri("mongodb://u:p@H2:27017,h1:27017/clinic_b?w=majority&retryWrites=true");
    expect(a.dbName).toBe("clinic_a");
    expect(b.dbName).toBe("clinic_b");
    // Credentials without authSource authenticate against the path database: different logins.
    expect(a.clusterKey).not.toBe(b.clusterKey);
    const c = parseMongoUri("mongodb+srv://u:p@cluster0.abc.mongodb.net/clinic_a?authSource=admin");
    const d = parseMongoUri("mongodb+srv://u:p@cluster0.abc.mongodb.net/clinic_b?authSource=admin");
    expect(c.clusterKey).toBe(d.clusterKey);
    expect(c.connectionUri).toBe("mongodb+srv://u:p@cluster0.abc.mongodb.net/?authSource=admin");
    expect(
      parseMongoUri("mongodb://u:other@cluster0.abc.mongodb.net/x?authSource=admin").clusterKey,
    ).not.toBe(parseMongoUri("mongodb://u:p@cluster0.abc.mongodb.net/x?authSource=admin").clusterKey);
    expect(c.clusterKey).not.toContain("p@");
  });

  it("refuse what is not a MongoDB connection string, without echoing it", () => {
    for (const bad of ["https://x", "mongodb://", "mongodb://host name/x", "mongodb://h/bad$name"]) {
      expect(() => parseMongoUri(bad), bad).toThrow(/^body\/dbUri is not a valid MongoDB connection string/);
    }
  });
});

describe("tenant connection pool", () => {
  let mongo: TestMongo;
  let datasources: DatasourceRepository;

  beforeAll(async () => {
    mongo = await createTestMongo("pool");
    datasources = createDatasourceRepository({
      db: mongo.db,
      crypto: createSecretBox({ keys: [randomBytes(32)] }),
    });
    await datasources.ensureIndexes();
  });
  afterAll(async () => {
    for (const code of ["a", "b", "c"]) await mongo.client.db(`${mongo.dbName}_${code}`).dropDatabase();
    await mongo.close();
  });

  it("one client per cluster shared by its tenants, lazily, closed when idle, bounded in total", async () => {
    await datasources.save("clinic-a", `${mongo.uri}/${mongo.dbName}_a`, `${mongo.dbName}_a`);
    await datasources.save("clinic-b", `${mongo.uri}/${mongo.dbName}_b`, `${mongo.dbName}_b`);
    // Same server spelled differently (localhost vs 127.0.0.1): a distinct cluster key, a second client.
    await datasources.save(
      "clinic-c",
      `${mongo.uri.replace("127.0.0.1", "localhost")}/${mongo.dbName}_c`,
      `${mongo.dbName}_c`,
    );
    const pool = createTenantConnectionPool({ datasources, idleMs: 60_000, maxClients: 1 });
    try {
      expect(pool.stats().clients).toBe(0); // lazy
      const a = await pool.db("clinic-a");
      const b = await pool.db("clinic-b");
      await a.collection("leads").insertOne({ tenant: "a" });
      await b.collection("leads").insertOne({ tenant: "b" });
      expect(pool.stats()).toMatchObject({ clients: 1, tenants: 2 });
      expect(a.client).toBe(b.client);
      expect(await b.collection("leads").countDocuments({ tenant: "a" })).toBe(0);

      // maxClients 1: the third tenant's cluster evicts the idle one.
      const c = await pool.db("clinic-c");
      await c.collection("leads").insertOne({ tenant: "c" });
      expect(pool.stats().clients).toBe(1);

      // A client in use is never evicted: the pool says it is exhausted instead.
      await pool.withDb("clinic-c", async () => {
        await expect(pool.db("clinic-a")).rejects.toMatchObject({
          code: "ECODRIX_TENANT_POOL_EXHAUSTED",
          statusCode: 503,
        });
      });

      expect(await pool.sweepIdle(Date.now() + 30_000)).toBe(0);
      expect(await pool.sweepIdle(Date.now() + 61_000)).toBe(1);
      expect(pool.stats().clients).toBe(0);
      // …and comes back on the next use.
      expect(await (await pool.db("clinic-a")).collection("leads").countDocuments()).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it("concurrent first requests for one cluster, while the pool is full, create exactly one client", async () => {
    await datasources.save("clinic-a", `${mongo.uri}/${mongo.dbName}_a`, `${mongo.dbName}_a`);
    await datasources.save(
      "clinic-c",
      `${mongo.uri.replace("127.0.0.1", "localhost")}/${mongo.dbName}_c`,
      `${mongo.dbName}_c`,
    );
    const pool = createTenantConnectionPool({ datasources, idleMs: 60_000, maxClients: 1 });
    try {
      const first = await pool.db("clinic-a");
      await first.collection("leads").countDocuments();
      // The pool is full: each first request for clinic-c's cluster has to wait for an eviction.
      const dbs = await Promise.all(Array.from({ length: 8 }, () => pool.db("clinic-c")));
      expect(new Set(dbs.map((db) => db.client)).size).toBe(1);
      expect(pool.stats()).toMatchObject({ clients: 1, inUse: 0 });
      expect(await dbs[0]?.collection("leads").countDocuments()).toBeGreaterThanOrEqual(0);
      // Every client handed out is the pool's current one: none was replaced and left open.
      const again = await pool.db("clinic-c");
      expect(again.client).toBe(dbs[0]?.client);
    } finally {
      await pool.close();
    }
  });

  it("never holds more than maxClients, counting clients still being created", async () => {
    await datasources.save("clinic-a", `${mongo.uri}/${mongo.dbName}_a`, `${mongo.dbName}_a`);
    await datasources.save("clinic-b", `${mongo.uri}/${mongo.dbName}_b?appName=b`, `${mongo.dbName}_b`);
    await datasources.save(
      "clinic-c",
      `${mongo.uri.replace("127.0.0.1", "localhost")}/${mongo.dbName}_c`,
      `${mongo.dbName}_c`,
    );
    const pool = createTenantConnectionPool({ datasources, idleMs: 60_000, maxClients: 1 });
    try {
      await (await pool.db("clinic-a")).collection("leads").countDocuments();
      // Alternating clusters: each new client has to evict the other one (or find every slot taken).
      let most = 0;
      let sampling = true;
      const sample = () => {
        most = Math.max(most, pool.stats().clients);
        if (sampling) setImmediate(sample);
      };
      sample();
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, (_, index) =>
          pool.db(index % 2 === 0 ? "clinic-b" : "clinic-c").finally(sample),
        ),
      );
      sampling = false;
      expect(most).toBe(1);
      expect(pool.stats().clients).toBe(1);
      for (const result of results) {
        if (result.status === "rejected") {
          expect(result.reason).toMatchObject({ code: "ECODRIX_TENANT_POOL_EXHAUSTED", statusCode: 503 });
        }
      }
    } finally {
      await pool.close();
    }
  });

  it("an operation on a Db from db() counts as use: the idle timeout runs from the last operation", async () => {
    await datasources.save("clinic-a", `${mongo.uri}/${mongo.dbName}_a`, `${mongo.dbName}_a`);
    const pool = createTenantConnectionPool({ datasources, idleMs: 1_000 });
    try {
      const db = await pool.db("clinic-a");
      await sleep(600);
      await db.collection("leads").countDocuments();
      // 1.1 s after db(), 0.5 s after the last operation: not idle.
      expect(await pool.sweepIdle(Date.now() + 500)).toBe(0);
      expect(pool.stats().clients).toBe(1);
      expect(await pool.sweepIdle(Date.now() + 1_000)).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it("a tenant without a datasource gets `No tenant connection for <clientCode>`", async () => {
    const pool = createTenantConnectionPool({ datasources });
    try {
      await expect(pool.db("nosuch")).rejects.toMatchObject({
        message: "No tenant connection for nosuch",
        code: "ECODRIX_TENANT_NO_CONNECTION",
      });
    } finally {
      await pool.close();
    }
  });

  it("an operation on a tenant cluster that stops answering fails after the socket timeout instead of hanging", async () => {
    // A TCP relay to the test server that can go silent: it keeps the connections open and drops every
    // byte, as a network partition does (no RST, no FIN: only a timeout can notice).
    const target = new URL(mongo.uri);
    let silent = false;
    const sockets: Socket[] = [];
    const relay = createServer((inbound) => {
      const outbound = tcpConnect(Number(target.port), target.hostname);
      sockets.push(inbound, outbound);
      inbound.on("data", (chunk) => !silent && outbound.write(chunk));
      outbound.on("data", (chunk) => !silent && inbound.write(chunk));
      inbound.on("error", () => outbound.destroy());
      outbound.on("error", () => inbound.destroy());
      inbound.on("close", () => outbound.destroy());
      outbound.on("close", () => inbound.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
    const port = (relay.address() as { port: number }).port;
    await datasources.save(
      "clinic-silent",
      `mongodb://127.0.0.1:${port}/${mongo.dbName}_a?directConnection=true`,
      `${mongo.dbName}_a`,
    );
    const pool = createTenantConnectionPool({ datasources, socketTimeoutMs: 1_000, connectTimeoutMs: 1_000 });
    try {
      const db = await pool.db("clinic-silent");
      expect(await db.collection("leads").countDocuments()).toBeGreaterThanOrEqual(0);
      silent = true;
      const started = Date.now();
      await expect(db.collection("leads").findOne({})).rejects.toThrow();
      // Without a socket timeout only the driver's 10 s heartbeat notices (about 12 s here); with it, ~1 s.
      expect(Date.now() - started).toBeLessThan(6_000);
    } finally {
      await pool.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => relay.close(() => resolve()));
    }
  });
});
