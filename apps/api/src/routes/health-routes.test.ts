import { setTimeout as sleep } from "node:timers/promises";
import { createLogger } from "@ecodrix/platform";
import { createQueue } from "@ecodrix/queue";
import { startEmbeddedMongo } from "@ecodrix/test-kit";
import { MongoClient } from "mongodb";
import { describe, expect, it } from "vitest";
import { buildApp } from "../app.js";

describe("GET /api/saas/health", () => {
  it("answers 200 while MongoDB is up, 503 while it is down, and recovers by itself", async () => {
    // A server of its own, so the test can stop it without disturbing other tests.
    let server = await startEmbeddedMongo();
    const port = Number(new URL(server.uri).port);
    const client = new MongoClient(server.uri, { serverSelectionTimeoutMS: 1_000 });
    const db = client.db("health");
    const app = await buildApp({
      config: { coreApiToken: "t".repeat(32) },
      db,
      logger: createLogger({ level: "silent", name: "test" }),
      queue: createQueue({ db }),
    });
    try {
      const up = await app.inject({ method: "GET", url: "/api/saas/health" });
      expect(up.statusCode).toBe(200);
      expect(up.json()).toMatchObject({ status: "ok", mongo: "up", version: "1.0.0" });
      expect(typeof up.json().uptimeSeconds).toBe("number");

      await server.stop();
      const down = await app.inject({ method: "GET", url: "/api/saas/health" });
      expect(down.statusCode).toBe(503);
      expect(down.json()).toMatchObject({ mongo: "down" });

      server = await startEmbeddedMongo({ port });
      let recovered = 0;
      for (let attempt = 0; attempt < 30 && recovered !== 200; attempt++) {
        recovered = (await app.inject({ method: "GET", url: "/api/saas/health" })).statusCode;
        if (recovered !== 200) await sleep(500);
      }
      expect(recovered).toBe(200);
    } finally {
      await app.close();
      await client.close();
      await server.stop();
    }
  });
});
