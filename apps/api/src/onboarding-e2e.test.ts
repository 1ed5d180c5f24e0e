import { randomBytes } from "node:crypto";
import { reencryptStoredSecrets } from "@ecodrix/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, startTestApi, type TestApi } from "../test/test-app.js";

/**
 * The product's runbook walked through real HTTP against the embedded server: §1 steps 1, 2, 3, 6
 * and 8, §3 (rotate a key), §4 (rotate ENCRYPTION_KEY), §8 (its error texts) and §10 (offboarding),
 * with the runbook's own paths, headers and bodies.
 */
describe("runbook onboarding → key rotation → ENCRYPTION_KEY rotation → offboarding, over HTTP", () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  let api: TestApi;
  let BASE: string;
  const ADMIN_KEY = ADMIN_TOKEN;
  let apiKey = "";
  let tenantDbName = "";
  const whatsappToken = `EAAG${randomBytes(16).toString("hex")}`;
  const smtpPass = `pw-${randomBytes(8).toString("hex")}`;
  const webhookSecret = randomBytes(16).toString("hex");

  async function call(method: string, path: string, headers: Record<string, string>, body?: unknown) {
    const response = await fetch(`${BASE}${path}`, {
      method,
      headers: body === undefined ? headers : { ...headers, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  }
  const asAdmin = (method: string, path: string, body?: unknown) =>
    call(method, path, { "x-core-api-key": ADMIN_KEY }, body);
  const asTenant = (method: string, path: string, key: string, body?: unknown) =>
    call(method, path, { "x-api-key": key, "x-client-code": "sharmaclinic" }, body);

  beforeAll(async () => {
    api = await startTestApi({ keys: [oldKey] });
    BASE = await api.app.listen({ port: 0, host: "127.0.0.1" });
    tenantDbName = `tenant_sharma_${randomBytes(3).toString("hex")}`;
  });
  afterAll(() => api.close());

  it("step 1: creates the client; the code is derived as sharmaclinic and the key is shown once", async () => {
    const created = await asAdmin("POST", "/api/clients", {
      name: "Dr. Sharma Clinic",
      email: "contact@sharmaclinic.com",
    });
    expect(created.status).toBe(201);
    expect(created.body.clientCode).toBe("sharmaclinic");
    expect(created.body.apiKey).toMatch(/^ecx_live_[A-Za-z0-9_-]{43}$/);
    apiKey = created.body.apiKey;
    expect(created.body).not.toHaveProperty("apiKeyHash");

    const again = await asAdmin("POST", "/api/clients", {
      name: "Dr. Sharma Clinic",
      email: "x@sharmaclinic.com",
    });
    expect(again.status).toBe(409);
    expect(again.body.message).toBe("ClientCode sharmaclinic already exists");

    const shown = await asAdmin("GET", "/api/clients/sharmaclinic");
    expect(shown.status).toBe(200);
    expect(JSON.stringify(shown.body)).not.toContain(apiKey);
    expect(shown.body).not.toHaveProperty("apiKey");
    const stored = await api.db.collection("clients").findOne({ clientCode: "sharmaclinic" });
    expect(JSON.stringify(stored)).not.toContain(apiKey);
  });

  it("step 2: stores the secrets encrypted and answers with which are set, never their values", async () => {
    const response = await asAdmin("POST", "/api/clients/sharmaclinic/secrets", {
      whatsappToken,
      whatsappBusinessId: "1234567890",
      whatsappPhoneNumberId: "9876543210",
      whatsappWebhookToken: "verify-me",
      smtpHost: "smtp.gmail.com",
      smtpPort: 465,
      smtpUser: "clinic@gmail.com",
      smtpPass,
      smtpFrom: "Dr. Sharma Clinic <clinic@gmail.com>",
      automationWebhookSecret: webhookSecret,
    });
    expect(response.status).toBe(200);
    expect(response.body.secretsSet).toHaveLength(10);
    expect(response.body).not.toHaveProperty("automationWebhookSecret");
    for (const secret of [whatsappToken, smtpPass, webhookSecret]) {
      expect(JSON.stringify(response.body)).not.toContain(secret);
    }
    const partial = await asAdmin("POST", "/api/clients/sharmaclinic/secrets", { smtpPort: 587 });
    expect(partial.body.updated).toEqual(["smtpPort"]);
    expect(partial.body.secretsSet).toHaveLength(10);

    const raw = await api.db.collection("client_secrets").findOne({ clientCode: "sharmaclinic" });
    expect(String(raw?.smtpPass)).toMatch(/^ecx1:/);
    expect(JSON.stringify(raw)).not.toContain(smtpPass);
    const secrets = await api.tenancy.clients.getSecrets("sharmaclinic");
    expect(secrets).toMatchObject({
      whatsappToken,
      smtpPass,
      smtpPort: 587,
      automationWebhookSecret: webhookSecret,
    });
  });

  it("§8: a tenant route that needs the tenant database says `No tenant connection for sharmaclinic` before step 3", async () => {
    const response = await asTenant("GET", "/api/saas/tenant/health", apiKey);
    expect(response.status).toBe(409);
    expect(response.body.message).toBe("No tenant connection for sharmaclinic");
  });

  it("step 3: registers the tenant database after connecting to it, stored encrypted", async () => {
    const dbUri = `${api.mongo.uri}/${tenantDbName}`;
    const response = await asAdmin("POST", "/api/clients/sharmaclinic/datasource", { dbUri });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ clientCode: "sharmaclinic", dbName: tenantDbName, registered: true });
    const stored = await api.db.collection("client_datasources").findOne({ clientCode: "sharmaclinic" });
    expect(String(stored?.dbUri)).toMatch(/^ecx1:/);
    expect(JSON.stringify(stored)).not.toContain(api.mongo.uri.replace("mongodb://", ""));

    const health = await asTenant("GET", "/api/saas/tenant/health", apiKey);
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ clientCode: "sharmaclinic", database: "up", dbName: tenantDbName });
  });

  it("step 6: a CORS origin added by the tenant is allowed on preflight at once; others are not", async () => {
    const preflight = (origin: string) =>
      fetch(`${BASE}/api/saas/cors`, {
        method: "OPTIONS",
        headers: {
          Origin: origin,
          "Access-Control-Request-Method": "POST",
          "Access-Control-Request-Headers": "x-api-key,x-client-code,content-type",
        },
      });
    expect(
      (await preflight("https://sharmaclinic.com")).headers.get("access-control-allow-origin"),
    ).toBeNull();

    const added = await asTenant("POST", "/api/saas/cors", apiKey, { url: "https://sharmaclinic.com" });
    expect(added.status).toBe(201);
    expect(added.body.origins).toEqual(["https://sharmaclinic.com"]);

    const allowed = await preflight("https://sharmaclinic.com");
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://sharmaclinic.com");
    expect(allowed.headers.get("access-control-allow-headers")).toContain("x-api-key");
    const other = await preflight("https://evil.example");
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("step 8: the four values shared with the client work together", async () => {
    const shared = {
      API_URL: BASE,
      API_KEY: apiKey,
      CLIENT_CODE: "sharmaclinic",
      WEBHOOK_SECRET: webhookSecret,
    };
    const response = await fetch(`${shared.API_URL}/api/saas/cors`, {
      headers: { "x-api-key": shared.API_KEY, "x-client-code": shared.CLIENT_CODE },
    });
    expect(response.status).toBe(200);
    expect((await api.tenancy.clients.getSecrets(shared.CLIENT_CODE)).automationWebhookSecret).toBe(
      shared.WEBHOOK_SECRET,
    );
  });

  it("§3: rotate-key returns a new key; the old one is refused with `Invalid API key` on the next request", async () => {
    const rotated = await asAdmin("POST", "/api/clients/sharmaclinic/rotate-key");
    expect(rotated.status).toBe(200);
    expect(rotated.body.apiKey).toMatch(/^ecx_live_/);
    expect(rotated.body.apiKey).not.toBe(apiKey);
    const old = await asTenant("GET", "/api/saas/cors", apiKey);
    expect(old.status).toBe(401);
    expect(old.body).toMatchObject({ message: "Invalid API key", code: "ECODRIX_AUTH_INVALID_API_KEY" });
    apiKey = rotated.body.apiKey;
    expect((await asTenant("GET", "/api/saas/cors", apiKey)).status).toBe(200);
  });

  it("§8: unknown client codes say `ClientCode not found` (admin and tenant)", async () => {
    const adminSide = await asAdmin("GET", "/api/clients/nosuchclinic");
    expect(adminSide.status).toBe(404);
    expect(adminSide.body.message).toBe("ClientCode not found");
    const tenantSide = await call("GET", "/api/saas/cors", {
      "x-api-key": apiKey,
      "x-client-code": "nosuchclinic",
    });
    expect(tenantSide.status).toBe(401);
    expect(tenantSide.body.message).toBe("ClientCode not found");
  });

  it("§4: ENCRYPTION_KEY rotation online — new key + previous key, re-encrypt, then drop the previous key", async () => {
    // 2. Restart with ENCRYPTION_KEY=new and ENCRYPTION_KEYS_PREVIOUS=old: everything still reads.
    const during = await startTestApi({ keys: [newKey, oldKey], shareDatabaseOf: api });
    try {
      const health = await during.app.inject({
        method: "GET",
        url: "/api/saas/tenant/health",
        headers: { "x-api-key": apiKey, "x-client-code": "sharmaclinic" },
      });
      expect(health.statusCode).toBe(200);
      // 3. `encryption rotate` (the CLI calls this function; its own test runs the real process).
      const rotation = {
        db: during.db,
        box: during.tenancy.crypto,
        collections: during.tenancy.capabilities.encryptedCollections,
      };
      const report = await reencryptStoredSecrets(rotation);
      expect(report).toMatchObject({ documentsChanged: 2, valuesChanged: 11, undecryptable: [] });
      const rerun = await reencryptStoredSecrets(rotation);
      expect(rerun.documentsChanged).toBe(0);
    } finally {
      await during.close();
    }
    // 5. Restart with the new key only: secrets and the datasource still decrypt.
    const after = await startTestApi({ keys: [newKey], shareDatabaseOf: api });
    try {
      expect((await after.tenancy.clients.getSecrets("sharmaclinic")).smtpPass).toBe(smtpPass);
      const health = await after.app.inject({
        method: "GET",
        url: "/api/saas/tenant/health",
        headers: { "x-api-key": apiKey, "x-client-code": "sharmaclinic" },
      });
      expect(health.json()).toMatchObject({ database: "up", dbName: tenantDbName });
    } finally {
      await after.close();
    }
  });

  it("§10: DELETE removes the client and everything of it, cancels pending jobs, keeps the tenant database", async () => {
    const tenantDb = api.mongo.client.db(tenantDbName);
    await tenantDb.collection("leads").insertOne({ name: "kept" });
    const pending = await api.queue.enqueue({
      type: "send_whatsapp",
      clientCode: "sharmaclinic",
      delayMs: 60_000,
    });
    const other = await api.queue.enqueue({
      type: "send_whatsapp",
      clientCode: "someoneelse",
      delayMs: 60_000,
    });
    await api.db
      .collection("google_tokens")
      .insertOne({ clientCode: "sharmaclinic", refreshToken: "ecx1:x" });

    const response = await asAdmin("DELETE", "/api/clients/sharmaclinic");
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      clientCode: "sharmaclinic",
      deleted: { client: true, secrets: 1, datasource: 1, corsOrigins: 1, googleTokens: 1 },
      pendingJobsCancelled: 1,
      tenantDatabaseDropped: false,
    });
    expect(response.body.note).toMatch(/NOT dropped/);
    expect((await api.queue.get(pending._id))?.status).toBe("cancelled");
    expect((await api.queue.get(other._id))?.status).toBe("pending");
    for (const name of ["clients", "client_secrets", "client_datasources", "cors_origins", "google_tokens"]) {
      expect(await api.db.collection(name).countDocuments({ clientCode: "sharmaclinic" }), name).toBe(0);
    }
    expect(await tenantDb.collection("leads").countDocuments()).toBe(1);
    expect((await asTenant("GET", "/api/saas/cors", apiKey)).body.message).toBe("ClientCode not found");
    expect((await asAdmin("GET", "/api/clients/sharmaclinic")).status).toBe(404);
    await tenantDb.dropDatabase();
  });
});
