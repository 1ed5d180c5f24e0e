import { randomBytes } from "node:crypto";
import { crmCapabilities } from "@ecodrix/crm";
import { createTenancyServices, type TenancyServices } from "@ecodrix/domain";
import { integrationCapabilities } from "@ecodrix/integrations";
import { createLogger } from "@ecodrix/platform";
import { createQueue } from "@ecodrix/queue";
import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCliProcess } from "../../test/cli-processes.js";

describe("`ecodrix tenants migrate` as a real process", () => {
  let mongo: TestMongo;
  let tenancy: TenancyServices;
  const key = randomBytes(32);
  const codes = ["migrate-a", "migrate-b"];
  const env = () => ({
    MONGODB_URI: mongo.uri,
    SERVICES_DB_NAME: mongo.dbName,
    CORE_API_TOKEN: randomBytes(24).toString("hex"),
    ENCRYPTION_KEY: key.toString("hex"),
  });
  const tenantDb = (code: string) => mongo.client.db(`${mongo.dbName}_${code}`);

  beforeAll(async () => {
    mongo = await createTestMongo("migrate");
    tenancy = createTenancyServices({
      db: mongo.db,
      encryptionKeys: [key],
      queue: createQueue({ db: mongo.db }),
      logger: createLogger({ level: "silent", name: "migrate-test" }),
      capabilities: [...integrationCapabilities, ...crmCapabilities],
    });
    await tenancy.ensureIndexes();
    for (const code of codes) {
      await tenancy.clients.create({ name: code, email: `a@${code}.com`, clientCode: code });
      await tenancy.clients.setDatasource(code, `${mongo.uri}/${mongo.dbName}_${code}`);
      // As a tenant registered before a release added its collections: no indexes yet.
      await tenantDb(code).dropDatabase();
    }
  });
  afterAll(async () => {
    for (const code of codes) await tenantDb(code).dropDatabase();
    await tenancy.close();
    await mongo.close();
  });

  it("creates every capability's indexes in every tenant database, again harmlessly", async () => {
    const expected = tenancy.capabilities.tenantIndexes;
    expect(expected.length).toBeGreaterThan(0);
    const run = await runCliProcess(["tenants", "migrate"], env());
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("progress 2/2 migrate-b");
    expect(run.stdout).toMatch(/migrated 2 of 2 tenant databases/);
    for (const code of codes) {
      for (const spec of expected) {
        const names = (await tenantDb(code).collection(spec.collection).indexes()).map((index) => index.name);
        for (const index of spec.indexes) expect(names, `${code} ${spec.collection}`).toContain(index.name);
      }
    }
    const again = await runCliProcess(["tenants", "migrate", "--client", "migrate-a"], env());
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/migrated 1 of 1 tenant databases/);
  });

  it("a client without a datasource is reported, with exit code 1", async () => {
    const run = await runCliProcess(["tenants", "migrate", "--client", "ghost"], env());
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("ghost: No tenant connection for ghost");
  });
});
