import { hostname } from "node:os";
import type { Logger } from "pino";
import { AppError } from "../errors/app-error.js";
import type { JobHandlers } from "./job-handler.js";
import type { JobDocument } from "./job-types.js";
import type { Queue } from "./queue.js";

export interface WorkerRunnerOptions {
  queue: Queue;
  handlers: JobHandlers;
  logger: Logger;
  concurrency: number;
  leaseMs: number;
  pollMinMs: number;
  pollMaxMs: number;
  workerId?: string;
}

export interface WorkerRunner {
  readonly workerId: string;
  start(): void;
  /** Stops claiming and waits for running jobs. */
  stop(): Promise<void>;
}

export function createWorkerRunner(options: WorkerRunnerOptions): WorkerRunner {
  const workerId =
    options.workerId ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  const running = new Set<Promise<void>>();
  let stopping = false;
  let idleDelay = options.pollMinMs;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;

  async function runJob(job: JobDocument): Promise<void> {
    const log = options.logger.child({ jobId: String(job._id), type: job.type, clientCode: job.clientCode });
    const handler = options.handlers[job.type];
    const controller = new AbortController();
    const started = Date.now();
    try {
      if (!handler) {
        throw new AppError("ECODRIX_QUEUE_UNKNOWN_TYPE", `No handler for job type ${job.type}`, 500, {
          retryable: false,
        });
      }
      const result = await handler({ job, log, signal: controller.signal });
      const done = await options.queue.complete(job, workerId, result);
      log.info(
        { durationMs: Date.now() - started, fenced: !done },
        done ? "job completed" : "job finished after its lease was lost",
      );
    } catch (error) {
      const appError = error instanceof AppError ? error : undefined;
      const message = error instanceof Error ? error.message : String(error);
      await options.queue.fail(job, workerId, {
        message,
        ...(appError ? { code: appError.code, retryable: appError.retryable } : {}),
      });
      log.warn({ err: error, durationMs: Date.now() - started }, "job failed");
    }
  }

  async function loop(): Promise<void> {
    while (!stopping) {
      if (running.size >= options.concurrency) {
        await Promise.race(running);
        continue;
      }
      let job: JobDocument | null = null;
      try {
        job = await options.queue.claim(workerId, options.leaseMs);
      } catch (error) {
        options.logger.error({ err: error }, "claiming a job failed");
      }
      if (job) {
        idleDelay = options.pollMinMs;
        const run = runJob(job).finally(() => running.delete(run));
        running.add(run);
        continue;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, idleDelay);
      });
      idleDelay = Math.min(idleDelay * 2, options.pollMaxMs);
    }
  }

  let loopPromise: Promise<void> | undefined;
  return {
    workerId,
    start() {
      loopPromise ??= loop();
    },
    async stop() {
      stopping = true;
      clearTimeout(timer);
      wake?.();
      await loopPromise;
      await Promise.allSettled(running);
    },
  };
}
