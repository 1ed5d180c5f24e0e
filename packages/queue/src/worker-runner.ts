import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { AppError } from "@ecodrix/platform";
import type { Logger } from "pino";
import type { ClusterRateLimiter } from "./cluster-rate-limiter.js";
import { type FairnessOptions, FairnessPlanner } from "./fairness.js";
import type { JobRegistry } from "./job-definition.js";
import { JobDeferral, JobsErrorCode } from "./job-errors.js";
import type { FailOutcome, JobDocument } from "./job-types.js";
import type { WakeSignal } from "./job-wake.js";
import type { QueueConsumer } from "./queue-consumer.js";
import { waitForRateSlot } from "./rate-slot.js";
import { WORKER_REPORT_INTERVAL_MS, type WorkerRegistry } from "./worker-registry.js";

export type JobOutcome = "completed" | "retry" | "failed" | "lost" | "released" | "deferred";

/** Hooks for metrics (see createWorkerMetrics); all optional. */
export interface WorkerObserver {
  jobStarted?(job: JobDocument): void;
  jobFinished?(job: JobDocument, outcome: JobOutcome, durationMs: number): void;
}

export interface WorkerRunnerOptions {
  queue: QueueConsumer;
  /** The job types this runner runs (it claims only these), built once by createJobRegistry. */
  jobs: JobRegistry;
  /** Cluster-wide rate limits of the definitions (`limits.rateLimit`) are taken from it. */
  rateLimiter?: ClusterRateLimiter;
  /** Where the runner reports the types it knows (so stats can show jobs no running worker knows). */
  workers?: Pick<WorkerRegistry, "report" | "remove">;
  logger: Logger;
  /** Jobs run at once by this runner. */
  concurrency: number;
  /**
   * Jobs claimed ahead of free slots while a backlog is waiting (held in memory, leases running).
   * Larger claims amortise the claim query over more jobs. Default 2 × concurrency; 0 turns it off.
   */
  prefetch?: number;
  /** Lease length; renewed every leaseMs/3 while a handler runs. */
  leaseMs: number;
  /**
   * Idle polling starts at pollMinMs and doubles up to pollMaxMs while nothing is found; with a live
   * wake signal up to 2 × pollMaxMs (the signal brings new jobs; polls find delayed ones and expired
   * leases), so a waiting worker stays under one query a second.
   */
  pollMinMs: number;
  pollMaxMs: number;
  /**
   * Wakes the idle runner when a job arrives (queue.openWakeSignal: a change stream, or producers'
   * nudges, whose address the runner records through `workers`). Owned by the caller, who closes it.
   */
  wake?: WakeSignal;
  /** A handler still running after this is aborted and the attempt fails (retryable). Default 120 s. */
  jobTimeoutMs?: number;
  /** stop(): how long running jobs may finish before their leases are released. Default 25 s. */
  shutdownTimeoutMs?: number;
  fairness?: FairnessOptions;
  observer?: WorkerObserver;
  workerId?: string;
}

export interface WorkerRunner {
  readonly workerId: string;
  start(): void;
  /**
   * Stops claiming, waits up to shutdownTimeoutMs for running jobs, then aborts the rest and releases
   * their leases (pending, due now) so another worker takes them at once.
   */
  stop(): Promise<void>;
  /** Jobs running now. */
  readonly running: number;
}

class JobAborted extends Error {
  constructor(
    readonly reason: "timeout" | "lease-lost" | "shutdown",
    message: string,
  ) {
    super(message);
  }
}

/** Pauses between attempts to record a completion after a database error. */
const COMPLETION_RETRY_DELAYS_MS = [100, 500, 2_000];

export function createWorkerRunner(options: WorkerRunnerOptions): WorkerRunner {
  const workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const { queue, logger, concurrency, leaseMs } = options;
  const jobTimeoutMs = options.jobTimeoutMs ?? 120_000;
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 25_000;
  const heartbeatMs = Math.max(50, Math.floor(leaseMs / 3));
  // Claim in batches: after a job ends, wait this long for more slots before claiming for one.
  const minBatch = Math.max(1, Math.ceil(concurrency / 2));
  const batchWaitMs = Math.min(options.pollMinMs, 10);
  const planner = new FairnessPlanner(options.fairness ?? {}, concurrency);
  const prefetch = Math.max(0, options.prefetch ?? concurrency * 2);
  /** Claimed but not yet started (prefetched), oldest first, with when their lease was last set. */
  const buffered: { job: JobDocument; renewedAt: number; renewing: boolean }[] = [];
  let bufferTimer: NodeJS.Timeout | undefined;
  let reportTimer: NodeJS.Timeout | undefined;
  const startedAt = new Date();

  /** Tells the worker registry which types this runner knows (start-up, then every 15 s). */
  function report(): void {
    options.workers
      ?.report(workerId, options.jobs.types, startedAt, options.wake?.endpoint)
      .catch((error: unknown) => logger.warn({ err: error }, "reporting this worker's job types failed"));
  }

  const running = new Map<string, { job: JobDocument; controller: AbortController; done: Promise<void> }>();
  let stopping = false;
  let idleDelay = options.pollMinMs;
  let wakeLoop: (() => void) | undefined;
  let loopPromise: Promise<void> | undefined;
  let lastRoundFull = false;
  let idleWaiting = false;
  /** A wake that arrived while a claim ran (the job may have been inserted just after its find). */
  let wakePending = false;
  let lastClaimAt = 0;
  let wakeTimer: NodeJS.Timeout | undefined;
  let unsubscribeWake: (() => void) | undefined;
  const pollMaxMs = () => (options.wake?.live ? 2 * options.pollMaxMs : options.pollMaxMs);

  /**
   * A wake signal ends an idle wait at once, but starts claims no closer together than wakeGapMs:
   * a burst of nudges (or a flood of stray datagrams) costs one claim per gap at most.
   */
  const wakeGapMs = Math.min(options.pollMinMs, 50);
  function onWake(): void {
    idleDelay = options.pollMinMs;
    if (!idleWaiting) {
      wakePending = true;
      return;
    }
    if (wakeTimer) return;
    const wait = lastClaimAt + wakeGapMs - Date.now();
    if (wait <= 0) {
      wakeLoop?.();
      return;
    }
    wakeTimer = setTimeout(() => {
      wakeTimer = undefined;
      if (idleWaiting) wakeLoop?.();
    }, wait);
  }

  /** Resolves on the next job end, on stop(), or after `ms` (if given). */
  function pause(ms?: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        if (wakeLoop === done) wakeLoop = undefined;
        resolve();
      }
      wakeLoop = done;
    });
  }

  function failureOf(error: unknown): {
    message: string;
    code?: string;
    retryable?: boolean;
    retryAfterMs?: number;
  } {
    if (error instanceof AppError) {
      return {
        message: error.message,
        code: error.code,
        retryable: error.retryable,
        ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
      };
    }
    return { message: error instanceof Error ? error.message : String(error) };
  }

  async function renewThenRun(job: JobDocument, controller: AbortController): Promise<void> {
    if (await queue.heartbeat(job, leaseMs)) return runJob(job, controller);
    logger.warn(
      { jobId: String(job._id), type: job.type },
      "prefetched job lost its lease before it started",
    );
  }

  /**
   * Records a handler's success. A database error here is not the handler's failure: the completion is
   * retried a few times (the lease still protects the job), and if it cannot be written the job is left
   * to its lease, never marked failed. False when the attempt lost its lease or nothing could be written.
   */
  async function recordCompletion(job: JobDocument, result: unknown, log: Logger): Promise<boolean> {
    for (const [attempt, delayMs] of COMPLETION_RETRY_DELAYS_MS.entries()) {
      try {
        return await queue.complete(job, result);
      } catch (error) {
        log.warn({ err: error, attempt: attempt + 1 }, "recording the completion failed; retrying");
        await sleep(delayMs);
      }
    }
    try {
      return await queue.complete(job, result);
    } catch (error) {
      log.error(
        { err: error },
        "recording the completion failed; the lease will expire and the job run again",
      );
      return false;
    }
  }

  async function runJob(job: JobDocument, controller: AbortController): Promise<void> {
    const log = logger.child({
      jobId: String(job._id),
      type: job.type,
      clientCode: job.clientCode,
      attempt: job.attempts,
    });
    const started = Date.now();
    options.observer?.jobStarted?.(job);
    const aborted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
    });
    aborted.catch(() => {});
    const armTimeout = (ms: number) =>
      setTimeout(() => controller.abort(new JobAborted("timeout", `Job timed out after ${ms} ms`)), ms);
    let timeout = armTimeout(jobTimeoutMs);
    const heartbeat = setInterval(() => {
      queue.heartbeat(job, leaseMs).then(
        (held) => {
          if (!held)
            controller.abort(new JobAborted("lease-lost", "Lease lost: another worker took the job over"));
        },
        (error: unknown) => log.warn({ err: error }, "heartbeat failed; will retry"),
      );
    }, heartbeatMs);
    let outcome: JobOutcome;
    try {
      const registered = options.jobs.get(job.type);
      if (!registered) {
        // Not reachable through the claim (it asks for known types only); a guard, not a path.
        throw new AppError(JobsErrorCode.unknownType, `No handler for job type ${job.type}`, 500, {
          retryable: false,
        });
      }
      const problem = registered.check(job.payload);
      if (problem) {
        // A malformed payload will be malformed on every retry: dead-letter it at once, saying why.
        throw new AppError(JobsErrorCode.invalidPayload, problem, 400, { retryable: false });
      }
      const rate = registered.limits.rateLimit;
      if (rate) {
        if (!options.rateLimiter)
          throw new Error(`job type ${job.type} has a rate limit but no rate limiter`);
        const key = `${job.type}:${rate.key ? rate.key(job) : (job.clientCode ?? "")}`;
        await waitForRateSlot(options.rateLimiter, key, rate, controller.signal);
      }
      if (registered.limits.timeoutMs !== undefined) {
        clearTimeout(timeout);
        timeout = armTimeout(registered.limits.timeoutMs);
      }
      const result = await Promise.race([
        registered.handler({
          job,
          log,
          signal: controller.signal,
          progress: (data) => queue.progress(job, data),
        }),
        aborted,
      ]);
      clearInterval(heartbeat);
      const done = await recordCompletion(job, result, log);
      outcome = done ? "completed" : "lost";
      if (done) log.info({ durationMs: Date.now() - started }, "job completed");
      else
        log.warn(
          { durationMs: Date.now() - started },
          "job finished but its completion could not be recorded (lease lost, or the database unreachable): result dropped",
        );
    } catch (error) {
      clearInterval(heartbeat);
      if (error instanceof JobDeferral) {
        const runAt = new Date(Date.now() + error.retryAfterMs);
        const held = await queue.defer(job, runAt).catch((writeError: unknown) => {
          log.error({ err: writeError }, "deferring the job failed; its lease will expire and it runs again");
          return false;
        });
        outcome = held ? "deferred" : "lost";
        log.debug({ runAt, reason: error.message }, "job deferred");
      } else if (error instanceof JobAborted && error.reason !== "timeout") {
        // lease-lost: the newer attempt owns the job; shutdown: stop() releases it.
        outcome = error.reason === "shutdown" ? "released" : "lost";
        log.warn({ durationMs: Date.now() - started }, error.message);
      } else {
        const failure =
          error instanceof JobAborted
            ? { message: error.message, code: JobsErrorCode.timeout, retryable: true }
            : failureOf(error);
        let result: FailOutcome;
        try {
          result = await queue.fail(job, failure);
        } catch (writeError) {
          log.error(
            { err: writeError },
            "recording the failure failed; the lease will expire and the job be retried",
          );
          result = { outcome: "lost" };
        }
        outcome = result.outcome;
        log.warn(
          {
            err: error,
            durationMs: Date.now() - started,
            outcome: result.outcome,
            ...(result.outcome === "retry" ? { retryAt: result.runAt } : {}),
          },
          result.outcome === "failed" ? "job failed: dead-lettered" : "job failed",
        );
      }
    } finally {
      clearTimeout(timeout);
      clearInterval(heartbeat);
    }
    options.observer?.jobFinished?.(job, outcome, Date.now() - started);
  }

  /** Starts buffered (prefetched) jobs while slots are free. */
  function launchBuffered(): void {
    while (running.size < concurrency && buffered.length > 0) {
      const next = buffered.shift()!;
      // A job whose lease was set more than a heartbeat period ago renews it before it runs.
      launch(next.job, Date.now() - next.renewedAt >= heartbeatMs);
    }
  }

  /**
   * Keeps the leases of prefetched jobs alive while they wait for a slot (one fenced update each, only
   * for jobs that waited a heartbeat period). A job whose lease was lost leaves the buffer.
   */
  function renewBuffered(): void {
    const now = Date.now();
    for (const entry of buffered) {
      if (entry.renewing || now - entry.renewedAt < heartbeatMs) continue;
      entry.renewing = true;
      queue.heartbeat(entry.job, leaseMs).then(
        (held) => {
          entry.renewing = false;
          if (held) {
            entry.renewedAt = Date.now();
            return;
          }
          const index = buffered.indexOf(entry);
          if (index >= 0) {
            buffered.splice(index, 1);
            planner.finished(entry.job);
          }
          wakeLoop?.();
        },
        (error: unknown) => {
          entry.renewing = false;
          logger.warn(
            { err: error, jobId: String(entry.job._id) },
            "renewing a prefetched job's lease failed",
          );
        },
      );
    }
  }

  function launch(job: JobDocument, renewFirst = false): void {
    const controller = new AbortController();
    const id = String(job._id);
    const done = (renewFirst ? renewThenRun(job, controller) : runJob(job, controller))
      .catch((error: unknown) => logger.error({ err: error, jobId: id }, "job runner crashed"))
      .finally(() => {
        planner.finished(job);
        running.delete(id);
        wakeLoop?.();
      });
    running.set(id, { job, controller, done });
  }

  async function claimRound(free: number): Promise<{ jobs: JobDocument[]; full: boolean }> {
    const exclusions = () => ({ ...planner.exclusions(), onlyTypes: options.jobs.types });
    const exclude = exclusions();
    const jobs: JobDocument[] = [];
    const probe = lastRoundFull ? planner.probeTenants() : undefined;
    if (probe) {
      // Look past the tenants that took most recent claims: their backlog must not hide others' jobs.
      const others = await queue.claimBatch({
        workerId,
        leaseMs,
        limit: Math.max(1, Math.floor(free / 2)),
        exclude: { ...exclude, clientCodes: [...(exclude.clientCodes ?? []), ...probe] },
        select: (candidates) => planner.select(candidates, free),
      });
      // Held jobs count against caps and rate limits from the claim on, so the main claim below sees them.
      for (const job of others) planner.started(job);
      jobs.push(...others);
    }
    const limit = free - jobs.length;
    if (limit > 0) {
      const main = await queue.claimBatch({
        workerId,
        leaseMs,
        limit,
        candidates: options.fairness ? limit * 2 : limit,
        exclude: probe ? exclusions() : exclude,
        select: (candidates) => planner.select(candidates, limit),
      });
      for (const job of main) planner.started(job);
      jobs.push(...main);
      return { jobs, full: main.length === limit };
    }
    return { jobs, full: true };
  }

  async function loop(): Promise<void> {
    let waitedForBatch = false;
    while (!stopping) {
      launchBuffered();
      // Claim for the free slots, and (while a backlog is waiting) for the prefetch buffer too.
      const room = concurrency + (lastRoundFull ? prefetch : 0) - running.size - buffered.length;
      const free = concurrency - running.size;
      if (buffered.length > 0 || room <= 0 || free <= 0) {
        await pause();
        continue;
      }
      if (free < minBatch && running.size > 0 && !waitedForBatch) {
        waitedForBatch = true;
        await pause(batchWaitMs);
        continue;
      }
      waitedForBatch = false;
      let round: { jobs: JobDocument[]; full: boolean } = { jobs: [], full: false };
      lastClaimAt = Date.now();
      wakePending = false;
      try {
        round = await claimRound(room);
      } catch (error) {
        logger.error({ err: error }, "claiming jobs failed");
      }
      lastRoundFull = round.full;
      if (stopping) {
        // Claimed while stop() began: hand them straight back.
        for (const job of round.jobs) planner.finished(job);
        await Promise.all(round.jobs.map((job) => queue.release(job).catch(() => false)));
        break;
      }
      const claimedAt = Date.now();
      for (const job of round.jobs) buffered.push({ job, renewedAt: claimedAt, renewing: false });
      if (round.jobs.length > 0) {
        idleDelay = options.pollMinMs;
        launchBuffered();
        // A full batch means more work is waiting: claim again as soon as slots allow.
        if (!round.full) await pause(options.pollMinMs);
        continue;
      }
      if (wakePending) {
        wakePending = false;
        await pause(Math.max(0, lastClaimAt + wakeGapMs - Date.now()));
        continue;
      }
      idleWaiting = true;
      await pause(idleDelay);
      idleWaiting = false;
      idleDelay = Math.min(idleDelay * 2, pollMaxMs());
    }
  }

  return {
    workerId,
    get running() {
      return running.size;
    },
    start() {
      if (stopping) throw new Error("a stopped worker runner cannot be started again");
      if (!loopPromise) {
        unsubscribeWake = options.wake?.onWake(onWake);
        bufferTimer = setInterval(renewBuffered, heartbeatMs);
        bufferTimer.unref();
        if (options.workers) {
          report();
          reportTimer = setInterval(report, WORKER_REPORT_INTERVAL_MS);
          reportTimer.unref();
        }
      }
      loopPromise ??= loop();
    },
    async stop() {
      stopping = true;
      unsubscribeWake?.();
      clearTimeout(wakeTimer);
      wakeLoop?.();
      await loopPromise;
      clearInterval(bufferTimer);
      clearInterval(reportTimer);
      // Prefetched jobs never started: give them back at once.
      const unstarted = buffered.splice(0);
      for (const { job } of unstarted) planner.finished(job);
      await Promise.all(unstarted.map(({ job }) => queue.release(job).catch(() => false)));
      if (running.size > 0) {
        await Promise.race([
          Promise.allSettled([...running.values()].map((entry) => entry.done)),
          sleep(shutdownTimeoutMs),
        ]);
      }
      const left = [...running.values()];
      if (left.length > 0) {
        for (const entry of left)
          entry.controller.abort(new JobAborted("shutdown", "Worker shutting down: lease released"));
        const released = await Promise.all(left.map((entry) => queue.release(entry.job).catch(() => false)));
        logger.warn(
          { released: released.filter(Boolean).length, jobs: left.map((entry) => String(entry.job._id)) },
          "shutdown deadline passed: released the leases of running jobs",
        );
        await Promise.allSettled(left.map((entry) => entry.done));
      }
      await options.workers?.remove(workerId).catch(() => undefined);
    },
  };
}
