import { AppError, createLogger } from "@ecodrix/platform";
import { createQueue } from "@ecodrix/queue";
import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "./app.js";

const ADMIN_TOKEN = "admin-token-for-tests-0123456789";

describe("API foundation", () => {
  let mongo: TestMongo;
  let app: FastifyInstance;

  beforeAll(async () => {
    mongo = await createTestMongo("api");
    app = await buildApp({
      config: { coreApiToken: ADMIN_TOKEN },
      db: mongo.db,
      logger: createLogger({ level: "silent", name: "test" }),
      queue: createQueue({ db: mongo.db }),
    });
    // Routes that exist only to prove how the error handler renders thrown errors.
    app.get("/__test/app-error", async () => {
      throw new AppError("ECODRIX_TEST_CONFLICT", "Thing sharmaclinic already exists", 409);
    });
    app.get("/__test/crash", async () => {
      throw new Error("connection string mongodb://user:hunter2@db leaked?");
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await mongo.close();
  });

  describe("admin authentication", () => {
    it("refuses a request without x-core-api-key with 401 and a clear message", async () => {
      const res = await app.inject({
        method: "POST",
        url: "/api/admin/jobs/echo",
        payload: { message: "x" },
      });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({
        statusCode: 401,
        error: "Unauthorized",
        message: "Missing x-core-api-key header",
        code: "ECODRIX_AUTH_ADMIN_KEY_MISSING",
      });
    });

    it("refuses a wrong token, including one that is a prefix of the right one", async () => {
      for (const token of ["wrong", ADMIN_TOKEN.slice(0, -1), `${ADMIN_TOKEN}x`]) {
        const res = await app.inject({
          method: "POST",
          url: "/api/admin/jobs/echo",
          headers: { "x-core-api-key": token },
          payload: { message: "x" },
        });
        expect(res.statusCode).toBe(401);
        expect(res.json().message).toBe("Invalid x-core-api-key");
      }
      expect(await mongo.db.collection("jobs").countDocuments()).toBe(0);
    });

    it("accepts the right token and enqueues a plain, readable job document", async () => {
      const res = await app.inject({
        method: "POST",
        url: "/api/admin/jobs/echo",
        headers: { "x-core-api-key": ADMIN_TOKEN },
        payload: { message: "hello" },
      });
      expect(res.statusCode).toBe(202);
      const job = await mongo.db.collection("jobs").findOne({ type: "echo" });
      expect(job).toMatchObject({
        type: "echo",
        status: "pending",
        payload: { message: "hello" },
        retries: 0,
      });
      expect(String(job?._id)).toBe(res.json().jobId);
    });
  });

  describe("error rendering", () => {
    const admin = { "x-core-api-key": ADMIN_TOKEN };

    it("names an unknown body field and changes nothing", async () => {
      const before = await mongo.db.collection("jobs").countDocuments();
      const res = await app.inject({
        method: "POST",
        url: "/api/admin/jobs/echo",
        headers: admin,
        payload: { message: "x", status: "completed" },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({
        code: "ECODRIX_VALIDATION_FAILED",
        message: "body/status is not an allowed field",
      });
      expect(await mongo.db.collection("jobs").countDocuments()).toBe(before);
    });

    it("names a missing required field", async () => {
      const res = await app.inject({
        method: "POST",
        url: "/api/admin/jobs/echo",
        headers: admin,
        payload: {},
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().message).toBe("body/message is required");
    });

    it("answers malformed JSON with 400", async () => {
      const res = await app.inject({
        method: "POST",
        url: "/api/admin/jobs/echo",
        headers: { ...admin, "content-type": "application/json" },
        payload: '{"message": ',
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ statusCode: 400, message: "Body is not valid JSON" });
    });

    it("names prototype-poisoning keys (valid JSON, refused field names) and changes nothing", async () => {
      const before = await mongo.db.collection("jobs").countDocuments();
      for (const [payload, path] of [
        ['{"message": "x", "__proto__": {"admin": true}}', "body/__proto__"],
        [
          '{"message": "x", "nested": {"constructor": {"prototype": {"admin": true}}}}',
          "body/nested/constructor",
        ],
      ] as const) {
        const res = await app.inject({
          method: "POST",
          url: "/api/admin/jobs/echo",
          headers: { ...admin, "content-type": "application/json" },
          payload,
        });
        expect(res.statusCode).toBe(400);
        expect(res.json()).toMatchObject({
          message: `${path} is not allowed: "__proto__" and "constructor.prototype" are refused field names`,
          code: "ECODRIX_VALIDATION_PROTOTYPE_KEY",
        });
      }
      expect(await mongo.db.collection("jobs").countDocuments()).toBe(before);
      expect(({} as Record<string, unknown>).admin).toBeUndefined();
    });

    it("answers a malformed URL in the product's error format", async () => {
      const res = await app.inject({ method: "GET", url: "/api/admin/jobs/%E0%A4%A" });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        statusCode: 400,
        error: "Bad Request",
        message: "The URL is malformed",
        code: "ECODRIX_HTTP_400",
      });
    });

    it("answers an oversized body with 413", async () => {
      const res = await app.inject({
        method: "POST",
        url: "/api/admin/jobs/echo",
        headers: admin,
        payload: { message: "x".repeat(200 * 1024) },
      });
      expect(res.statusCode).toBe(413);
      expect(res.json()).toMatchObject({ statusCode: 413, message: "Body is too large" });
    });

    it("renders coded domain errors with their status and message", async () => {
      const res = await app.inject({ method: "GET", url: "/__test/app-error" });
      expect(res.statusCode).toBe(409);
      expect(res.json()).toEqual({
        statusCode: 409,
        error: "Conflict",
        message: "Thing sharmaclinic already exists",
        code: "ECODRIX_TEST_CONFLICT",
      });
    });

    it("hides the internals of unexpected errors", async () => {
      const res = await app.inject({ method: "GET", url: "/__test/crash" });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual({
        statusCode: 500,
        error: "Internal Server Error",
        message: "Internal Server Error",
        code: "ECODRIX_INTERNAL",
      });
      expect(res.body).not.toContain("hunter2");
    });

    it("answers unknown routes with a JSON 404", async () => {
      const res = await app.inject({ method: "GET", url: "/api/nope?x=1" });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({
        message: "Route GET /api/nope not found",
        code: "ECODRIX_ROUTE_NOT_FOUND",
      });
    });
  });
});
