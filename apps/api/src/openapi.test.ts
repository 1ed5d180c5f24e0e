import { validate } from "@readme/openapi-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, startTestApi, type TestApi, tenantHeaders } from "../test/test-app.js";
import { hiddenRoutes } from "./plugins/openapi.js";

type Operation = {
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
};
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
};

const METHODS = ["get", "put", "post", "delete", "patch", "options"] as const;

function operations(doc: Document): { name: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => ({
      name: `${method.toUpperCase()} ${path}`,
      op: item[method] as Operation,
    })),
  );
}

/** What keeps the document complete: each problem names its route. */
function problemsOf(name: string, op: Operation): string[] {
  const problems: string[] = [];
  if (!op.summary?.trim()) problems.push(`${name}: no summary`);
  const tags = op.tags ?? [];
  if (tags.length === 0) problems.push(`${name}: no tags`);
  for (const tag of tags) {
    if (!["admin", "tenant", "public"].includes(tag)) problems.push(`${name}: unknown tag ${tag}`);
  }
  const schemes = new Set((op.security ?? []).flatMap((requirement) => Object.keys(requirement)));
  if (tags.includes("admin") && !schemes.has("adminToken"))
    problems.push(`${name}: admin without adminToken`);
  if (tags.includes("tenant") && !(schemes.has("tenantApiKey") && schemes.has("tenantClientCode")))
    problems.push(`${name}: tenant without tenantApiKey + tenantClientCode`);
  if (tags.includes("public") && schemes.size > 0) problems.push(`${name}: public with a security scheme`);
  const responses = Object.entries(op.responses ?? {});
  const success = responses.filter(([status]) => /^[23]/.test(status));
  if (success.length === 0) problems.push(`${name}: no success response`);
  for (const [status, response] of success) {
    // A redirect or 204 has no body; every other success names what it returns.
    const bodiless = /^3/.test(status) || status === "204";
    if (!bodiless && !Object.values(response.content ?? {}).some((media) => media.schema !== undefined))
      problems.push(`${name}: no response schema for ${status}`);
    if (!response.description?.trim()) problems.push(`${name}: no description for ${status}`);
  }
  for (const [status, response] of responses.filter(([status]) => /^[45]/i.test(status))) {
    if (!response.content) problems.push(`${name}: ${status} has no body schema`);
  }
  if (!op.responses?.["4XX"]) problems.push(`${name}: no 4XX error model`);
  return problems;
}

describe("the OpenAPI document (GET /api/openapi.json)", () => {
  let api: TestApi;
  let doc: Document;

  beforeAll(async () => {
    // Sandbox on: its routes are documented too.
    api = await startTestApi({ config: { sandbox: true } });
    const response = await api.app.inject({ method: "GET", url: "/api/openapi.json" });
    expect(response.statusCode).toBe(200);
    doc = response.json();
  });
  afterAll(() => api?.close());

  it("is a valid OpenAPI 3.1 document", async () => {
    expect(doc.openapi).toBe("3.1.0");
    // A real validator: the OpenAPI 3.1 meta-schema and $ref resolution. structuredClone: it dereferences.
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, JSON.stringify(result, null, 2)).toBe(true);
    // …which does refuse a broken one (a response without its required description).
    const broken = structuredClone(doc);
    const health = broken.paths["/api/saas/health"]?.get?.responses?.["200"];
    if (health) delete health.description;
    expect((await validate(broken as never)).valid).toBe(false);
  });

  it("documents every route with a summary, a scope tag, its security, and schemas for its responses", () => {
    const ops = operations(doc);
    // The main routes are all there (guards against a document that lost its routes).
    const names = ops.map((o) => o.name);
    for (const expected of [
      "POST /api/clients",
      "POST /api/clients/{clientCode}/secrets",
      "POST /api/clients/{clientCode}/datasource",
      "POST /api/saas/cors",
      "POST /api/crm/automations",
      "GET /api/saas/health",
      "GET /api/admin/jobs",
      "GET /api/sandbox/outbox",
    ]) {
      expect(names).toContain(expected);
    }
    const problems = ops.flatMap(({ name, op }) => problemsOf(name, op));
    expect(problems, problems.join("\n")).toEqual([]);
  });

  it("hides only the stated exceptions: the docs page's own routes and the console's static files", () => {
    const hidden = hiddenRoutes(api.app);
    // Browser assets, not API operations (each has its own tests): the docs page and its bundle, the console.
    const allowed = /^GET \/(api\/docs(\/.*)?|console(\/.*)?)$/;
    expect(hidden).toContain("GET /api/docs/*");
    const unexplained = hidden.filter((route) => !allowed.test(route));
    expect(unexplained, `hidden without a stated reason: ${unexplained.join(", ")}`).toEqual([]);
  });

  it("defines the error model once and refers to it from the errors", () => {
    expect(doc.components.schemas.ErrorResponse).toMatchObject({
      required: ["statusCode", "error", "message", "code"],
    });
    const createClient = doc.paths["/api/clients"]?.post;
    expect(createClient?.responses?.["401"]?.content?.["application/json"]?.schema).toEqual({
      $ref: "#/components/schemas/ErrorResponse",
    });
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual([
      "adminToken",
      "tenantApiKey",
      "tenantClientCode",
    ]);
  });

  it("documents the answers' real content types (fuzz finding: the WhatsApp verification's text/plain 403)", async () => {
    const verify = doc.paths["/api/webhooks/whatsapp/{clientCode}"]?.get;
    expect(Object.keys(verify?.responses?.["403"]?.content ?? {})).toEqual(["text/plain"]);
    expect(Object.keys(verify?.responses?.["200"]?.content ?? {})).toEqual(["text/plain"]);
    const answer = await api.app.inject({
      method: "GET",
      url: "/api/webhooks/whatsapp/nosuchclinic?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1",
    });
    expect(answer.statusCode).toBe(403);
    expect(answer.headers["content-type"]).toMatch(/^text\/plain/);
  });

  it("the runbook's examples in the document are accepted by their own routes", async () => {
    type Media = { example?: unknown; examples?: Record<string, { value: unknown }> };
    type Body = { content?: Record<string, Media> };
    const example = (path: string) => {
      const op = doc.paths[path]?.post as Operation & { requestBody?: Body };
      const media = op.requestBody?.content?.["application/json"];
      // One example is rendered as `example`, several as named `examples`.
      const value = media?.example ?? Object.values(media?.examples ?? {})[0]?.value;
      expect(value, `${path} has an example`).toBeDefined();
      return value as Record<string, unknown>;
    };
    const created = await api.app.inject({
      method: "POST",
      url: "/api/clients",
      headers: admin,
      payload: example("/api/clients"),
    });
    expect(created.statusCode, created.body).toBe(201);
    const { clientCode, apiKey } = created.json() as { clientCode: string; apiKey: string };
    const secrets = await api.app.inject({
      method: "POST",
      url: `/api/clients/${clientCode}/secrets`,
      headers: admin,
      payload: example("/api/clients/{clientCode}/secrets"),
    });
    expect(secrets.statusCode, secrets.body).toBe(200);
    expect(example("/api/clients/{clientCode}/datasource")).toHaveProperty("dbUri");
    const cors = await api.app.inject({
      method: "POST",
      url: "/api/saas/cors",
      headers: tenantHeaders(clientCode, apiKey),
      payload: example("/api/saas/cors"),
    });
    expect(cors.statusCode, cors.body).toBe(201);
    // The automation example needs a tenant database: this run's own.
    const datasource = await api.app.inject({
      method: "POST",
      url: `/api/clients/${clientCode}/datasource`,
      headers: admin,
      payload: { dbUri: `${api.mongo.uri}/openapi_examples_${clientCode}` },
    });
    expect(datasource.statusCode, datasource.body).toBe(200);
    const automation = await api.app.inject({
      method: "POST",
      url: "/api/crm/automations",
      headers: tenantHeaders(clientCode, apiKey),
      payload: example("/api/crm/automations"),
    });
    // The body passes validation; the template is not synced in this database, which the CRM says with a
    // 422 whose `hint` (an error detail) comes through the shared error schema.
    expect(automation.statusCode, automation.body).toBe(422);
    expect(automation.json()).toMatchObject({
      code: "ECODRIX_CRM_TEMPLATE_NOT_FOUND",
      hint: expect.stringContaining("templates/sync"),
    });
    await api.mongo.client.db(`openapi_examples_${clientCode}`).dropDatabase();
  });

  it("the check itself names a route without summary, tags or response schema", () => {
    expect(problemsOf("GET /x", { responses: { "200": { description: "ok" } } })).toEqual([
      "GET /x: no summary",
      "GET /x: no tags",
      "GET /x: no response schema for 200",
      "GET /x: no 4XX error model",
    ]);
  });

  it("an error still carries its details through the shared error schema", async () => {
    const response = await api.app.inject({
      method: "POST",
      url: "/api/clients",
      headers: { "x-core-api-key": "wrong" },
    });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({
      statusCode: 401,
      error: "Unauthorized",
      message: "Invalid x-core-api-key",
      code: "ECODRIX_AUTH_ADMIN_KEY_INVALID",
    });
  });
});

describe("the docs page (GET /api/docs)", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api?.close());

  it("serves Scalar's page and bundle from this server under a strict CSP with a fresh nonce", async () => {
    const redirect = await api.app.inject({ method: "GET", url: "/api/docs" });
    expect(redirect.statusCode).toBe(301);
    expect(redirect.headers.location).toBe("/api/docs/");
    const page = await api.app.inject({ method: "GET", url: "/api/docs/" });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toMatch(/text\/html/);
    const csp = String(page.headers["content-security-policy"]);
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain(`script-src 'self' 'nonce-${nonce}';`);
    expect(csp).not.toMatch(/unsafe-eval|https?:|\*/);
    // Every script is local or carries this response's nonce; nothing names another origin.
    const scripts = [...page.body.matchAll(/<script([^>]*)>/g)].map((m) => m[1] ?? "");
    expect(scripts.length).toBeGreaterThan(0);
    for (const attributes of scripts) expect(attributes).toContain(`nonce="${nonce}"`);
    expect(page.body).toContain('src="js/scalar.js"');
    expect(page.body).toContain("/api/openapi.json");
    expect(page.body).not.toMatch(/https?:\/\//);
    const again = await api.app.inject({ method: "GET", url: "/api/docs/" });
    expect(again.headers["content-security-policy"]).not.toBe(csp);

    const bundle = await api.app.inject({ method: "GET", url: "/api/docs/js/scalar.js" });
    expect(bundle.statusCode).toBe(200);
    expect(bundle.headers["content-type"]).toMatch(/javascript/);
    expect(bundle.body.length).toBeGreaterThan(1_000_000);

    const unknown = await api.app.inject({ method: "GET", url: "/api/docs/nothing-here" });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: "ECODRIX_ROUTE_NOT_FOUND" });
  });
});
