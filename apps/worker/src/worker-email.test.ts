import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { createTenancyServices, type TenancyServices } from "@ecodrix/domain";
import { integrationCapabilities, sendEmailContract } from "@ecodrix/integrations";
import { createLogger, loadConfig } from "@ecodrix/platform";
import { createQueue, enqueueJob, type JobDocument, type Queue } from "@ecodrix/queue";
import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import { type SmtpFake, startSmtpFake } from "@ecodrix/test-kit/fakes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildWorker } from "./worker.js";

const quiet = createLogger({ level: "silent", name: "test" });
const key = randomBytes(32);

describe("the worker runs send_email and closes its SMTP connections when it stops", () => {
  let mongo: TestMongo;
  let queue: Queue;
  let tenancy: TenancyServices;
  let smtp: SmtpFake;

  beforeAll(async () => {
    mongo = await createTestMongo("worker_email");
    queue = createQueue({ db: mongo.db });
    await queue.ensureIndexes();
    tenancy = createTenancyServices({
      db: mongo.db,
      encryptionKeys: [key],
      queue,
      logger: quiet,
      capabilities: integrationCapabilities,
    });
    await tenancy.ensureIndexes();
    smtp = await startSmtpFake({ credentials: { user: "desk", pass: "pw-123456" } });
    await tenancy.clients.create({
      name: "Worker Clinic",
      email: "hi@workerclinic.com",
      clientCode: "workerclinic",
    });
    await tenancy.clients.setSecrets("workerclinic", {
      smtpHost: "127.0.0.1",
      smtpPort: smtp.port,
      smtpUser: "desk",
      smtpPass: "pw-123456",
      smtpFrom: "desk@workerclinic.com",
    });
    await tenancy.clients.setDatasource("workerclinic", `${mongo.uri}/${mongo.dbName}_workerclinic`);
  });
  afterAll(async () => {
    await tenancy.close();
    await smtp.stop();
    await mongo.client.db(`${mongo.dbName}_workerclinic`).dropDatabase();
    await mongo.close();
  });

  it("sends through the product's job list, and stop() leaves no SMTP connection open", async () => {
    const config = loadConfig({
      MONGODB_URI: mongo.uri,
      CORE_API_TOKEN: `test_${randomBytes(24).toString("hex")}`,
      ENCRYPTION_KEY: key.toString("hex"),
      WORKER_POLL_MIN_MS: "20",
      WORKER_POLL_MAX_MS: "100",
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: "true",
    });
    const worker = buildWorker({ config, logger: quiet, db: mongo.db, queue, tenancy, schedules: [] });
    worker.start();
    try {
      const job = await enqueueJob(queue, sendEmailContract, {
        clientCode: "workerclinic",
        payload: { to: "asha@patients.example", subject: "Hello", text: "From the worker" },
      });
      let done: JobDocument | null = null;
      const deadline = Date.now() + 20_000;
      while (done?.status !== "completed" && done?.status !== "failed" && Date.now() < deadline) {
        await sleep(25);
        done = await queue.get(job._id);
      }
      expect(done?.status, String(done?.lastError)).toBe("completed");
      expect(smtp.messages.map((message) => message.messageId)).toEqual([
        `<${String(job._id)}@workerclinic.com>`,
      ]);
      // The pooled connection stays open for the next send (idle close is a minute away).
      expect(smtp.openConnections).toBe(1);
    } finally {
      await worker.stop();
    }
    const deadline = Date.now() + 5_000;
    while (smtp.openConnections > 0 && Date.now() < deadline) await sleep(20);
    expect(smtp.openConnections).toBe(0);
  });
});
