/**
 * `npm run bench:queue`: our MongoDB job queue against Agenda 6 (with @agendajs/mongo-backend) and
 * against a bare claim/complete loop (the ceiling), all on one server in one go. Prints a table to
 * stdout; the last line is one JSON object with the figures. Progress goes to stderr.
 *
 * The server, as the tests choose it: MONGODB_URI when set; else ECODRIX_TEST_BACKEND=ferretdb
 * (FerretDB on PostgreSQL, started if not running and then stopped) or, by default, one embedded
 * mongo-java-server (in memory), stopped at the end. See apps/bench/README.md for each figure.
 */
import { randomBytes } from "node:crypto";
import os from "node:os";
import { loadConfig } from "@ecodrix/platform";
import { startEmbeddedMongo } from "@ecodrix/test-kit/embedded-mongo";
import { startFerretDb } from "@ecodrix/test-kit/ferretdb";
import { requestedTestBackend } from "@ecodrix/test-kit/mongo-resolver";
import { probeServerCapabilities, type ServerCapabilities } from "@ecodrix/test-kit/server-capabilities";
import { intFromEnv } from "./bench-util.js";
import {
  type BenchSettings,
  dropDatabase,
  type IdleResult,
  measureIdle,
  measurePickup,
  measureThroughput,
  type PickupResult,
  type Target,
  type ThroughputResult,
} from "./phases.js";
import { type CommandCounts, totalCommands } from "./protocol.js";

/** Our worker's settings: the product's defaults (loadConfig), WORKER_* variables override them. */
function workerSettings(): BenchSettings["worker"] {
  const env: NodeJS.ProcessEnv = {
    MONGODB_URI: "mongodb://127.0.0.1:1",
    CORE_API_TOKEN: "bench-not-a-real-token-0123456789",
    ENCRYPTION_KEY: "00".repeat(32),
  };
  for (const [name, value] of Object.entries(process.env)) if (name.startsWith("WORKER_")) env[name] = value;
  return loadConfig(env).worker;
}

const CONCURRENCY = 10;
const PROCESSES = 2;

const plan = {
  jobs: intFromEnv("BENCH_JOBS", 10_000, 0),
  warmupJobs: intFromEnv("BENCH_WARMUP_JOBS", 1_000, 0),
  agendaJobs: intFromEnv("BENCH_AGENDA_JOBS", 10_000, 0),
  agendaCapMs: intFromEnv("BENCH_AGENDA_CAP_MS", 60_000, 0),
  oursCapMs: intFromEnv("BENCH_CAP_MS", 180_000, 0),
  pickupIntervalMs: 50,
  pickupDurationMs: intFromEnv("BENCH_PICKUP_MS", 10_000, 0),
  pickupWarmupMs: 3_000,
  idleWarmupMs: 5_000,
  idleWindowMs: intFromEnv("BENCH_IDLE_MS", 10_000, 0),
};

const settings: BenchSettings = {
  concurrency: CONCURRENCY,
  worker: workerSettings(),
  agenda: {
    processEveryMs: intFromEnv("BENCH_AGENDA_PROCESS_EVERY_MS", 100, 0),
    maxConcurrency: CONCURRENCY,
    defaultConcurrency: CONCURRENCY,
    lockLimit: intFromEnv("BENCH_AGENDA_LOCK_LIMIT", CONCURRENCY, 0),
    defaultLockLimit: intFromEnv("BENCH_AGENDA_LOCK_LIMIT", CONCURRENCY, 0),
    defaultLockLifetimeMs: 30_000,
  },
};

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

// ---------------------------------------------------------------------------------------------
// Formatting

const fmt = (value: number, digits = 0) =>
  Number.isFinite(value)
    ? value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : "n/a";

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((row) => (row[col] ?? "").length))) ?? [];
  const line = (row: string[]) => `| ${row.map((cell, col) => cell.padEnd(widths[col] ?? 0)).join(" | ")} |`;
  const [header, ...body] = rows;
  if (!header) return "";
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)].join("\n");
}

function perJobBreakdown(counts: CommandCounts, jobs: number): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${fmt(n / jobs, 2)}`)
    .join(", ");
}

function perSecondBreakdown(result: IdleResult): string {
  const seconds = result.windowMs / 1000;
  const entries = Object.entries(result.commands).sort((a, b) => b[1] - a[1]);
  return entries.length === 0
    ? "none"
    : entries.map(([name, n]) => `${name} ${fmt(n / seconds, 2)}`).join(", ");
}

function throughputCell(result: ThroughputResult): string {
  const scope = result.timedOut
    ? `${fmt(result.completed)} of ${fmt(result.enqueued)} jobs in ${fmt(result.elapsedMs / 1000, 1)} s (time cap)`
    : `${fmt(result.completed)} jobs in ${fmt(result.elapsedMs / 1000, 1)} s`;
  return `${fmt(result.jobsPerS, result.jobsPerS < 100 ? 1 : 0)} (${scope})`;
}

const mark = (ok: boolean) => (ok ? "yes" : "NO");
const round = (value: number, digits: number) =>
  Number.isFinite(value) ? Math.round(value * 10 ** digits) / 10 ** digits : null;

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const startedAt = new Date();
  const external = process.env.MONGODB_URI;
  const backend = external ? undefined : (requestedTestBackend() ?? "embedded");
  log(
    external
      ? "using MONGODB_URI"
      : backend === "ferretdb"
        ? "using FerretDB on PostgreSQL + DocumentDB (scripts/compat; started if not running)"
        : "starting the embedded MongoDB server (mongo-java-server, in memory)",
  );
  const server = external
    ? undefined
    : backend === "ferretdb"
      ? await startFerretDb()
      : await startEmbeddedMongo();
  const uri = external ?? server?.uri ?? "";
  const capabilities = await probeServerCapabilities(uri);
  const run = randomBytes(3).toString("hex");
  const target = (name: string): Target => ({ uri, dbName: `bench_${run}_${name}` });
  const cleanup = async () => {
    await server?.stop();
  };
  process.once("SIGINT", () => {
    void cleanup().finally(() => process.exit(130));
  });

  try {
    const phase = async <T>(name: string, task: (t: Target) => Promise<T>): Promise<T> => {
      log(`${name} ...`);
      const t = target(name);
      const begun = Date.now();
      try {
        return await task(t);
      } finally {
        log(`${name} done in ${fmt((Date.now() - begun) / 1000, 1)} s`);
        await dropDatabase(t);
      }
    };
    const throughput = { processes: PROCESSES };
    // Not reported: warms the server's JIT (and the OS caches) so the first measured phase is not
    // penalised for going first.
    await phase("warmup", (t) =>
      measureThroughput("ceiling", t, settings, {
        ...throughput,
        jobs: Math.min(plan.jobs, plan.warmupJobs),
        timeCapMs: plan.oursCapMs,
      }),
    );
    const ceiling = await phase("ceiling", (t) =>
      measureThroughput("ceiling", t, settings, {
        ...throughput,
        jobs: plan.jobs,
        timeCapMs: plan.oursCapMs,
      }),
    );
    const ours = await phase("ours_throughput", (t) =>
      measureThroughput("ours", t, settings, { ...throughput, jobs: plan.jobs, timeCapMs: plan.oursCapMs }),
    );
    const agenda = await phase("agenda_throughput", (t) =>
      measureThroughput("agenda", t, settings, {
        ...throughput,
        jobs: plan.agendaJobs,
        timeCapMs: plan.agendaCapMs,
      }),
    );
    const pickupOptions = {
      processes: PROCESSES,
      warmupMs: plan.pickupWarmupMs,
      intervalMs: plan.pickupIntervalMs,
      durationMs: plan.pickupDurationMs,
    };
    const oursPickup = await phase("ours_pickup", (t) => measurePickup("ours", t, settings, pickupOptions));
    const agendaPickup = await phase("agenda_pickup", (t) =>
      measurePickup("agenda", t, settings, pickupOptions),
    );
    const idleOptions = { warmupMs: plan.idleWarmupMs, windowMs: plan.idleWindowMs };
    const oursIdle = await phase("ours_idle", (t) => measureIdle("ours", t, settings, idleOptions));
    const agendaIdle = await phase("agenda_idle", (t) => measureIdle("agenda", t, settings, idleOptions));

    report({
      startedAt,
      server: serverLabel(capabilities, Boolean(external)),
      ceiling,
      ours,
      agenda,
      oursPickup,
      agendaPickup,
      oursIdle,
      agendaIdle,
    });
  } finally {
    await cleanup();
  }
}

/** The server in words, for the table's header and the JSON line. */
function serverLabel(capabilities: ServerCapabilities, external: boolean): string {
  const via = external ? " via MONGODB_URI" : "";
  if (capabilities.server === "ferretdb") return `FerretDB v2.5.0 on PostgreSQL 15 + DocumentDB${via}`;
  if (capabilities.server === "mongo-java-server") return `embedded mongo-java-server (in memory)${via}`;
  return `MongoDB${capabilities.changeStreams ? " (replica set)" : " (standalone)"}${via}`;
}

interface Results {
  startedAt: Date;
  server: string;
  ceiling: ThroughputResult;
  ours: ThroughputResult;
  agenda: ThroughputResult;
  oursPickup: PickupResult;
  agendaPickup: PickupResult;
  oursIdle: IdleResult;
  agendaIdle: IdleResult;
}

function report(r: Results): void {
  const vsAgenda = r.ours.jobsPerS / r.agenda.jobsPerS;
  const vsCeiling = r.ours.jobsPerS / r.ceiling.jobsPerS;
  const w = settings.worker;
  const a = settings.agenda;
  const out: string[] = [];
  out.push(
    `Queue benchmark, ${r.startedAt.toISOString()}; node ${process.version}; ${os.availableParallelism()} cores (${os.cpus()[0]?.model.trim() ?? "unknown CPU"}); ` +
      `server: ${r.server}`,
  );
  out.push(
    `ours: createWorkerRunner concurrency ${settings.concurrency}, pollMinMs ${w.pollMinMs}, pollMaxMs ${w.pollMaxMs}, leaseMs ${w.leaseMs}; ` +
      `Agenda 6 + @agendajs/mongo-backend: processEvery ${a.processEveryMs} ms, maxConcurrency ${a.maxConcurrency}, ` +
      `defaultConcurrency ${a.defaultConcurrency}, lockLimit ${a.lockLimit}, defaultLockLimit ${a.defaultLockLimit}, ` +
      `defaultLockLifetime ${a.defaultLockLifetimeMs} ms, indexes findAndLockNextJobIndex + findAndLockDeadJobs`,
  );
  out.push(
    `ours wakes idle workers by: ${r.oursPickup.wake ?? "?"} (WORKER_WAKE=${w.wakeMode}); Agenda: polling (processEvery)`,
  );
  out.push("");
  out.push(
    table([
      ["figure", "ours", "Agenda", "ceiling (bare loop)", "target", "met"],
      [
        `no-op jobs/s, ${PROCESSES} processes × concurrency ${settings.concurrency}`,
        throughputCell(r.ours),
        throughputCell(r.agenda),
        throughputCell(r.ceiling),
        "ours ≥ 20× Agenda, ≥ 0.5× ceiling",
        `${mark(vsAgenda >= 20)} (${fmt(vsAgenda, 1)}×), ${mark(vsCeiling >= 0.5)} (${fmt(vsCeiling, 2)}×)`,
      ],
      [
        "MongoDB commands per completed job (processing phase only)",
        fmt(r.ours.commandsPerJob, 2),
        fmt(r.agenda.commandsPerJob, 2),
        fmt(r.ceiling.commandsPerJob, 2),
        "≤ 2.5",
        mark(r.ours.commandsPerJob <= 2.5),
      ],
      [
        `pickup latency p50 / p95 / max, ms (1 job every ${plan.pickupIntervalMs} ms for ${fmt(plan.pickupDurationMs / 1000)} s)`,
        `${fmt(r.oursPickup.p50Ms)} / ${fmt(r.oursPickup.p95Ms)} / ${fmt(r.oursPickup.maxMs)} (${r.oursPickup.picked}/${r.oursPickup.enqueued})`,
        `${fmt(r.agendaPickup.p50Ms)} / ${fmt(r.agendaPickup.p95Ms)} / ${fmt(r.agendaPickup.maxMs)} (${r.agendaPickup.picked}/${r.agendaPickup.enqueued})`,
        "-",
        "p95 < 250",
        mark(r.oursPickup.p95Ms < 250),
      ],
      [
        `idle queries/s, one worker, empty queue (${fmt(plan.idleWindowMs / 1000)} s after ${fmt(plan.idleWarmupMs / 1000)} s warm-up)`,
        fmt(r.oursIdle.qps, 2),
        fmt(r.agendaIdle.qps, 2),
        "-",
        "≤ 5",
        mark(r.oursIdle.qps <= 5),
      ],
    ]),
  );
  out.push("");
  out.push("Commands per completed job, by command (processing phase):");
  for (const result of [r.ours, r.agenda, r.ceiling]) {
    out.push(
      `  ${result.contender.padEnd(7)} ${perJobBreakdown(result.commands, result.completed)} ` +
        `(total ${fmt(totalCommands(result.commands))} for ${fmt(result.completed)} completed, ${fmt(result.handled)} handler runs)`,
    );
  }
  out.push("Idle commands per second, by command:");
  out.push(`  ours    ${perSecondBreakdown(r.oursIdle)}`);
  out.push(`  agenda  ${perSecondBreakdown(r.agendaIdle)}`);
  for (const result of [r.ours, r.agenda, r.ceiling]) {
    if (result.unhandledRejections > 0)
      out.push(
        `${result.contender}: ${fmt(result.unhandledRejections)} unhandled promise rejections in its workers (each would have ended a Node process; the bench counts them and goes on)`,
      );
  }
  if (r.agenda.timedOut) {
    out.push(
      `Agenda ran ${fmt(r.agenda.enqueued)} jobs capped at ${fmt(plan.agendaCapMs / 1000)} s (ours and the ceiling ran ${fmt(r.ours.enqueued)}); its jobs/s is completed / elapsed.`,
    );
  } else {
    out.push(
      `Agenda ran ${fmt(r.agenda.enqueued)} jobs (ours and the ceiling ran ${fmt(r.ours.enqueued)}); jobs/s is completed / elapsed for each.`,
    );
  }
  out.push("");
  out.push(
    JSON.stringify({
      ours_jobs_per_s: round(r.ours.jobsPerS, 1),
      agenda_jobs_per_s: round(r.agenda.jobsPerS, 2),
      ceiling_jobs_per_s: round(r.ceiling.jobsPerS, 1),
      ours_commands_per_job: round(r.ours.commandsPerJob, 3),
      agenda_commands_per_job: round(r.agenda.commandsPerJob, 3),
      ceiling_commands_per_job: round(r.ceiling.commandsPerJob, 3),
      ours_p50_pickup_ms: round(r.oursPickup.p50Ms, 1),
      ours_p95_pickup_ms: round(r.oursPickup.p95Ms, 1),
      agenda_p50_pickup_ms: round(r.agendaPickup.p50Ms, 1),
      agenda_p95_pickup_ms: round(r.agendaPickup.p95Ms, 1),
      ours_idle_qps: round(r.oursIdle.qps, 2),
      agenda_idle_qps: round(r.agendaIdle.qps, 2),
      ours_vs_agenda: round(vsAgenda, 2),
      ours_vs_ceiling: round(vsCeiling, 3),
      ours_jobs: r.ours.enqueued,
      agenda_jobs: r.agenda.enqueued,
      agenda_completed: r.agenda.completed,
      agenda_time_capped: r.agenda.timedOut,
      agenda_unhandled_rejections: r.agenda.unhandledRejections,
      ours_wake: r.oursPickup.wake ?? null,
      server: r.server,
    }),
  );
  process.stdout.write(`${out.join("\n")}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:queue failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
