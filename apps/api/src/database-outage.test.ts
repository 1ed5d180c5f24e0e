import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { createTenancyServices } from "@ecodrix/domain";
import { type CentralMongo, connectCentralMongo, createLogger } from "@ecodrix/platform";
import { createQueue } from "@ecodrix/queue";
import { type EmbeddedMongo, startEmbeddedMongo } from "@ecodrix/test-kit";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp, productCapabilities } from "./app.js";
import { CENTRAL_MONGO_TIMEOUTS } from "./plugins/database-unavailable.js";

const TOKEN = `outage_${randomBytes(16).toString("hex")}`;

/**
 * The central database frozen (SIGSTOP: connections stay open, nothing answers) and stopped mid-run, with
 * the API's own driver timeouts: requests get a 503 with Retry-After in seconds, not a hang and a 500.
 */
describe("database outage", () => {
  let server: EmbeddedMongo;
  let port: number;
  let mongo: CentralMongo;
  let app: FastifyInstance;
  let apiKey = "";
  let frozen = false;

  beforeAll(async () => {
    server = await startEmbeddedMongo();
    port = Number(new URL(server.uri).port);
    mongo = await connectCentralMongo(server.uri, "outage", CENTRAL_MONGO_TIMEOUTS);
    const logger = createLogger({ level: "silent", name: "test" });
    const queue = createQueue({ db: mongo.db });
    await queue.ensureIndexes();
    const tenancy = createTenancyServices({
      db: mongo.db,
      encryptionKeys: [randomBytes(32)],
      queue,
      logger,
      capabilities: productCapabilities,
    });
    app = await buildApp({ config: { coreApiToken: TOKEN }, db: mongo.db, logger, queue, tenancy });
    await app.ready();
    const created = await app.inject({
      method: "POST",
      url: "/api/clients",
      headers: { "x-core-api-key": TOKEN },
      payload: { name: "Outage Clinic", email: "a@outageclinic.com" },
    });
    apiKey = created.json().apiKey;
  });
  afterAll(async () => {
    if (frozen && server.pid) process.kill(server.pid, "SIGCONT");
    await app?.close();
    await mongo?.close();
    await server?.stop();
  });

  const requests = () => [
    // The enqueue path.
    app.inject({
      method: "POST",
      url: "/api/admin/jobs/echo",
      headers: { "x-core-api-key": TOKEN },
      payload: { message: "during the outage" },
    }),
    app.inject({ method: "GET", url: "/api/clients/outageclinic", headers: { "x-core-api-key": TOKEN } }),
    // Tenant authentication reads the database: unavailable, not "Invalid API key" (and not a failure).
    app.inject({
      method: "GET",
      url: "/api/saas/cors",
      headers: { "x-client-code": "outageclinic", "x-api-key": apiKey },
    }),
  ];

  const expectUnavailable = (responses: LightMyRequestResponse[]) => {
    for (const response of responses) {
      expect(response.statusCode, response.body).toBe(503);
      expect(response.headers["retry-after"]).toBe("5");
      expect(response.json()).toEqual({
        statusCode: 503,
        error: "Service Unavailable",
        message: "The database is not answering; retry in 5 s",
        code: "ECODRIX_DATABASE_UNAVAILABLE",
      });
    }
  };

  const recovers = async () => {
    for (let attempt = 0; attempt < 60; attempt++) {
      const statuses = (await Promise.all(requests())).map((response) => response.statusCode);
      if (statuses.every((status) => status < 300)) return statuses;
      await sleep(500);
    }
    throw new Error("the API did not recover");
  };

  it("frozen: every request answers 503 with Retry-After within seconds, then recovers by itself", async () => {
    expect((await recovers()).length).toBe(3);
    process.kill(server.pid!, "SIGSTOP");
    frozen = true;
    const started = Date.now();
    const responses = await Promise.all(requests());
    const elapsed = Date.now() - started;
    expectUnavailable(responses);
    console.info(`frozen database: answered 503 in ${elapsed} ms`);
    // One socket timeout, then a retried read's server selection; the driver's defaults hung 30 s and more.
    expect(elapsed).toBeLessThan(
      CENTRAL_MONGO_TIMEOUTS.socketTimeoutMS + CENTRAL_MONGO_TIMEOUTS.serverSelectionTimeoutMS + 2_000,
    );
    process.kill(server.pid!, "SIGCONT");
    frozen = false;
    expect(await recovers()).toEqual([202, 200, 200]);
  });

  it("stopped mid-run: 503 with Retry-After, and back once the server is", async () => {
    await server.stop();
    const started = Date.now();
    expectUnavailable(await Promise.all(requests()));
    console.info(`stopped database: answered 503 in ${Date.now() - started} ms`);
    expect(Date.now() - started).toBeLessThan(2 * CENTRAL_MONGO_TIMEOUTS.serverSelectionTimeoutMS + 2_000);
    // The embedded server is in memory: it comes back empty, so the client is created again.
    server = await startEmbeddedMongo({ port });
    await recoversWith(async () => {
      const created = await app.inject({
        method: "POST",
        url: "/api/clients",
        headers: { "x-core-api-key": TOKEN },
        payload: { name: "Outage Clinic", email: "a@outageclinic.com" },
      });
      if (created.statusCode === 201) apiKey = created.json().apiKey;
      return created.statusCode === 201;
    });
    expect(await recovers()).toEqual([202, 200, 200]);
  });

  async function recoversWith(attempt: () => Promise<boolean>) {
    for (let tries = 0; tries < 60; tries++) {
      if (await attempt()) return;
      await sleep(500);
    }
    throw new Error("the API did not recover");
  }
});
