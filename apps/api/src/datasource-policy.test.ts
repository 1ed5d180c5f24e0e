import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, startTestApi, type TestApi } from "../test/test-app.js";

/** What a datasource may not be (runbook §1 step 3): refused with a 4xx before any connection is made. */
describe("datasource registration policy", () => {
  let api: TestApi;
  // A port nothing listens on: a URI that got as far as connecting would take the 1.5 s timeout and 422.
  const unreachable = "mongodb://clinicuser:S3cretPw@127.0.0.1:1";
  const databases: string[] = [];

  beforeAll(async () => {
    api = await startTestApi();
    for (const [name, email] of [
      ["Alpha Clinic", "a@alphaclinic.com"],
      ["Beta Clinic", "b@betaclinic.com"],
    ] as const) {
      const created = await api.app.inject({
        method: "POST",
        url: "/api/clients",
        headers: admin,
        payload: { name, email },
      });
      expect(created.statusCode).toBe(201);
    }
  });
  afterAll(async () => {
    for (const name of databases) await api.mongo.client.db(name).dropDatabase();
    await api.close();
  });

  const register = (clientCode: string, dbUri: string) =>
    api.app.inject({
      method: "POST",
      url: `/api/clients/${clientCode}/datasource`,
      headers: admin,
      payload: { dbUri },
    });

  it("the central database, admin, local and config are refused, whatever their case and cluster", async () => {
    const central = api.db.databaseName;
    for (const name of [central, central.toUpperCase(), "admin", "ADMIN", "local", "config"]) {
      const started = Date.now();
      const response = await register("alphaclinic", `${unreachable}/${name}?authSource=admin`);
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(response.statusCode, name).toBe(400);
      expect(response.json()).toEqual({
        statusCode: 400,
        error: "Bad Request",
        message: `body/dbUri names the database "${name}", which cannot be a tenant database (admin, local, config and the central database ${central} are reserved)`,
        code: "ECODRIX_DATASOURCE_DATABASE_RESERVED",
      });
      expect(response.body).not.toContain("S3cretPw");
    }
    // The central server with the central database, as the runbook's local example would spell it.
    expect((await register("alphaclinic", `${api.mongo.uri}/${central}`)).statusCode).toBe(400);
    expect(await api.db.collection("client_datasources").countDocuments()).toBe(0);
  });

  it("options outside the documented safe list are refused, naming the option, never its value", async () => {
    for (const [query, named] of [
      ["tlsCAFile=/etc/ssl/private/ca.pem", 'option "tlsCAFile"'],
      ["TLSCAFILE=/etc/ssl/private/ca.pem", 'option "TLSCAFILE"'],
      ["tls=true&tlsCertificateKeyFile=/root/.ssh/id_rsa", 'option "tlsCertificateKeyFile"'],
      ["proxyHost=10.0.0.5&proxyPort=1080", 'option "proxyHost"'],
      ["tlsInsecure=true", 'option "tlsInsecure"'],
      ["authMechanism=MONGODB-AWS", "option authMechanism=MONGODB-AWS"],
      ["authMechanism=mongodb-x509", "option authMechanism=MONGODB-X509"],
      ["authMechanismProperties=AWS_SESSION_TOKEN:S3cretPw", 'option "authMechanismProperties"'],
    ] as const) {
      const response = await register("alphaclinic", `${unreachable}/alpha?${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(response.json().code).toBe("ECODRIX_DATASOURCE_URI_OPTION_REFUSED");
      expect(response.json().message).toMatch(
        new RegExp(
          `^body/dbUri ${named.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is not allowed: a tenant connection string may use only appName, authMechanism, authSource, `,
        ),
      );
      for (const secret of ["S3cretPw", "/etc/ssl", "/root", "10.0.0.5"])
        expect(response.body).not.toContain(secret);
    }
    expect(await api.db.collection("client_datasources").countDocuments()).toBe(0);
    // The usual Atlas options are fine.
    const name = `${api.mongo.dbName}_alpha`;
    databases.push(name);
    const ok = await register(
      "alphaclinic",
      `${api.mongo.uri}/${name}?retryWrites=true&w=majority&appName=clinic&readPreference=primary`,
    );
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it("another client's database on the same cluster is refused, naming neither that client nor credentials", async () => {
    const shared = `${api.mongo.dbName}_shared`;
    databases.push(shared);
    expect((await register("alphaclinic", `${api.mongo.uri}/${shared}`)).statusCode).toBe(200);
    // The same server spelled differently, with credentials and another case: still alpha's database.
    const port = new URL(api.mongo.uri).port;
    for (const uri of [
      `${api.mongo.uri}/${shared}`,
      `mongodb://betauser:B3taPw@localhost:${port}/${shared.toUpperCase()}?authSource=admin`,
      `mongodb://betauser:B3taPw@db-replica.example.net:27017,127.0.0.1:${port}/${shared}?replicaSet=rs0`,
    ]) {
      const response = await register("betaclinic", uri);
      expect(response.statusCode, uri).toBe(409);
      expect(response.json()).toMatchObject({
        code: "ECODRIX_DATASOURCE_IN_USE",
        message: expect.stringMatching(
          /^body\/dbUri: the database "[^"]+" on this cluster is already registered for another client/,
        ),
      });
      for (const leak of ["alpha", "B3taPw", "betauser"])
        expect(response.body.toLowerCase()).not.toContain(leak.toLowerCase());
    }
    expect(await api.tenancy.datasources.findDbName("betaclinic")).toBeNull();
    // A client may re-register its own database; another cluster's database of that name is another database.
    expect((await register("alphaclinic", `${api.mongo.uri}/${shared}`)).statusCode).toBe(200);
    const elsewhere = await register("betaclinic", `mongodb://127.0.0.2:1/${shared}`);
    expect(elsewhere.json().code).toBe("ECODRIX_DATASOURCE_UNREACHABLE");
    // Once alpha is offboarded, its database can be given to beta.
    expect(
      (await api.app.inject({ method: "DELETE", url: "/api/clients/alphaclinic", headers: admin }))
        .statusCode,
    ).toBe(200);
    expect((await register("betaclinic", `${api.mongo.uri}/${shared}`)).statusCode).toBe(200);
  });
});
