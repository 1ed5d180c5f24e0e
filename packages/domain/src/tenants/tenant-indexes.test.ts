import { randomBytes } from "node:crypto";
import { createLogger } from "@ecodrix/platform";
import { createQueue } from "@ecodrix/queue";
import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Capability, defineCapability } from "../capabilities/capability.js";
import { createTenancyServices, type TenancyServices } from "./tenancy-services.js";
import { migrateTenantIndexes } from "./tenant-indexes.js";

const key = randomBytes(32);
const leads = defineCapability({
  name: "leads",
  tenantIndexes: [
    { collection: "leads", indexes: [{ key: { phone: 1 }, name: "phone_unique", unique: true }] },
  ],
});
const notes = defineCapability({
  name: "notes",
  tenantIndexes: [{ collection: "notes", indexes: [{ key: { leadId: 1, at: -1 }, name: "lead_time" }] }],
});

describe("tenant-database indexes", () => {
  let mongo: TestMongo;
  const services: TenancyServices[] = [];

  beforeAll(async () => {
    mongo = await createTestMongo("tidx");
  });
  afterAll(async () => {
    await Promise.all(services.map((service) => service.close()));
    for (const code of ["clinic-a", "clinic-b"])
      await mongo.client.db(`${mongo.dbName}_${code}`).dropDatabase();
    await mongo.close();
  });

  function tenancy(capabilities: Capability[]): TenancyServices {
    const service = createTenancyServices({
      db: mongo.db,
      encryptionKeys: [key],
      queue: createQueue({ db: mongo.db }),
      logger: createLogger({ level: "silent", name: "tidx" }),
      capabilities,
    });
    services.push(service);
    return service;
  }
  const indexNames = async (code: string, collection: string) =>
    (await mongo.client.db(`${mongo.dbName}_${code}`).collection(collection).indexes()).map(
      (index) => index.name,
    );

  it("are created when a datasource is registered, and by a migration for every tenant (idempotent)", async () => {
    const before = tenancy([leads]);
    await before.ensureIndexes();
    for (const code of ["clinic-a", "clinic-b"]) {
      await before.clients.create({ name: code, email: `a@${code}.com`, clientCode: code });
      await before.clients.setDatasource(code, `${mongo.uri}/${mongo.dbName}_${code}`);
      expect(await indexNames(code, "leads")).toContain("phone_unique");
    }
    // A release adds a capability: `tenants migrate` brings every existing tenant up to date.
    const after = tenancy([leads, notes]);
    const seen: string[] = [];
    const report = await migrateTenantIndexes({
      datasources: after.datasources,
      tenantConnections: after.tenantConnections,
      specs: after.capabilities.tenantIndexes,
      onProgress: (done, total, code) => seen.push(`${done}/${total} ${code}`),
    });
    expect(report).toEqual({ total: 2, migrated: ["clinic-a", "clinic-b"], failed: [] });
    expect(seen).toEqual(["1/2 clinic-a", "2/2 clinic-b"]);
    for (const code of ["clinic-a", "clinic-b"])
      expect(await indexNames(code, "notes")).toContain("lead_time");
    const again = await migrateTenantIndexes({
      datasources: after.datasources,
      tenantConnections: after.tenantConnections,
      specs: after.capabilities.tenantIndexes,
      only: "clinic-b",
    });
    expect(again).toEqual({ total: 1, migrated: ["clinic-b"], failed: [] });
  });

  it("a tenant without a datasource is reported as failed, the others still migrate", async () => {
    const service = tenancy([leads]);
    const report = await migrateTenantIndexes({
      datasources: { listClientCodes: async () => ["clinic-a", "ghost"] },
      tenantConnections: service.tenantConnections,
      specs: service.capabilities.tenantIndexes,
    });
    expect(report.migrated).toEqual(["clinic-a"]);
    expect(report.failed).toEqual([{ clientCode: "ghost", message: "No tenant connection for ghost" }]);
  });

  it("a capability list that declares one index twice stops start-up; two capabilities may index one collection", () => {
    expect(() => tenancy([leads, leads])).toThrow(/tenant collection leads declares index \S+ twice/);
    const fence = defineCapability({
      name: "fence",
      tenantIndexes: [{ collection: "leads", indexes: [{ key: { _id: 1, updatedAt: 1 }, name: "fence" }] }],
    });
    expect(tenancy([leads, fence]).capabilities.tenantIndexes.map((spec) => spec.collection)).toEqual([
      "leads",
      "leads",
    ]);
  });
});
