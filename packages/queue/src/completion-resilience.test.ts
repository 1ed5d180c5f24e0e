import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createLogger } from "@ecodrix/platform";
import { type EmbeddedMongo, startEmbeddedMongo } from "@ecodrix/test-kit";
import { MongoClient } from "mongodb";
import { afterAll, describe, expect, it } from "vitest";
import { handlerRegistry } from "./job-definition.js";
import { createQueue } from "./queue.js";
import { createWorkerRunner } from "./worker-runner.js";

describe("a database outage while a job completes", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "ecodrix-outage-"));
  let server: EmbeddedMongo | undefined;
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("does not turn the handler's success into a failure: the completion is retried once the database is back", async () => {
    // A server of its own, on a file, so it can be stopped and started again with the data kept.
    const file = path.join(dir, "db.mv");
    server = await startEmbeddedMongo({ backend: "h2", file });
    const port = Number(new URL(server.uri).port);
    const client = new MongoClient(server.uri, { serverSelectionTimeoutMS: 300 });
    // The short selection timeout is for the outage below; a busy host may need longer for the first
    // connection, which is not what this test is about.
    for (let attempt = 0; ; attempt++) {
      try {
        await client.connect();
        break;
      } catch (error) {
        if (attempt === 20) throw error;
      }
    }
    const queue = createQueue({ db: client.db("outage") });
    await queue.ensureIndexes();
    const job = await queue.enqueue({ type: "send", maxRetries: 0 });

    let runs = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const runner = createWorkerRunner({
      queue,
      jobs: handlerRegistry({
        send: async () => {
          runs++;
          await gate;
          return { sent: true };
        },
      }),
      logger: createLogger({ level: "silent", name: "test" }),
      concurrency: 1,
      prefetch: 0,
      leaseMs: 30_000,
      pollMinMs: 20,
      pollMaxMs: 100,
    });
    runner.start();
    try {
      while (runs === 0) await sleep(20);
      // The handler has run; the database goes away before its completion is written.
      await server.stop();
      release();
      await sleep(400);
      server = await startEmbeddedMongo({ backend: "h2", file, port });

      let stored = await queue.get(job._id).catch(() => null);
      for (let i = 0; i < 100 && stored?.status !== "completed"; i++) {
        await sleep(100);
        stored = await queue.get(job._id).catch(() => null);
      }
      expect(stored).toMatchObject({
        status: "completed",
        retries: 0,
        result: { sent: true },
        lastError: null,
      });
      expect(runs).toBe(1);
    } finally {
      await runner.stop();
      await client.close();
    }
  });
});
