import type { Logger } from "pino";
import type { QueueAdmin } from "./queue-admin.js";

export interface RetentionSweeperOptions {
  queue: Pick<QueueAdmin, "sweepFinished">;
  /** Finished jobs older than this are deleted; 0 keeps them forever (no sweeper runs). */
  retentionDays: number;
  logger: Logger;
  /** Default 10 minutes (jittered ±20 % so replicas do not sweep in step). */
  intervalMs?: number;
}

export interface RetentionSweeper {
  start(): void;
  stop(): void;
  /** One sweep now; returns how many jobs were deleted. */
  sweep(): Promise<number>;
}

/**
 * Deletes completed, failed and cancelled jobs whose completedAt is older than the retention. A
 * sweeper rather than a TTL index: it works on the embedded server (which has no TTL monitor), the
 * retention can change with one variable, and every replica running it is harmless (deleteMany is
 * idempotent).
 */
export function createRetentionSweeper(options: RetentionSweeperOptions): RetentionSweeper {
  const intervalMs = options.intervalMs ?? 10 * 60 * 1000;
  let timer: NodeJS.Timeout | undefined;

  async function sweep(): Promise<number> {
    if (options.retentionDays <= 0) return 0;
    const cutoff = new Date(Date.now() - options.retentionDays * 24 * 3600 * 1000);
    const deleted = await options.queue.sweepFinished(cutoff);
    if (deleted > 0) options.logger.info({ deleted, cutoff }, "retention: deleted finished jobs");
    return deleted;
  }

  function schedule() {
    const delay = intervalMs * (0.8 + Math.random() * 0.4);
    timer = setTimeout(() => {
      sweep()
        .catch((error: unknown) => options.logger.warn({ err: error }, "retention sweep failed"))
        .finally(() => {
          if (timer) schedule();
        });
    }, delay);
    timer.unref();
  }

  return {
    start() {
      if (options.retentionDays > 0 && !timer) schedule();
    },
    stop() {
      clearTimeout(timer);
      timer = undefined;
    },
    sweep,
  };
}
