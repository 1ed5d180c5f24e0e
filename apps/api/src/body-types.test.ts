import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, startTestApi, type TestApi } from "../test/test-app.js";

/** Bodies are not coerced: a wrong type is a 400 naming the field, and nothing is written. */
describe("body types are checked, not converted", () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi();
    await api.app.inject({
      method: "POST",
      url: "/api/clients",
      headers: admin,
      payload: { name: "Dr. Sharma Clinic", email: "contact@sharmaclinic.com" },
    });
  });
  afterAll(() => api.close());

  it("a number where a name is expected is refused; no client is created", async () => {
    const before = (await api.app.inject({ method: "GET", url: "/api/clients", headers: admin })).json();
    const response = await api.app.inject({
      method: "POST",
      url: "/api/clients",
      headers: admin,
      payload: { name: 123, email: "a@b.com" },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      message: "body/name must be string",
      code: "ECODRIX_VALIDATION_FAILED",
    });
    const after = (await api.app.inject({ method: "GET", url: "/api/clients", headers: admin })).json();
    expect(after).toEqual(before);
  });

  it('smtpPort "465" (a string) is refused: the port is a number', async () => {
    const response = await api.app.inject({
      method: "POST",
      url: "/api/clients/sharmaclinic/secrets",
      headers: admin,
      payload: { smtpPort: "465" },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toBe("body/smtpPort must be integer");
    const client = (
      await api.app.inject({ method: "GET", url: "/api/clients/sharmaclinic", headers: admin })
    ).json();
    expect(client.secretsSet).not.toContain("smtpPort");
  });

  it("query strings still arrive as numbers where the schema says so", async () => {
    const response = await api.app.inject({ method: "GET", url: "/api/admin/jobs?limit=5", headers: admin });
    expect(response.statusCode).toBe(200);
    const bad = await api.app.inject({ method: "GET", url: "/api/admin/jobs?limit=lots", headers: admin });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toContain("querystring/limit");
  });
});
