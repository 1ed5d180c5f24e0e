import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, startTestApi, type TestApi, tenantHeaders } from "../test/test-app.js";

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 1;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Bad input gets a 4xx naming the field and changes nothing. */
describe("bad input", () => {
  let api: TestApi;
  let apiKey = "";

  beforeAll(async () => {
    api = await startTestApi();
    const created = await api.app.inject({
      method: "POST",
      url: "/api/clients",
      headers: admin,
      payload: { name: "Dr. Sharma Clinic", email: "contact@sharmaclinic.com" },
    });
    apiKey = created.json().apiKey;
  });
  afterAll(() => api.close());

  const post = (url: string, payload: unknown, headers: Record<string, string> = admin) =>
    api.app.inject({ method: "POST", url, headers, payload: payload as Record<string, unknown> });

  it("unknown fields are refused, naming the field", async () => {
    const response = await post("/api/clients", { name: "X Clinic", email: "a@xclinic.com", plan: "gold" });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      message: "body/plan is not an allowed field",
      code: "ECODRIX_VALIDATION_FAILED",
    });
    expect((await post("/api/clients/sharmaclinic/secrets", { smtpPassword: "x" })).json().message).toBe(
      "body/smtpPassword is not an allowed field",
    );
  });

  it("keys starting with $ or containing a dot are refused anywhere in a body, naming the path", async () => {
    const operator = await post("/api/clients", { name: "X", email: { $gt: "" } });
    expect(operator.statusCode).toBe(400);
    expect(operator.json().message).toBe(
      'body/email/$gt is not allowed: field names must not start with "$" or contain "."',
    );
    const dotted = await post(
      "/api/saas/cors",
      { url: "https://a.com", "a.b": 1 },
      tenantHeaders("sharmaclinic", apiKey),
    );
    expect(dotted.json().message).toMatch(/^body\/a\.b is not allowed/);
    const deep = await post("/api/admin/jobs/echo", { message: "hi", nested: [{ ok: { $where: "1" } }] });
    expect(deep.json().message).toMatch(/^body\/nested\/0\/ok\/\$where is not allowed/);
    expect(await api.db.collection("clients").countDocuments()).toBe(1);
  });

  it("a body nested deeper than 32 levels is refused, naming the depth, not checked only part-way", async () => {
    const nest = (levels: number, leaf: unknown): unknown =>
      levels === 0 ? leaf : { a: nest(levels - 1, leaf) };
    // body (level 1) → nested (level 2) → 38 more levels → an operator key nobody would look at otherwise.
    const deep = await post("/api/clients", {
      name: "X",
      email: "a@x.com",
      nested: nest(38, { $where: "1" }),
    });
    expect(deep.statusCode).toBe(400);
    expect(deep.json()).toMatchObject({ code: "ECODRIX_VALIDATION_TOO_DEEP" });
    expect(deep.json().message).toMatch(
      /^body\/nested(\/a){31} is nested too deeply: bodies may be nested at most 32 levels$/,
    );
    // Exactly 32 levels is checked in full and gets the usual answers.
    const atLimit = await post("/api/clients", { name: "X", email: "a@x.com", nested: nest(30, { $gt: 1 }) });
    expect(atLimit.json().message).toMatch(/^body\/nested(\/a){30}\/\$gt is not allowed/);
    const plain = await post("/api/clients", { name: "X", email: "a@x.com", nested: nest(30, { b: 1 }) });
    expect(plain.json().message).toBe("body/nested is not an allowed field");
    expect(await api.db.collection("clients").countDocuments()).toBe(1);
  });

  it("malformed JSON is a 400, an oversized body a 413", async () => {
    const malformed = await api.app.inject({
      method: "POST",
      url: "/api/clients",
      headers: { ...admin, "content-type": "application/json" },
      payload: '{"name": "X",',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().message).toBe("Body is not valid JSON");
    const huge = await post("/api/clients/sharmaclinic/secrets", { whatsappToken: "x".repeat(200_000) });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().message).toBe("Body is too large");
  });

  it("client creation: required fields, e-mail shape, client code rules and conflicts", async () => {
    expect((await post("/api/clients", { email: "a@b.com" })).json().message).toBe("body/name is required");
    expect((await post("/api/clients", { name: "A", email: "not-an-email" })).json().message).toMatch(
      /^body\/email must match/,
    );
    const badCode = await post("/api/clients", { name: "A", email: "a@b.com", clientCode: "Bad_Code" });
    expect(badCode.statusCode).toBe(400);
    expect(badCode.json().message).toMatch(/^body\/clientCode must match pattern/);
    const underivable = await post("/api/clients", { name: "東京", email: "x@gmail.com" });
    expect(underivable.statusCode).toBe(400);
    expect(underivable.json().message).toMatch(/^body\/clientCode is required/);
    const explicit = await post("/api/clients", {
      name: "Dr. Sharma Clinic",
      email: "b@sharmaclinic.com",
      clientCode: "sharma-2",
    });
    expect(explicit.statusCode).toBe(201);
    expect(explicit.json().clientCode).toBe("sharma-2");
    const taken = await post("/api/clients", { name: "Other", email: "o@other.com", clientCode: "sharma-2" });
    expect(taken.statusCode).toBe(409);
    expect(taken.json()).toMatchObject({
      message: "ClientCode sharma-2 already exists",
      code: "ECODRIX_CLIENT_CODE_TAKEN",
    });
  });

  it("secrets: smtpPort must be a number, automationWebhookSecret 32+ hex, unknown client is `ClientCode not found`", async () => {
    expect((await post("/api/clients/sharmaclinic/secrets", { smtpPort: "abc" })).json().message).toBe(
      "body/smtpPort must be integer",
    );
    expect((await post("/api/clients/sharmaclinic/secrets", { smtpPort: 70000 })).json().message).toMatch(
      /^body\/smtpPort must be <= 65535/,
    );
    // The From address becomes a header: a line break in it would add headers of its own.
    const injected = await post("/api/clients/sharmaclinic/secrets", {
      smtpFrom: "Clinic <noreply@clinic.example>\r\nBcc: everyone@elsewhere.example",
    });
    expect(injected.statusCode).toBe(400);
    expect(injected.json().message).toBe("body/smtpFrom must be one line of text (no tabs or line breaks)");
    const short = await post("/api/clients/sharmaclinic/secrets", { automationWebhookSecret: "abc123" });
    expect(short.statusCode).toBe(400);
    expect(short.json().message).toMatch(/^body\/automationWebhookSecret must match pattern/);
    const unknown = await post("/api/clients/nosuch/secrets", { smtpHost: "smtp.example.com" });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().message).toBe("ClientCode not found");
    expect(await api.db.collection("client_secrets").countDocuments()).toBe(0);
  });

  it("secrets: automationWebhookSecret is generated when absent, returned once, kept on later updates", async () => {
    const first = await post("/api/clients/sharmaclinic/secrets", { smtpHost: "smtp.gmail.com" });
    expect(first.json().automationWebhookSecret).toMatch(/^[0-9a-f]{64}$/);
    const second = await post("/api/clients/sharmaclinic/secrets", { smtpUser: "u@gmail.com" });
    expect(second.json()).not.toHaveProperty("automationWebhookSecret");
    expect((await api.tenancy.clients.getSecrets("sharmaclinic")).automationWebhookSecret).toBe(
      first.json().automationWebhookSecret,
    );
  });

  it("datasource: scheme checked, malformed refused, unreachable is a clear 422 within the timeout; nothing stored", async () => {
    const http = await post("/api/clients/sharmaclinic/datasource", { dbUri: "https://db.example.com" });
    expect(http.statusCode).toBe(400);
    expect(http.json().message).toMatch(/^body\/dbUri must match pattern/);
    const malformed = await post("/api/clients/sharmaclinic/datasource", {
      dbUri: "mongodb://bad host name/x",
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().message).toMatch(/^body\/dbUri is not a valid MongoDB connection string/);
    const port = await closedPort();
    const started = Date.now();
    const unreachable = await post("/api/clients/sharmaclinic/datasource", {
      dbUri: `mongodb://clinicuser:S3cretPw@127.0.0.1:${port}/tenant?serverSelectionTimeoutMS=60000`,
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(unreachable.statusCode).toBe(422);
    expect(unreachable.json().message).toMatch(
      /^body\/dbUri: cannot connect to the database and ping it within 1500 ms/,
    );
    expect(unreachable.body).not.toContain("S3cretPw");
    expect(await api.db.collection("client_datasources").countDocuments()).toBe(0);
  });

  it("CORS origins must be scheme + host + optional port", async () => {
    const headers = tenantHeaders("sharmaclinic", apiKey);
    const withPath = await post("/api/saas/cors", { url: "https://sharmaclinic.com/app" }, headers);
    expect(withPath.statusCode).toBe(400);
    expect(withPath.json().message).toBe(
      "body/url must be an origin like https://example.com[:port]: a path is not allowed",
    );
    expect((await post("/api/saas/cors", {}, headers)).json().message).toBe("body/url is required");
    expect(await api.tenancy.corsOrigins.list("sharmaclinic")).toEqual([]);
  });

  it("PATCH: only name, email, status; an empty body or a bad status is refused", async () => {
    const patch = (payload: unknown) =>
      api.app.inject({
        method: "PATCH",
        url: "/api/clients/sharmaclinic",
        headers: admin,
        payload: payload as Record<string, unknown>,
      });
    expect((await patch({})).statusCode).toBe(400);
    expect((await patch({ status: "deleted" })).json().message).toMatch(
      /^body\/status must be equal to one of/,
    );
    expect((await patch({ apiKeyHash: "00" })).json().message).toBe(
      "body/apiKeyHash is not an allowed field",
    );
    const renamed = await patch({ name: "Sharma Clinic" });
    expect(renamed.json()).toMatchObject({ name: "Sharma Clinic", clientCode: "sharmaclinic" });
  });

  it("malformed job ids on the tenant jobs route are a 400 naming the parameter", async () => {
    const response = await api.app.inject({
      method: "GET",
      url: "/api/saas/jobs/not-an-id",
      headers: tenantHeaders("sharmaclinic", apiKey),
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toMatch(/^params\/id must match pattern/);
  });
});
