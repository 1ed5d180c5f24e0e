/**
 * `npm run bench:whatsapp`: 10,000 template sends through the fake Graph API (answering in ~50 ms) by two
 * real worker processes (apps/worker, the product's start-up path), one clinic, one phone number id.
 * Reports messages/s, p95 enqueue-to-sent (enqueue to Meta's answer), and the highest number of sends the
 * fake received in any one-second window against the cluster-wide limit (WHATSAPP_MESSAGES_PER_SECOND).
 * Progress goes to stderr; the last line of stdout is one JSON object.
 *
 * Uses MONGODB_URI when set; otherwise starts the embedded server. BENCH_MESSAGES, BENCH_WORKERS,
 * BENCH_ANSWER_MS and WHATSAPP_MESSAGES_PER_SECOND change the run.
 */
import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { crmCapabilities } from "@ecodrix/crm";
import { createTenancyServices } from "@ecodrix/domain";
import { integrationCapabilities, sendWhatsappContract } from "@ecodrix/integrations";
import { createLogger } from "@ecodrix/platform";
import { createQueue, type EnqueueInput, payloadProblem } from "@ecodrix/queue";
import { startEmbeddedMongo } from "@ecodrix/test-kit/embedded-mongo";
import { startGraphApiFake } from "@ecodrix/test-kit/fakes";
import { MongoClient } from "mongodb";
import { intFromEnv } from "./bench-util.js";

const MESSAGES = intFromEnv("BENCH_MESSAGES", 10_000);
const WORKERS = intFromEnv("BENCH_WORKERS", 2);
const ANSWER_MS = intFromEnv("BENCH_ANSWER_MS", 50);
const LIMIT = intFromEnv("WHATSAPP_MESSAGES_PER_SECOND", 80);
const CAP_MS = intFromEnv("BENCH_CAP_MS", Math.ceil((MESSAGES / LIMIT) * 1000 * 3 + 60_000));
const log = (line: string) => process.stderr.write(`[bench:whatsapp] ${line}\n`);

const workerMain = fileURLToPath(new URL("../../worker/src/main.ts", import.meta.url));

const embedded = process.env.MONGODB_URI ? undefined : await startEmbeddedMongo();
const uri = process.env.MONGODB_URI ?? (embedded?.uri as string);
const dbName = `bench_wa_${randomBytes(4).toString("hex")}`;
const tenantDbName = `${dbName}_clinic`;
const client = new MongoClient(uri);
await client.connect();
const db = client.db(dbName);
const fake = await startGraphApiFake({ answerDelayMs: ANSWER_MS });
const encryptionKey = randomBytes(32).toString("hex");
const workers: ChildProcess[] = [];

try {
  const logger = createLogger({ level: "silent", name: "bench" });
  const queue = createQueue({ db });
  await queue.ensureIndexes();
  const tenancy = createTenancyServices({
    db,
    encryptionKeys: [Buffer.from(encryptionKey, "hex")],
    queue,
    logger,
    capabilities: [...integrationCapabilities, ...crmCapabilities],
  });
  await tenancy.ensureIndexes();
  const clientCode = "benchclinic";
  await tenancy.clients.create({ name: "Bench Clinic", email: "hi@benchclinic.example", clientCode });
  await tenancy.clients.setSecrets(clientCode, {
    whatsappToken: "bench-token",
    whatsappBusinessId: "bench-waba",
    whatsappPhoneNumberId: "bench-phone",
  });
  await tenancy.clients.setDatasource(clientCode, `${uri}/${tenantDbName}`);
  await client
    .db(tenantDbName)
    .collection("whatsapp_templates")
    .insertOne({
      name: "appointment_confirmed",
      language: "en_US",
      status: "APPROVED",
      category: "UTILITY",
      components: [{ type: "BODY", text: "Hello {{1}}, your appointment on {{2}} is confirmed." }],
      id: "1",
      syncedAt: new Date(),
    });
  await tenancy.close();

  log(`enqueueing ${MESSAGES} send_whatsapp jobs`);
  const recipients = Array.from({ length: MESSAGES }, (_, index) => `+9170${String(index).padStart(8, "0")}`);
  for (let start = 0; start < MESSAGES; start += 1000) {
    const batch: EnqueueInput<Record<string, unknown>>[] = recipients.slice(start, start + 1000).map((to) => {
      const payload = {
        to,
        templateName: "appointment_confirmed",
        language: "en_US",
        bodyParams: ["Asha", "2 March"],
      };
      const problem = payloadProblem(sendWhatsappContract, payload);
      if (problem) throw new Error(problem);
      return { type: sendWhatsappContract.type, clientCode, payload };
    });
    await queue.enqueueMany(batch);
  }
  const enqueuedAt = Date.now();

  log(`starting ${WORKERS} worker processes`);
  for (let index = 0; index < WORKERS; index++) {
    workers.push(
      fork(workerMain, [], {
        execArgv: ["--import", "tsx"],
        stdio: ["ignore", "ignore", "inherit", "ipc"],
        env: {
          ...process.env,
          NODE_ENV: "production",
          MONGODB_URI: uri,
          SERVICES_DB_NAME: dbName,
          CORE_API_TOKEN: randomBytes(24).toString("hex"),
          ENCRYPTION_KEY: encryptionKey,
          WHATSAPP_GRAPH_BASE_URL: fake.url,
          WHATSAPP_MESSAGES_PER_SECOND: String(LIMIT),
          LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
        },
      }),
    );
  }

  const jobs = db.collection("jobs");
  const deadline = Date.now() + CAP_MS;
  for (;;) {
    const done = await jobs.countDocuments({
      type: "send_whatsapp",
      status: { $in: ["completed", "failed"] },
    });
    log(`${done}/${MESSAGES} finished, ${fake.sent.length} sent to the fake`);
    if (done >= MESSAGES) break;
    if (Date.now() > deadline) throw new Error(`only ${done} of ${MESSAGES} finished within ${CAP_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
  const failed = await jobs.countDocuments({ type: "send_whatsapp", status: "failed" });

  // Enqueue-to-sent per message: the job's createdAt to the fake's answer (Meta accepted it).
  const createdAt = new Map<string, number>();
  for await (const job of jobs.find(
    { type: "send_whatsapp" },
    { projection: { createdAt: 1, "payload.to": 1 } },
  )) {
    createdAt.set(
      String((job.payload as { to: string }).to).replace(/^\+/, ""),
      (job.createdAt as Date).getTime(),
    );
  }
  const latencies = fake.sent
    .map((message) => (message.answeredAt?.getTime() ?? 0) - (createdAt.get(message.to) ?? 0))
    .sort((a, b) => a - b);
  const p95 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.95))] ?? 0;
  const arrivals = fake.sent.map((message) => message.receivedAt.getTime()).sort((a, b) => a - b);
  let maxWindow = 0;
  let left = 0;
  for (let right = 0; right < arrivals.length; right++) {
    while ((arrivals[right] as number) - (arrivals[left] as number) >= 1000) left++;
    maxWindow = Math.max(maxWindow, right - left + 1);
  }
  const firstSent = arrivals[0] ?? enqueuedAt;
  const lastSent = arrivals.at(-1) ?? enqueuedAt;
  const perNumber = new Set(fake.sent.map((message) => message.phoneNumberId));
  const duplicates = fake.sent.length - new Set(fake.sent.map((message) => message.to)).size;
  const result = {
    messages: MESSAGES,
    sent: fake.sent.length,
    failed,
    duplicates,
    workers: WORKERS,
    answer_ms: ANSWER_MS,
    phone_numbers: perNumber.size,
    duration_s: Number(((lastSent - firstSent) / 1000).toFixed(1)),
    messages_per_s: Number((fake.sent.length / Math.max(0.001, (lastSent - firstSent) / 1000)).toFixed(1)),
    p95_ms: p95,
    max_per_second_window: maxWindow,
    limit: LIMIT,
  };
  process.stdout.write(
    `${[
      `WhatsApp sends: ${result.sent}/${MESSAGES} sent (${failed} failed, ${duplicates} duplicates) by ${WORKERS} workers, fake answering in ${ANSWER_MS} ms`,
      `  throughput      ${result.messages_per_s} messages/s over ${result.duration_s} s (first to last send)`,
      `  p95 enqueue→sent ${p95} ms (all ${MESSAGES} enqueued at once: the queue wait under the limit dominates)`,
      `  busiest 1 s window at the fake: ${maxWindow} sends (limit ${LIMIT}/s per phone number)`,
    ].join("\n")}\n${JSON.stringify(result)}\n`,
  );
} finally {
  for (const worker of workers) worker.kill("SIGTERM");
  await Promise.all(
    workers.map((worker) =>
      worker.exitCode === null ? new Promise((resolve) => worker.once("exit", resolve)) : undefined,
    ),
  );
  await client
    .db(dbName)
    .dropDatabase()
    .catch(() => {});
  await client
    .db(tenantDbName)
    .dropDatabase()
    .catch(() => {});
  await client.close();
  await fake.stop();
  await embedded?.stop();
}
