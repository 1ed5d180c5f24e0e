import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, startTestApi, type TestApi } from "../test/test-app.js";

/** Offboarding racing the client's own secrets and datasource writes, then the code created again. */
describe("a DELETE racing secrets and datasource writes", () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  const call = (method: "GET" | "POST" | "DELETE", url: string, payload?: object) =>
    api.app.inject({ method, url, headers: admin, ...(payload ? { payload } : {}) });

  it("50 races: the re-created client never inherits the old secrets or datasource", async () => {
    const outcomes = new Map<string, number>();
    for (let round = 0; round < 50; round++) {
      const created = await call("POST", "/api/clients", { name: "Race Clinic", email: "hi@raceclinic.com" });
      expect(created.statusCode, created.body).toBe(201);
      // The DELETE starts 0–9 ms after the writes, so every interleaving comes up over the rounds.
      const [secrets, datasource, removed] = await Promise.all([
        call("POST", "/api/clients/raceclinic/secrets", { smtpPass: `old-password-${round}` }),
        call("POST", "/api/clients/raceclinic/datasource", { dbUri: `${api.mongo.uri}/old_tenant_${round}` }),
        sleep(round % 10).then(() => call("DELETE", "/api/clients/raceclinic")),
      ]);
      expect(removed.statusCode, removed.body).toBe(200);
      for (const write of [secrets, datasource]) {
        // Either it won before the offboarding (and was removed with it) or it was refused.
        expect([200, 404, 409], write.body).toContain(write.statusCode);
        outcomes.set(String(write.statusCode), (outcomes.get(String(write.statusCode)) ?? 0) + 1);
      }
      const again = await call("POST", "/api/clients", { name: "Race Clinic", email: "hi@raceclinic.com" });
      expect(again.statusCode, again.body).toBe(201);
      expect(again.json()).toMatchObject({ secretsSet: [], datasource: { registered: false, dbName: null } });
      const shown = await call("GET", "/api/clients/raceclinic");
      expect(shown.json(), `round ${round}`).toMatchObject({
        secretsSet: [],
        datasource: { registered: false, dbName: null },
      });
      expect(await api.tenancy.clients.getSecrets("raceclinic")).toEqual({});
      await expect(
        api.tenancy.tenantConnections.withDb("raceclinic", async (db) => db.databaseName),
      ).rejects.toThrow("No tenant connection for raceclinic");
      expect((await call("DELETE", "/api/clients/raceclinic")).statusCode).toBe(200);
    }
    console.log(`racing writes: ${JSON.stringify(Object.fromEntries(outcomes))}`);
  }, 240_000);

  it("a suspended client's secrets and datasource cannot be changed (409), and nothing is written", async () => {
    await call("POST", "/api/clients", { name: "Paused Clinic", email: "hi@pausedclinic.com" });
    await api.app.inject({
      method: "PATCH",
      url: "/api/clients/pausedclinic",
      headers: admin,
      payload: { status: "suspended" },
    });
    const secrets = await call("POST", "/api/clients/pausedclinic/secrets", { smtpPass: "x" });
    expect(secrets.statusCode).toBe(409);
    expect(secrets.json().message).toBe(
      "Client pausedclinic is suspended: its secrets and datasource cannot be changed",
    );
    const datasource = await call("POST", "/api/clients/pausedclinic/datasource", {
      dbUri: `${api.mongo.uri}/paused`,
    });
    expect(datasource.statusCode).toBe(409);
    expect((await call("GET", "/api/clients/pausedclinic")).json()).toMatchObject({
      secretsSet: [],
      datasource: { registered: false },
    });
  });
});
