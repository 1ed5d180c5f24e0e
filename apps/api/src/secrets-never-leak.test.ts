import { randomBytes } from "node:crypto";
import type { InjectOptions } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, admin, startTestApi, type TestApi, tenantHeaders } from "../test/test-app.js";

/**
 * Sets every secret the product knows with a unique marker, drives every route (successes and
 * failures), then greps the captured logs and every response body for each marker.
 */
describe("secrets and keys never appear in responses, logs or errors", () => {
  let api: TestApi;
  const responses: string[] = [];
  const marker = (label: string) => `${label}${randomBytes(12).toString("hex")}`;
  const secrets = {
    whatsappToken: marker("waTok"),
    whatsappBusinessId: marker("waBiz"),
    whatsappPhoneNumberId: marker("waPhone"),
    whatsappWebhookToken: marker("waHook"),
    smtpHost: `${marker("smtp")}.example.com`,
    smtpUser: `${marker("user")}@example.com`,
    smtpPass: marker("smtpPass"),
    smtpFrom: `Clinic <${marker("from")}@example.com>`,
    automationWebhookSecret: randomBytes(24).toString("hex"),
  };
  const dbPassword = marker("dbPw");
  const apiKeys: string[] = [];

  async function inject(options: InjectOptions) {
    const response = await api.app.inject(options);
    responses.push(response.body);
    return response;
  }

  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  it("drives every route, then finds none of the secrets anywhere", async () => {
    const created = await inject({
      method: "POST",
      url: "/api/clients",
      headers: admin,
      payload: { name: "Leak Test Clinic", email: "a@leaktestclinic.com" },
    });
    const apiKey = created.json().apiKey as string;
    apiKeys.push(apiKey);
    const ok = await inject({
      method: "POST",
      url: "/api/clients/leaktestclinic/secrets",
      headers: admin,
      payload: { ...secrets, smtpPort: 465 },
    });
    expect(ok.statusCode).toBe(200);
    await inject({
      method: "POST",
      url: "/api/clients/leaktestclinic/secrets",
      headers: admin,
      payload: { smtpPass: secrets.smtpPass, bogus: secrets.whatsappToken },
    });
    await inject({
      method: "POST",
      url: "/api/clients/leaktestclinic/secrets",
      headers: admin,
      payload: { automationWebhookSecret: `${secrets.smtpPass}zz` },
    });
    await inject({
      method: "POST",
      url: "/api/clients/leaktestclinic/datasource",
      headers: admin,
      payload: { dbUri: `mongodb://clinic:${dbPassword}@127.0.0.1:1/tenant` },
    });
    await inject({
      method: "POST",
      url: "/api/clients/leaktestclinic/datasource",
      headers: admin,
      payload: { dbUri: `mongodb://clinic:${dbPassword}@bad host/tenant` },
    });
    await inject({
      method: "POST",
      url: "/api/clients/leaktestclinic/datasource",
      headers: admin,
      payload: { dbUri: `${api.mongo.uri}/${api.mongo.dbName}_leak` },
    });
    await inject({ method: "GET", url: "/api/clients/leaktestclinic", headers: admin });
    await inject({ method: "GET", url: "/api/clients", headers: admin });
    await inject({
      method: "PATCH",
      url: "/api/clients/leaktestclinic",
      headers: admin,
      payload: { name: "Leak Clinic" },
    });
    const headers = tenantHeaders("leaktestclinic", apiKey);
    await inject({
      method: "POST",
      url: "/api/saas/cors",
      headers,
      payload: { url: "https://leak.example" },
    });
    await inject({ method: "GET", url: "/api/saas/cors", headers });
    await inject({ method: "GET", url: "/api/saas/tenant/health", headers });
    await inject({
      method: "GET",
      url: "/api/saas/cors",
      headers: tenantHeaders("leaktestclinic", `${apiKey}x`),
    });
    await inject({ method: "GET", url: "/api/saas/cors", headers: tenantHeaders("nosuchclinic", apiKey) });
    await inject({ method: "GET", url: "/api/clients", headers: { "x-core-api-key": `${ADMIN_TOKEN}x` } });
    const rotated = await inject({
      method: "POST",
      url: "/api/clients/leaktestclinic/rotate-key",
      headers: admin,
    });
    apiKeys.push(rotated.json().apiKey);
    await inject({ method: "GET", url: "/api/saas/cors", headers });
    await inject({ method: "DELETE", url: "/api/clients/leaktestclinic", headers: admin });
    await api.mongo.client.db(`${api.mongo.dbName}_leak`).dropDatabase();

    const logs = api.logs();
    expect(logs.split("\n").length).toBeGreaterThan(20); // the capture really captured
    expect(logs).toContain("client secrets updated");
    for (const [name, value] of Object.entries(secrets)) {
      expect(logs.includes(value), `log contains ${name}`).toBe(false);
      expect(
        responses.some((body) => body.includes(value)),
        `a response contains ${name}`,
      ).toBe(false);
    }
    for (const value of [dbPassword, ...apiKeys, ADMIN_TOKEN]) {
      expect(logs.includes(value), "log contains a key or password").toBe(false);
    }
    expect(responses.some((body) => body.includes(dbPassword))).toBe(false);
    // The keys appear exactly where they must: once each, in the create and rotate responses.
    for (const key of apiKeys) expect(responses.filter((body) => body.includes(key))).toHaveLength(1);
  });
});
