import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, startTestApi, type TestApi } from "../test/test-app.js";

/**
 * Two clients on one tenant database would read and write each other's leads: registering a database
 * that is already another client's is a 409 that names neither that client nor the URI's credentials.
 */
describe("a datasource already registered for another client", () => {
  let api: TestApi;
  const hostPort = () => api.mongo.uri.replace(/^mongodb:\/\//, "").replace(/\/.*$/, "");

  async function onboard(clientCode: string) {
    const response = await api.app.inject({
      method: "POST",
      url: "/api/clients",
      headers: admin,
      payload: { name: `${clientCode} clinic`, email: `a@${clientCode}.example.com`, clientCode },
    });
    expect(response.statusCode).toBe(201);
  }
  const register = (clientCode: string, dbUri: string) =>
    api.app.inject({
      method: "POST",
      url: `/api/clients/${clientCode}/datasource`,
      headers: admin,
      payload: { dbUri },
    });

  beforeAll(async () => {
    api = await startTestApi();
    for (const code of ["firstclinic", "secondclinic", "legacyclinic", "fourthclinic"]) await onboard(code);
  });
  afterAll(async () => api.close());

  it("is refused with 409, whatever the credentials or options; the owner and secrets are not named", async () => {
    const shared = `${api.mongo.dbName}_shared`;
    expect((await register("firstclinic", `mongodb://${hostPort()}/${shared}`)).statusCode).toBe(200);
    // Same host and database, with credentials and options the first did not use (refused before any connection).
    const response = await register(
      "secondclinic",
      `mongodb://mallory:s3cretPassw0rd@${hostPort()}/${shared}?retryWrites=true`,
    );
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({
      statusCode: 409,
      error: "Conflict",
      code: "ECODRIX_DATASOURCE_IN_USE",
    });
    for (const leak of ["firstclinic", "mallory", "s3cretPassw0rd"])
      expect(response.body).not.toContain(leak);
    expect(response.json().message).toMatch(
      /^body\/dbUri: the database "[^"]+" on this cluster is already registered for another client/,
    );
    const second = await api.app.inject({ method: "GET", url: "/api/clients/secondclinic", headers: admin });
    expect(second.json().datasource).toEqual({ registered: false, dbName: null });
    expect(api.logs()).not.toContain("s3cretPassw0rd");
  });

  it("another database on the same cluster is fine, and so is registering one's own database again", async () => {
    expect(
      (await register("secondclinic", `mongodb://${hostPort()}/${api.mongo.dbName}_second`)).statusCode,
    ).toBe(200);
    expect(
      (await register("firstclinic", `mongodb://${hostPort()}/${api.mongo.dbName}_shared`)).statusCode,
    ).toBe(200);
  });

  it("datasources stored before the check existed are recognised too", async () => {
    const legacy = `${api.mongo.dbName}_legacy`;
    // As an older version stored it: not bound to the client record, written straight to the collection.
    await api.tenancy.datasources.save("legacyclinic", `mongodb://${hostPort()}/${legacy}`, legacy);
    const response = await register("fourthclinic", `mongodb://${hostPort()}/${legacy}`);
    expect(response.statusCode).toBe(409);
  });
});
