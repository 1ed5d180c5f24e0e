/**
 * `npm run bench:api`: the API's own throughput, in one run, against one server process (forked:
 * api-bench-server.ts) so the load generator (autocannon, here) does not share its event loop:
 *   enqueue      POST /api/saas/chat/messages: tenant authentication, validation, one send_whatsapp job
 *                enqueued (the lightest tenant route that enqueues a job; 202 with the job id)
 *   bare insert  POST /bench/bare-insert on the same server: one insertOne, nothing else (the ceiling)
 *   health       GET /api/saas/health (a ping)
 * For each: requests/s, p50/p99 latency, MongoDB commands per request (the driver's command monitoring
 * on the API's MongoClient) and errors (connection errors, timeouts and non-2xx answers). Progress goes
 * to stderr; the last line of stdout is one JSON object. Targets: enqueue ≥ 50% of bare insert, 0
 * errors, ≤ 3 commands per enqueue.
 *
 * The server, as the tests choose it: MONGODB_URI when set; else ECODRIX_TEST_BACKEND=ferretdb, or by
 * default one embedded mongo-java-server (in memory). BENCH_SECONDS (default 10) per target after
 * BENCH_WARMUP_SECONDS (default 2), BENCH_CONNECTIONS (default 20).
 */
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { startEmbeddedMongo } from "@ecodrix/test-kit/embedded-mongo";
import { startFerretDb } from "@ecodrix/test-kit/ferretdb";
import { requestedTestBackend } from "@ecodrix/test-kit/mongo-resolver";
import autocannon from "autocannon";
import type { ApiBenchServerMessage } from "./api-bench-server.js";
import { intFromEnv } from "./bench-util.js";

const SECONDS = intFromEnv("BENCH_SECONDS", 10);
const CONNECTIONS = intFromEnv("BENCH_CONNECTIONS", 20);
const WARMUP_SECONDS = intFromEnv("BENCH_WARMUP_SECONDS", 2);
const log = (line: string) => process.stderr.write(`[bench:api] ${line}\n`);

interface Measured {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
  commandsPerRequest: number;
  byCommand: Record<string, number>;
}

const external = process.env.MONGODB_URI;
const backend = external ? undefined : (requestedTestBackend() ?? "embedded");
log(external ? "using MONGODB_URI" : `starting the ${backend} server`);
const server = external
  ? undefined
  : backend === "ferretdb"
    ? await startFerretDb()
    : await startEmbeddedMongo();
const uri = external ?? server?.uri ?? "";
const dbName = `bench_api_${randomBytes(3).toString("hex")}`;

const child = fork(
  fileURLToPath(new URL("./api-bench-server.ts", import.meta.url)),
  [JSON.stringify({ uri, dbName })],
  {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  },
);
const next = <T extends ApiBenchServerMessage["type"]>(type: T) =>
  new Promise<Extract<ApiBenchServerMessage, { type: T }>>((resolve, reject) => {
    const onMessage = (message: ApiBenchServerMessage) => {
      if (message.type !== type) return;
      child.off("message", onMessage);
      child.off("exit", onExit);
      resolve(message as Extract<ApiBenchServerMessage, { type: T }>);
    };
    const onExit = (code: number | null) =>
      reject(new Error(`the API process exited (${code}) before ${type}`));
    child.on("message", onMessage);
    child.once("exit", onExit);
  });
const counts = async () => {
  const answer = next("counts");
  child.send({ type: "counts" });
  return answer;
};

const ready = await next("ready");
log(`API at ${ready.url} (${backend ?? "MONGODB_URI"}), client ${ready.clientCode}`);

const tenant = {
  "x-client-code": ready.clientCode,
  "x-api-key": ready.apiKey,
  "content-type": "application/json",
};
const sendBody = JSON.stringify({
  to: "+919812345678",
  templateName: "appointment_confirmed",
  language: "en_US",
  bodyParams: ["Asha", "10:30"],
});

async function load(
  name: string,
  options: { method: "GET" | "POST"; path: string; headers?: Record<string, string>; body?: string },
): Promise<Measured> {
  const target = {
    url: `${ready.url}${options.path}`,
    method: options.method,
    connections: CONNECTIONS,
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.body ? { body: options.body } : {}),
  };
  // A short warm-up (JIT, connection pool) that is not counted.
  await autocannon({ ...target, duration: WARMUP_SECONDS });
  const before = await counts();
  const result = await autocannon({ ...target, duration: SECONDS });
  const after = await counts();
  const byCommand = Object.fromEntries(
    Object.entries(after.byCommand)
      .map(([command, n]) => [command, n - (before.byCommand[command] ?? 0)] as const)
      .filter(([, n]) => n > 0),
  );
  const requests = result.requests.total;
  const errors = result.errors + result.timeouts + result.non2xx;
  const measured: Measured = {
    name,
    rps: requests / SECONDS,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests,
    errors,
    commandsPerRequest: requests > 0 ? (after.total - before.total) / requests : 0,
    byCommand,
  };
  log(
    `${name}: ${measured.rps.toFixed(0)} req/s, p50 ${measured.p50} ms, p99 ${measured.p99} ms, ${measured.commandsPerRequest.toFixed(2)} commands/request ${JSON.stringify(byCommand)}, ${errors} errors`,
  );
  return measured;
}

let exitCode = 0;
try {
  const bare = await load("bare insert", {
    method: "POST",
    path: "/bench/bare-insert",
    headers: { "content-type": "application/json" },
    body: sendBody,
  });
  const enqueue = await load("enqueue", {
    method: "POST",
    path: "/api/saas/chat/messages",
    headers: tenant,
    body: sendBody,
  });
  const health = await load("health", { method: "GET", path: "/api/saas/health" });

  const ratio = enqueue.rps / bare.rps;
  const errors = bare.errors + enqueue.errors + health.errors;
  const met = (ok: boolean) => (ok ? "met" : "NOT met");
  const fmt = (m: Measured) =>
    `${m.name.padEnd(12)} ${m.rps.toFixed(0).padStart(7)} req/s   p50 ${String(m.p50).padStart(4)} ms   p99 ${String(m.p99).padStart(4)} ms   ${m.commandsPerRequest.toFixed(2)} commands/request   ${m.errors} errors`;
  console.log(
    `bench:api on ${backend ?? "MONGODB_URI"}, ${CONNECTIONS} connections, ${SECONDS} s each; load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
  );
  for (const m of [enqueue, bare, health]) console.log(fmt(m));
  console.log(`enqueue / bare insert: ${(ratio * 100).toFixed(0)}% (target ≥ 50%: ${met(ratio >= 0.5)})`);
  console.log(
    `commands per enqueue: ${enqueue.commandsPerRequest.toFixed(2)} ${JSON.stringify(enqueue.byCommand)} (target ≤ 3: ${met(enqueue.commandsPerRequest <= 3)})`,
  );
  console.log(`errors: ${errors} (target 0: ${met(errors === 0)})`);
  console.log(
    JSON.stringify({
      enqueue_rps: Math.round(enqueue.rps),
      bare_insert_rps: Math.round(bare.rps),
      enqueue_p99_ms: enqueue.p99,
      commands_per_request: Math.round(enqueue.commandsPerRequest * 100) / 100,
      errors,
    }),
  );
} catch (error) {
  log(`failed: ${error instanceof Error ? error.stack : String(error)}`);
  exitCode = 1;
} finally {
  const stopped = next("stopped").catch(() => undefined);
  child.send({ type: "stop" });
  await stopped;
  await server?.stop();
}
process.exit(exitCode);
