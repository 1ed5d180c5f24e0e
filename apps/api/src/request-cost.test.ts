import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, startTestApi, type TestApi } from "../test/test-app.js";

/** What an unauthenticated caller can make the API spend: nothing is parsed before it is needed. */
describe("requests are refused before their bodies are parsed", () => {
  let api: TestApi;
  const deep = `${"[".repeat(49_000)}${"]".repeat(49_000)}`;
  const json = { "content-type": "application/json" };

  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  const post = (url: string, payload: string, headers: Record<string, string> = {}) =>
    api.app.inject({ method: "POST", url, headers: { ...json, ...headers }, payload });

  it("an unknown route answers 404 whatever the body: malformed, too deep, or over the size limit", async () => {
    for (const payload of ['{"a": ', deep, JSON.stringify({ a: "x".repeat(200 * 1024) })]) {
      const response = await post("/api/nope", payload);
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({
        statusCode: 404,
        error: "Not Found",
        message: "Route POST /api/nope not found",
        code: "ECODRIX_ROUTE_NOT_FOUND",
      });
    }
  });

  it("authenticated routes authenticate first: no credentials with a malformed or deep body is a 401", async () => {
    for (const url of ["/api/clients", "/api/admin/jobs/echo", "/api/saas/cors"]) {
      for (const payload of ['{"a": ', deep]) {
        const response = await post(url, payload);
        expect(response.statusCode, url).toBe(401);
        expect(response.json().code, url).toMatch(/^ECODRIX_AUTH_/);
      }
    }
  });

  it("an authenticated body nested too deeply is refused while it is scanned, before it is parsed", async () => {
    const response = await post("/api/admin/jobs/echo", deep, admin);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      code: "ECODRIX_VALIDATION_TOO_DEEP",
      message:
        "body/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0 is nested too deeply: bodies may be nested at most 32 levels",
    });
    // Invalid JSON after the 33rd level: a parse-first API would answer "not valid JSON".
    const truncated = await post("/api/admin/jobs/echo", `{"message": "x", "n": ${"[".repeat(40)}`, admin);
    expect(truncated.statusCode).toBe(400);
    expect(truncated.json().code).toBe("ECODRIX_VALIDATION_TOO_DEEP");
    // Valid bodies, malformed ones and empty ones get their usual answers.
    expect((await post("/api/admin/jobs/echo", '{"message": "hi"}', admin)).statusCode).toBe(202);
    expect((await post("/api/admin/jobs/echo", '{"message": ', admin)).json()).toMatchObject({
      statusCode: 400,
      message: "Body is not valid JSON",
    });
    expect((await post("/api/admin/jobs/echo", "", admin)).json()).toMatchObject({
      statusCode: 400,
      message: "Body cannot be empty when content-type is set to 'application/json'",
    });
  });
});
