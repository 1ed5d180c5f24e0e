import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, admin, startTestApi, type TestApi, tenantHeaders } from "../test/test-app.js";

/** Malformed or careless requests: refused in the product's error format, changing nothing, leaking nothing. */
describe("hostile and careless requests", () => {
  let api: TestApi;
  let apiKey = "";
  let port = 0;

  beforeAll(async () => {
    api = await startTestApi();
    const base = await api.app.listen({ port: 0, host: "127.0.0.1" });
    port = Number(new URL(base).port);
    apiKey = (
      await api.app.inject({
        method: "POST",
        url: "/api/clients",
        headers: admin,
        payload: { name: "Query Clinic", email: "a@queryclinic.com" },
      })
    ).json().apiKey;
  });
  afterAll(() => api.close());

  describe("credentials in the query string", () => {
    it("are refused with 400 naming the parameter, before authentication, on tenant and admin routes", async () => {
      for (const [url, headers, name] of [
        [`/api/saas/cors?x-api-key=${apiKey}`, tenantHeaders("queryclinic", apiKey), "x-api-key"],
        [`/api/clients?x-core-api-key=${ADMIN_TOKEN}`, {}, "x-core-api-key"],
        [`/api/clients?limit=5&API_KEY=${apiKey}`, admin, "API_KEY"],
        [
          `/api/saas/jobs/0123456789abcdef01234567?token=${apiKey}`,
          tenantHeaders("queryclinic", apiKey),
          "token",
        ],
        [`/api/admin/jobs?x%2Dcore%2Dapi%2Dkey=${ADMIN_TOKEN}`, admin, "x-core-api-key"],
      ] as const) {
        const response = await api.app.inject({ method: "GET", url, headers });
        expect(response.statusCode, url).toBe(400);
        expect(response.json()).toEqual({
          statusCode: 400,
          error: "Bad Request",
          message: `The query string carries "${name}": credentials are accepted only in headers (x-api-key, x-client-code, x-core-api-key), never in the URL`,
          code: "ECODRIX_AUTH_CREDENTIALS_IN_QUERY",
        });
      }
      // Ordinary query strings are untouched.
      expect(
        (
          await api.app.inject({
            method: "GET",
            url: "/api/admin/jobs?status=failed&limit=5",
            headers: admin,
          })
        ).statusCode,
      ).toBe(200);
    });

    it("secret-looking query parameters never reach the logs", async () => {
      await api.app.inject({
        method: "GET",
        url: `/api/saas/cors?x-api-key=${apiKey}`,
        headers: tenantHeaders("queryclinic", apiKey),
      });
      await api.app.inject({
        method: "GET",
        url: "/api/nope?hub.verify_token=VERIFY-SECRET-1&signature=SIG-SECRET-2&code=OAUTH-CODE-3&page=2",
      });
      const logs = api.logs();
      for (const secret of [apiKey, ADMIN_TOKEN, "VERIFY-SECRET-1", "SIG-SECRET-2", "OAUTH-CODE-3"]) {
        expect(logs).not.toContain(secret);
      }
      expect(logs).toContain(
        "/api/nope?hub.verify_token=[redacted]&signature=[redacted]&code=[redacted]&page=2",
      );
    });
  });

  describe("control characters", () => {
    const createClient = (name: string) =>
      api.app.inject({
        method: "POST",
        url: "/api/clients",
        headers: admin,
        payload: { name, email: "b@ctrlclinic.com" },
      });

    it("NUL and other control characters are refused in names and any other text, naming the field", async () => {
      const before = await api.db.collection("clients").countDocuments();
      for (const [name, codePoint] of [
        ["Dr.\u0000Evil", "U+0000"],
        ["Esc\u001b[31mred", "U+001B"],
        ["Bell\u0007", "U+0007"],
        ["Del\u007f", "U+007F"],
        ["Next\u0085line", "U+0085"],
      ] as const) {
        const response = await createClient(name);
        expect(response.statusCode, codePoint).toBe(400);
        expect(response.json()).toMatchObject({
          code: "ECODRIX_VALIDATION_CONTROL_CHARACTER",
          message: `body/name contains a control character (${codePoint}): text may hold printable characters, tabs and line breaks only`,
        });
      }
      for (const name of ["Two\nlines", "Tab\tbed", "Car\rriage"]) {
        const response = await createClient(name);
        expect(response.statusCode).toBe(400);
        expect(response.json().message).toBe("body/name must be one line of text (no tabs or line breaks)");
      }
      const patch = await api.app.inject({
        method: "PATCH",
        url: "/api/clients/queryclinic",
        headers: admin,
        payload: { name: "Query\u0000Clinic" },
      });
      expect(patch.statusCode).toBe(400);
      const cors = await api.app.inject({
        method: "POST",
        url: "/api/saas/cors",
        headers: tenantHeaders("queryclinic", apiKey),
        payload: { url: "https://queryclinic.com\u0000.evil.example" },
      });
      expect(cors.json().code).toBe("ECODRIX_VALIDATION_CONTROL_CHARACTER");
      const key = await api.app.inject({
        method: "POST",
        url: "/api/admin/jobs/echo",
        headers: { ...admin, "content-type": "application/json" },
        payload: '{"message": "hi", "nested": {"a\\u0001b": 1}}',
      });
      expect(key.json()).toMatchObject({
        code: "ECODRIX_VALIDATION_CONTROL_CHARACTER",
        message:
          "body/nested has a field name with a control character (U+0001): field names must be printable text",
      });
      expect(await api.db.collection("clients").countDocuments()).toBe(before);
      expect((await api.tenancy.clients.get("queryclinic")).name).toBe("Query Clinic");
    });

    it("free text keeps its tabs and line breaks", async () => {
      const response = await api.app.inject({
        method: "POST",
        url: "/api/admin/jobs/echo",
        headers: admin,
        payload: { message: "Line one\n\tLine two\r\n" },
      });
      expect(response.statusCode).toBe(202);
    });
  });

  describe("errors Node raises before there is a request", () => {
    const raw = (request: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, "127.0.0.1", () => socket.write(request));
        let received = "";
        socket.on("data", (chunk) => {
          received += chunk.toString();
        });
        socket.on("close", () => resolve(received));
        socket.on("error", reject);
      });
    const parse = (response: string) => {
      const [head = "", json = ""] = response.split("\r\n\r\n");
      return { statusLine: head.split("\r\n")[0], head, body: JSON.parse(json) as unknown };
    };

    it("431 for headers over 16 KB, in the product's error format", async () => {
      const response = parse(
        await raw(`GET /api/saas/health HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`),
      );
      expect(response.statusLine).toBe("HTTP/1.1 431 Request Header Fields Too Large");
      expect(response.head).toMatch(/content-type: application\/json/i);
      expect(response.body).toEqual({
        statusCode: 431,
        error: "Request Header Fields Too Large",
        message: "The request's headers are too large: at most 16 KB in all",
        code: "ECODRIX_HTTP_431",
      });
    });

    it("400 for what is not HTTP", async () => {
      const response = parse(await raw("HELLO THERE\r\n\r\n"));
      expect(response.statusLine).toBe("HTTP/1.1 400 Bad Request");
      expect(response.body).toEqual({
        statusCode: 400,
        error: "Bad Request",
        message: "The request is not valid HTTP",
        code: "ECODRIX_HTTP_400",
      });
    });
  });
});
