/**
 * `npm run bench:crm`: the CRM's figures, one phase after another on one database server. Progress
 * goes to stderr; the last line of stdout is one JSON object with every phase's figures.
 *
 * - automation (`automation_*`): from the PATCH that confirms an appointment to the `send_whatsapp`
 *   job its automation (runbook §1 step 7) schedules having completed, at 20 confirmations per second
 *   for 30 s, with 2 worker processes (the product's worker, crm-bench-worker.ts) sending through the
 *   fake Graph API (answering in BENCH_CRM_GRAPH_MS, default 50 ms). Target p95 ≤ 1 s.
 *
 * - scoring (`score_*`, crm-scoring-phase.ts): a full lead score recalculation of 100,000 leads × 10
 *   rules with their events in a real worker process, and its memory at 25,000 against 100,000 leads.
 *
 * Uses MONGODB_URI when set; otherwise starts one embedded mongo-java-server (in memory) and stops it
 * at the end. Figures on the embedded server are not MongoDB figures (see apps/bench/README.md).
 */
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { buildApp } from "@ecodrix/api";
import { createLogger } from "@ecodrix/platform";
import { createQueue, type JobDocument } from "@ecodrix/queue";
import { startEmbeddedMongo } from "@ecodrix/test-kit/embedded-mongo";
import { startGraphApiFake } from "@ecodrix/test-kit/fakes";
import { MongoClient } from "mongodb";
import { intFromEnv, percentile } from "./bench-util.js";
import type { CrmBenchWorkerConfig, CrmBenchWorkerMessage } from "./crm-bench-worker.js";
import { measureScoring } from "./crm-scoring-phase.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "../../..");
const log = (line: string) => process.stderr.write(`[bench:crm] ${line}\n`);

export interface AutomationPlan {
  ratePerSecond: number;
  durationSeconds: number;
  workerProcesses: number;
  /** How long the fake Graph API takes to answer a send. */
  graphAnswerMs: number;
}

export interface AutomationFigures {
  automation_p50_ms: number;
  automation_p95_ms: number;
  automation_p99_ms: number;
  automation_max_ms: number;
  automation_sends: number;
  automation_expected: number;
  automation_patch_p95_ms: number;
  automation_rate_per_s: number;
  automation_duration_s: number;
  automation_worker_processes: number;
  /** Template messages the fake Graph API received: one per confirmation, none twice. */
  automation_graph_sends: number;
  automation_graph_answer_ms: number;
}

/** Starts one product worker process; resolves when it has started claiming. */
async function startWorker(config: CrmBenchWorkerConfig) {
  const child = fork(path.join(here, "crm-bench-worker.ts"), [JSON.stringify(config)], {
    cwd: repoRoot,
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const next = (type: CrmBenchWorkerMessage["type"]) =>
    new Promise<CrmBenchWorkerMessage>((resolve, reject) => {
      const onMessage = (message: CrmBenchWorkerMessage) => {
        if (message.type !== type) return;
        child.off("message", onMessage);
        resolve(message);
      };
      child.on("message", onMessage);
      child.once("exit", (code) => reject(new Error(`bench worker exited (${code}) before ${type}`)));
    });
  await next("ready");
  return {
    async stop() {
      const stopped = next("stopped");
      child.send({ type: "stop" });
      await stopped;
    },
  };
}

/** The automation phase: its own databases on `uri`, dropped at the end. */
export async function measureAutomation(uri: string, plan: AutomationPlan): Promise<AutomationFigures> {
  const run = randomBytes(4).toString("hex");
  const dbName = `bench_crm_${run}`;
  const tenantDbName = `${dbName}_tenant`;
  const coreApiToken = `bench_${randomBytes(24).toString("hex")}`;
  const encryptionKey = randomBytes(32).toString("hex");
  const graph = await startGraphApiFake({ answerDelayMs: plan.graphAnswerMs });
  const client = new MongoClient(uri);
  await client.connect();
  const db = client.db(dbName);
  const queue = createQueue({ db });
  await queue.ensureIndexes();
  const app = await buildApp({
    config: { coreApiToken, encryptionKeys: [Buffer.from(encryptionKey, "hex")] },
    db,
    logger: createLogger({ level: "warn", name: "crm-bench-api", destination: process.stderr }),
    queue,
    authRateLimit: { maxFailures: 1_000, maxFailuresPerIp: 10_000 },
  });
  const base = await app.listen({ port: 0, host: "127.0.0.1" });
  const workers: Awaited<ReturnType<typeof startWorker>>[] = [];
  try {
    const call = async (method: string, url: string, headers: Record<string, string>, body?: unknown) => {
      const response = await fetch(`${base}${url}`, {
        method,
        headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      if (response.status >= 300) throw new Error(`${method} ${url} → ${response.status} ${text}`);
      return JSON.parse(text) as Record<string, unknown>;
    };
    const admin = { "x-core-api-key": coreApiToken };
    // Runbook §1 steps 1, 3 and 7 (the templates as step 5's sync stores them).
    const created = await call("POST", "/api/clients", admin, {
      name: "Bench Clinic",
      email: "hello@benchclinic.example.com",
      clientCode: "benchclinic",
    });
    const tenant = { "x-client-code": "benchclinic", "x-api-key": String(created.apiKey) };
    await call("POST", "/api/clients/benchclinic/secrets", admin, {
      whatsappToken: "bench-token",
      whatsappBusinessId: "bench-waba",
      whatsappPhoneNumberId: "bench-phone",
    });
    await call("POST", "/api/clients/benchclinic/datasource", admin, {
      dbUri: `${uri.replace(/\/$/, "")}/${tenantDbName}`,
    });
    await client
      .db(tenantDbName)
      .collection("whatsapp_templates")
      .insertOne({ name: "appointment_confirmed", language: "en_US", status: "APPROVED", components: [] });
    await call("POST", "/api/crm/automations", tenant, {
      name: "Appointment Confirmed WA",
      trigger: "appointment_confirmed",
      triggerConfig: {},
      actions: [
        {
          type: "send_whatsapp",
          delayMinutes: 0,
          config: { templateName: "appointment_confirmed", language: "en_US" },
        },
      ],
    });

    for (let index = 0; index < plan.workerProcesses; index++) {
      workers.push(await startWorker({ uri, dbName, encryptionKey, coreApiToken, graphBaseUrl: graph.url }));
    }

    const total = plan.ratePerSecond * plan.durationSeconds;
    log(`setup: ${total} leads with an appointment each`);
    const appointments: string[] = [];
    const setupConcurrency = 8;
    for (let start = 0; start < total; start += setupConcurrency) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(setupConcurrency, total - start) }, async (_unused, offset) => {
          const index = start + offset;
          const lead = await call("POST", "/api/crm/leads", tenant, {
            name: `Bench Lead ${index}`,
            phone: `+9198${String(10_000_000 + index).padStart(8, "0")}`,
          });
          const appointment = await call("POST", "/api/crm/appointments", tenant, {
            leadId: lead.id,
            startsAt: new Date(Date.now() + 86_400_000 + index * 60_000).toISOString(),
          });
          return String(appointment.id);
        }),
      );
      appointments.push(...batch);
    }
    // Let the workers finish the setup's own events (lead_created, appointment_booked) first.
    for (;;) {
      const backlog = await queue.jobs.countDocuments({
        type: "automation_event",
        status: { $in: ["pending", "processing"] },
      });
      if (backlog === 0) break;
      await sleep(200);
    }

    log(
      `measuring: ${plan.ratePerSecond} confirmations/s for ${plan.durationSeconds} s, ${plan.workerProcesses} worker processes`,
    );
    const patchedAt = new Map<string, number>();
    const patchLatencies: number[] = [];
    const started = Date.now();
    const interval = 1000 / plan.ratePerSecond;
    const requests: Promise<void>[] = [];
    for (const [index, id] of appointments.entries()) {
      const due = started + index * interval;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      const at = Date.now();
      patchedAt.set(id, at);
      requests.push(
        call("PATCH", `/api/crm/appointments/${id}`, tenant, { status: "confirmed" }).then(() => {
          patchLatencies.push(Date.now() - at);
        }),
      );
    }
    await Promise.all(requests);
    const deadline = Date.now() + 120_000;
    let sends: JobDocument[] = [];
    while (Date.now() < deadline) {
      sends = await queue.jobs
        .find({ type: "send_whatsapp", clientCode: "benchclinic", status: "completed" })
        .toArray();
      if (sends.length >= total) break;
      await sleep(250);
    }
    const latencies = sends
      .map((job) => {
        const appointmentId = (job.payload.context as { appointmentId?: string } | undefined)?.appointmentId;
        const at = appointmentId ? patchedAt.get(appointmentId) : undefined;
        return at !== undefined && job.completedAt ? job.completedAt.getTime() - at : Number.NaN;
      })
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    patchLatencies.sort((a, b) => a - b);
    return {
      automation_p50_ms: percentile(latencies, 50),
      automation_p95_ms: percentile(latencies, 95),
      automation_p99_ms: percentile(latencies, 99),
      automation_max_ms: latencies[latencies.length - 1] ?? Number.NaN,
      automation_sends: latencies.length,
      automation_expected: total,
      automation_patch_p95_ms: percentile(patchLatencies, 95),
      automation_rate_per_s: plan.ratePerSecond,
      automation_duration_s: plan.durationSeconds,
      automation_worker_processes: plan.workerProcesses,
      automation_graph_sends: graph.sent.length,
      automation_graph_answer_ms: plan.graphAnswerMs,
    };
  } finally {
    for (const worker of workers) await worker.stop().catch(() => {});
    await app.close();
    await client
      .db(tenantDbName)
      .dropDatabase()
      .catch(() => {});
    await db.dropDatabase().catch(() => {});
    await client.close();
    await graph.stop();
  }
}

async function main(): Promise<void> {
  const external = process.env.MONGODB_URI;
  log(external ? "using MONGODB_URI" : "starting the embedded MongoDB server (mongo-java-server, in memory)");
  const server = external ? undefined : await startEmbeddedMongo();
  const uri = external ?? server?.uri ?? "";
  try {
    const automation = await measureAutomation(uri, {
      ratePerSecond: intFromEnv("BENCH_CRM_RATE", 20),
      durationSeconds: intFromEnv("BENCH_CRM_SECONDS", 30),
      workerProcesses: 2,
      graphAnswerMs: intFromEnv("BENCH_CRM_GRAPH_MS", 50),
    });
    const round = (value: number) => (Number.isFinite(value) ? Math.round(value) : null);
    process.stdout.write(
      [
        "figure | value",
        "--- | ---",
        `automation p50 / p95 / p99 / max (PATCH confirmed → send_whatsapp completed) | ${round(automation.automation_p50_ms)} / ${round(automation.automation_p95_ms)} / ${round(automation.automation_p99_ms)} / ${round(automation.automation_max_ms)} ms (target p95 ≤ 1000)`,
        `sends completed | ${automation.automation_sends} of ${automation.automation_expected}`,
        `PATCH response p95 | ${round(automation.automation_patch_p95_ms)} ms`,
        `messages at the fake Graph API (answering in ${automation.automation_graph_answer_ms} ms) | ${automation.automation_graph_sends}`,
        "",
      ].join("\n"),
    );
    const scoring = await measureScoring(uri, server?.pid);
    process.stdout.write(`${scoring.lines.join("\n")}\n\n`);
    const figures = {
      ...automation,
      ...scoring.figures,
      server: external ? "MONGODB_URI" : "embedded mongo-java-server (in memory)",
      cpus: os.cpus().length,
      node: process.version,
    };
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    await server?.stop();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
