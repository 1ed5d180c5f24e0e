/**
 * The benchmark's measurements. Each function takes a server URI and a database name of its own,
 * seeds it from this (parent) process, forks worker processes (bench-worker.ts) that run one
 * contender, and reads their command counts back over IPC. Exported for the smoke test, which runs
 * them with tiny counts.
 */

import { type ChildProcess, fork } from "node:child_process";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { MongoBackend } from "@agendajs/mongo-backend";
import { createQueue, JOBS_COLLECTION, type Queue } from "@ecodrix/queue";
import { Agenda } from "agenda";
import { type Db, MongoClient } from "mongodb";
import { percentile } from "./bench-util.js";
import {
  type AgendaSettings,
  addCounts,
  type ChildMessage,
  type CommandCounts,
  type Contender,
  isChildMessage,
  NOOP_JOB,
  type NoopPayload,
  type ParentMessage,
  subtractCounts,
  totalCommands,
  type WorkerProcessConfig,
  type WorkerSettings,
} from "./protocol.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const workerScript = path.join(here, "bench-worker.ts");
/** The workspace root: `--import tsx` in the children resolves from here. */
const repoRoot = path.resolve(here, "../../..");

export const AGENDA_COLLECTION = "agendaJobs";

export interface BenchSettings {
  /** Concurrency per worker process (both contenders and the ceiling). */
  concurrency: number;
  /** Our worker's settings (createWorkerRunner options), the product's defaults unless overridden. */
  worker: WorkerSettings;
  agenda: AgendaSettings;
}

export interface Target {
  uri: string;
  dbName: string;
}

// ---------------------------------------------------------------------------------------------
// Worker processes

interface Waiter {
  type: ChildMessage["type"];
  resolve: (message: ChildMessage) => void;
}

/** One forked bench-worker.ts and its IPC. */
export class WorkerHandle {
  handled = 0;
  /** Ours: what wakes the idle runner (change-stream, nudge or none); undefined for the others. */
  wake: string | undefined;
  private readonly waiters: Waiter[] = [];
  private failure: Error | undefined;
  private readonly exited: Promise<void>;

  constructor(private readonly child: ChildProcess) {
    // A send to a worker that died (its IPC channel closed) must fail the phase, not the bench.
    child.on("error", (error: Error) => this.fail(new Error(`worker ${child.pid}: ${error.message}`)));
    child.on("message", (message: unknown) => {
      if (!isChildMessage(message)) return;
      if (message.type === "progress") this.handled = message.handled;
      if (message.type === "wake") this.wake = message.kind;
      if (message.type === "snapshot" || message.type === "stopped") this.handled = message.handled;
      if (message.type === "error") this.fail(new Error(`worker ${child.pid} failed: ${message.message}`));
      const index = this.waiters.findIndex((waiter) => waiter.type === message.type);
      if (index >= 0) this.waiters.splice(index, 1)[0]?.resolve(message);
    });
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        if (code !== 0 && code !== null) this.fail(new Error(`worker ${child.pid} exited with code ${code}`));
        if (signal) this.fail(new Error(`worker ${child.pid} was killed by ${signal}`));
        if (this.waiters.length > 0) this.fail(new Error(`worker ${child.pid} exited before replying`));
        resolve();
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The first error this worker reported, if any. */
  get error(): Error | undefined {
    return this.failure;
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiters.splice(0)) waiter.resolve({ type: "error", message: error.message });
  }

  send(message: ParentMessage): void {
    this.child.send(message);
  }

  /** Waits for the next message of `type` (an `error` message or an exit rejects). */
  async next<T extends ChildMessage["type"]>(
    type: T,
    timeoutMs = 60_000,
  ): Promise<Extract<ChildMessage, { type: T }>> {
    if (this.failure) throw this.failure;
    let timer: NodeJS.Timeout | undefined;
    const reply = await new Promise<ChildMessage>((resolve) => {
      this.waiters.push({ type, resolve });
      timer = setTimeout(
        () =>
          resolve({ type: "error", message: `no ${type} from worker ${this.pid} within ${timeoutMs} ms` }),
        timeoutMs,
      );
    }).finally(() => clearTimeout(timer));
    if (reply.type === "error" && type !== "error") throw this.failure ?? new Error(reply.message);
    return reply as Extract<ChildMessage, { type: T }>;
  }

  async request<T extends ChildMessage["type"]>(
    message: ParentMessage,
    reply: T,
    timeoutMs?: number,
  ): Promise<Extract<ChildMessage, { type: T }>> {
    const pending = this.next(reply, timeoutMs);
    this.send(message);
    return pending;
  }

  /** Kills the process if it is still running and waits for it to exit. */
  async dispose(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
      if (this.child.connected) this.child.disconnect();
      else this.child.kill("SIGTERM");
      await this.exited;
      clearTimeout(timer);
    }
  }
}

/** Forks `count` worker processes and waits until each is connected and ready. */
export async function startWorkers(count: number, config: WorkerProcessConfig): Promise<WorkerHandle[]> {
  const workers = Array.from({ length: count }, () => {
    const child = fork(workerScript, [JSON.stringify(config)], {
      cwd: repoRoot,
      execArgv: ["--import", "tsx"],
      // The children's output goes to our stderr, so stdout stays the table and the JSON line.
      stdio: ["ignore", 2, 2, "ipc"],
    });
    return new WorkerHandle(child);
  });
  try {
    await Promise.all(workers.map((worker) => worker.next("ready")));
  } catch (error) {
    await Promise.all(workers.map((worker) => worker.dispose()));
    throw error;
  }
  return workers;
}

/** Stops the workers; a loaded machine can take a while to drain Agenda (its stop waits for running jobs). */
async function stopWorkers(workers: WorkerHandle[]): Promise<Extract<ChildMessage, { type: "stopped" }>[]> {
  try {
    return await Promise.all(workers.map((worker) => worker.request({ type: "stop" }, "stopped", 120_000)));
  } finally {
    await Promise.all(workers.map((worker) => worker.dispose()));
  }
}

function handledSum(workers: WorkerHandle[]): number {
  return workers.reduce((sum, worker) => sum + worker.handled, 0);
}

function firstError(workers: WorkerHandle[]): Error | undefined {
  return workers.find((worker) => worker.error)?.error;
}

/** Polls (in memory, no database traffic) until `done()` or the deadline; throws a worker's error. */
async function waitUntil(workers: WorkerHandle[], done: () => boolean, deadline: number): Promise<void> {
  while (!done() && Date.now() < deadline) {
    const error = firstError(workers);
    if (error) throw error;
    await sleep(10);
  }
  const error = firstError(workers);
  if (error) throw error;
}

// ---------------------------------------------------------------------------------------------
// Seeding (parent process, not measured)

async function withDb<T>(target: Target, use: (db: Db) => Promise<T>): Promise<T> {
  const client = new MongoClient(target.uri, { appName: "bench-parent" });
  await client.connect();
  try {
    return await use(client.db(target.dbName));
  } finally {
    await client.close();
  }
}

/** Runs `task(i)` for i < count with at most `parallel` in flight. */
async function pool(count: number, parallel: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, count) }, async () => {
      while (next < count) {
        const i = next++;
        await task(i);
      }
    }),
  );
}

/** Our queue's enqueue for one benchmark job. */
function enqueueOurs(queue: Queue, n: number): Promise<unknown> {
  const payload: NoopPayload = { enqueuedAt: Date.now(), n };
  return queue.enqueue({ type: NOOP_JOB, payload, maxRetries: 0 });
}

/** Seeds `count` jobs with our queue's own bulk enqueue, 1,000 per call (its indexes first). */
async function seedOurs(db: Db, count: number): Promise<void> {
  const queue = createQueue({ db });
  await queue.ensureIndexes();
  const batch = 1_000;
  for (let first = 0; first < count; first += batch) {
    const enqueuedAt = Date.now();
    const inputs = Array.from({ length: Math.min(batch, count - first) }, (_, i) => {
      const payload: NoopPayload = { enqueuedAt, n: first + i };
      return { type: NOOP_JOB, payload, maxRetries: 0 };
    });
    await queue.enqueueMany(inputs);
  }
}

/** Agenda as the enqueuing side: its backend creates its index; we add the one its README suggests. */
async function openAgenda(db: Db): Promise<Agenda> {
  const agenda = new Agenda({ backend: new MongoBackend({ mongo: db, ensureIndex: true }) });
  await agenda.ready;
  await db
    .collection(AGENDA_COLLECTION)
    .createIndex({ name: 1, disabled: 1, lockedAt: 1 }, { name: "findAndLockDeadJobs" });
  return agenda;
}

function enqueueAgenda(agenda: Agenda, n: number): Promise<unknown> {
  const payload: NoopPayload = { enqueuedAt: Date.now(), n };
  return agenda.now(NOOP_JOB, payload);
}

function workerConfig(
  contender: Contender,
  target: Target,
  settings: BenchSettings,
  recordPickup: boolean,
): WorkerProcessConfig {
  return {
    contender,
    uri: target.uri,
    dbName: target.dbName,
    concurrency: settings.concurrency,
    worker: settings.worker,
    agenda: settings.agenda,
    recordPickup,
  };
}

// ---------------------------------------------------------------------------------------------
// Throughput and commands per job

export interface ThroughputOptions {
  jobs: number;
  processes: number;
  /** Stop after this long even if jobs remain (Agenda); jobs/s is then completed / elapsed. */
  timeCapMs: number;
}

export interface ThroughputResult {
  contender: Contender;
  enqueued: number;
  /** Jobs the database shows finished (ours and ceiling: status completed; Agenda: lastFinishedAt set). */
  completed: number;
  /** Handler invocations the workers counted (more than `completed` would mean duplicate runs). */
  handled: number;
  /** From `go` to the last job's finish time as stored in the database. */
  elapsedMs: number;
  jobsPerS: number;
  timedOut: boolean;
  /** Commands the worker processes sent from `go` to stop (the processing phase only). */
  commands: CommandCounts;
  commandsPerJob: number;
  /** Promise rejections nobody handled in the workers (Agenda's "deadlock detected" on FerretDB). */
  unhandledRejections: number;
}

async function finishedJobs(
  db: Db,
  contender: Contender,
  since: number,
): Promise<{ count: number; last: number | undefined }> {
  if (contender === "agenda") {
    const jobs = db.collection<{ lastFinishedAt?: Date | null }>(AGENDA_COLLECTION);
    const filter = { lastFinishedAt: { $ne: null } };
    const count = await jobs.countDocuments(filter);
    const last = await jobs.find(filter).sort({ lastFinishedAt: -1 }).limit(1).next();
    return { count, last: last?.lastFinishedAt?.getTime() };
  }
  const jobs = db.collection<{ status: string; completedAt: Date | null }>(JOBS_COLLECTION);
  const count = await jobs.countDocuments({ status: "completed" });
  const last = await jobs.find({ status: "completed" }).sort({ completedAt: -1 }).limit(1).next();
  const lastAt = last?.completedAt?.getTime();
  return { count, last: lastAt !== undefined && lastAt >= since ? lastAt : undefined };
}

/**
 * Seeds `jobs` no-op jobs, then runs `processes` worker processes × `settings.concurrency` until all
 * are done or `timeCapMs` passes. Commands are counted in the workers from `go` to stop, so the
 * enqueue phase is excluded.
 */
export async function measureThroughput(
  contender: Contender,
  target: Target,
  settings: BenchSettings,
  options: ThroughputOptions,
): Promise<ThroughputResult> {
  await withDb(target, async (db) => {
    if (contender === "agenda") {
      const agenda = await openAgenda(db);
      await pool(options.jobs, 32, (n) => enqueueAgenda(agenda, n));
    } else {
      // The ceiling gets the very same documents: enqueued by our queue, processed without it.
      await seedOurs(db, options.jobs);
    }
  });
  const workers = await startWorkers(options.processes, workerConfig(contender, target, settings, false));
  let stopped: Extract<ChildMessage, { type: "stopped" }>[];
  const start = Date.now();
  try {
    for (const worker of workers) worker.send({ type: "go" });
    await waitUntil(workers, () => handledSum(workers) >= options.jobs, start + options.timeCapMs);
  } finally {
    stopped = await stopWorkers(workers);
  }
  const stoppedAt = Date.now();
  const timedOut = handledSum(workers) < options.jobs;
  const commands = stopped.reduce<CommandCounts>((sum, reply) => addCounts(sum, reply.commands), {});
  const handled = stopped.reduce((sum, reply) => sum + reply.handled, 0);
  const unhandledRejections = stopped.reduce((sum, reply) => sum + reply.unhandledRejections, 0);
  const finished = await withDb(target, (db) => finishedJobs(db, contender, start));
  const elapsedMs = Math.max(1, (finished.last ?? stoppedAt) - start);
  return {
    contender,
    enqueued: options.jobs,
    completed: finished.count,
    handled,
    elapsedMs,
    jobsPerS: finished.count / (elapsedMs / 1000),
    timedOut,
    commands,
    commandsPerJob: finished.count > 0 ? totalCommands(commands) / finished.count : Number.NaN,
    unhandledRejections,
  };
}

// ---------------------------------------------------------------------------------------------
// Pickup latency at low load

export interface PickupOptions {
  processes: number;
  /** Workers run (idle) this long before the first job, so they are in their steady idle state. */
  warmupMs: number;
  intervalMs: number;
  durationMs: number;
}

export interface PickupResult {
  contender: Contender;
  /** Ours: what woke the idle workers (change-stream, nudge or none). */
  wake: string | undefined;
  enqueued: number;
  picked: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

/**
 * With workers already running, enqueues one job every `intervalMs` for `durationMs`; each handler
 * records Date.now() minus the enqueue time carried in its payload.
 */
export async function measurePickup(
  contender: Exclude<Contender, "ceiling">,
  target: Target,
  settings: BenchSettings,
  options: PickupOptions,
): Promise<PickupResult> {
  const client = new MongoClient(target.uri, { appName: "bench-parent" });
  await client.connect();
  const db = client.db(target.dbName);
  let workers: WorkerHandle[] = [];
  try {
    let enqueue: (n: number) => Promise<unknown>;
    if (contender === "agenda") {
      const agenda = await openAgenda(db);
      enqueue = (n) => enqueueAgenda(agenda, n);
    } else {
      const queue = createQueue({ db });
      await queue.ensureIndexes();
      enqueue = (n) => enqueueOurs(queue, n);
    }
    workers = await startWorkers(options.processes, workerConfig(contender, target, settings, true));
    for (const worker of workers) worker.send({ type: "go" });
    await sleep(options.warmupMs);
    const count = Math.max(1, Math.floor(options.durationMs / options.intervalMs));
    const start = Date.now();
    const pending: Promise<unknown>[] = [];
    for (let n = 0; n < count; n++) {
      const wait = start + n * options.intervalMs - Date.now();
      if (wait > 0) await sleep(wait);
      pending.push(enqueue(n));
    }
    await Promise.all(pending);
    await waitUntil(workers, () => handledSum(workers) >= count, Date.now() + 15_000);
    const wake = workers[0]?.wake;
    const stopped = await stopWorkers(workers);
    const samples = stopped.flatMap((reply) => reply.pickupMs);
    return {
      contender,
      wake,
      enqueued: count,
      picked: samples.length,
      p50Ms: percentile(samples, 50),
      p95Ms: percentile(samples, 95),
      maxMs: samples.length > 0 ? Math.max(...samples) : Number.NaN,
    };
  } finally {
    await Promise.all(workers.map((worker) => worker.dispose()));
    await client.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Idle load

export interface IdleOptions {
  warmupMs: number;
  windowMs: number;
}

export interface IdleResult {
  contender: Contender;
  windowMs: number;
  commands: CommandCounts;
  qps: number;
}

/** One worker process on an empty queue: commands per second over `windowMs`, after `warmupMs`. */
export async function measureIdle(
  contender: Exclude<Contender, "ceiling">,
  target: Target,
  settings: BenchSettings,
  options: IdleOptions,
): Promise<IdleResult> {
  await withDb(target, async (db) => {
    if (contender === "agenda") await openAgenda(db);
    else await createQueue({ db }).ensureIndexes();
  });
  const workers = await startWorkers(1, workerConfig(contender, target, settings, false));
  const [worker] = workers;
  if (!worker) throw new Error("no worker started");
  try {
    worker.send({ type: "go" });
    await sleep(options.warmupMs);
    const before = await worker.request({ type: "snapshot" }, "snapshot");
    await sleep(options.windowMs);
    const after = await worker.request({ type: "snapshot" }, "snapshot");
    const commands = subtractCounts(after.commands, before.commands);
    const windowMs = after.at - before.at;
    return { contender, windowMs, commands, qps: totalCommands(commands) / (windowMs / 1000) };
  } finally {
    await stopWorkers(workers);
  }
}

/** Drops a benchmark database (best effort). */
export async function dropDatabase(target: Target): Promise<void> {
  await withDb(target, (db) => db.dropDatabase()).catch(() => undefined);
}
