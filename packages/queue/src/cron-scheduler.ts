import { createHash } from "node:crypto";
import { Cron } from "croner";
import { ObjectId } from "mongodb";
import type { Logger } from "pino";
import type { EnqueueInput, JobDocument } from "./job-types.js";
import type { QueueProducer } from "./queue-producer.js";

export interface CronSchedule {
  /** Unique name; part of each tick's dedupe key and job id. */
  name: string;
  /** croner pattern: 5 fields (minute precision) or 6 (seconds first). */
  pattern: string;
  /** IANA timezone the pattern is read in; default: the scheduler's. */
  timezone?: string;
  /** The job each tick enqueues. */
  job: Omit<EnqueueInput, "dedupeKey" | "id" | "runAt" | "delayMs">;
}

export interface CronSchedulerOptions {
  queue: Pick<QueueProducer, "enqueue">;
  schedules: CronSchedule[];
  logger: Logger;
  /** Default timezone of the schedules. Default "UTC". */
  timezone?: string;
}

export interface CronScheduler {
  start(): void;
  stop(): void;
  /** Enqueues the job of `name` for the tick at `at` (what a croner tick does); returns the tick's job. */
  tick(name: string, at: Date): Promise<JobDocument>;
}

/**
 * The id of a schedule's tick: the tick's second in the ObjectId's timestamp bytes, then 8 bytes of
 * the schedule name's hash. Every replica computes the same id, so only one insert can win — even
 * after the winner's job has finished and released its dedupe key.
 */
export function cronTickId(name: string, at: Date): ObjectId {
  const bytes = Buffer.alloc(12);
  bytes.writeUInt32BE(Math.floor(at.getTime() / 1000) >>> 0, 0);
  createHash("sha256").update(name).digest().copy(bytes, 4, 0, 8);
  return new ObjectId(bytes);
}

export const cronDedupeKey = (name: string, at: Date) => `cron:${name}:${at.toISOString()}`;

/**
 * Runs croner in every worker replica. Each tick enqueues the schedule's job with the tick's dedupe
 * key and id, so N replicas produce exactly one job per tick and a replica that was down simply
 * contributes nothing.
 */
export function createCronScheduler(options: CronSchedulerOptions): CronScheduler {
  const byName = new Map(options.schedules.map((schedule) => [schedule.name, schedule]));
  if (byName.size !== options.schedules.length) throw new Error("cron schedule names must be unique");
  let crons: Cron[] = [];

  async function tick(name: string, at: Date): Promise<JobDocument> {
    const schedule = byName.get(name);
    if (!schedule) throw new Error(`no cron schedule named ${name}`);
    const tickAt = new Date(Math.floor(at.getTime() / 1000) * 1000);
    return options.queue.enqueue({
      ...schedule.job,
      payload: { ...(schedule.job.payload ?? {}), scheduledFor: tickAt.toISOString() },
      runAt: tickAt,
      dedupeKey: cronDedupeKey(name, tickAt),
      id: cronTickId(name, tickAt),
    });
  }

  return {
    start() {
      if (crons.length > 0) return;
      crons = options.schedules.map(
        (schedule) =>
          new Cron(
            schedule.pattern,
            { timezone: schedule.timezone ?? options.timezone ?? "UTC", unref: true, protect: true },
            async (self: Cron) => {
              // croner reports when it fired; the tick is the scheduled instant, the same on every replica.
              const scheduled = self.previousRuns(1, new Date())[0] ?? new Date();
              try {
                const job = await tick(schedule.name, scheduled);
                options.logger.debug(
                  { schedule: schedule.name, jobId: String(job._id) },
                  "cron tick enqueued",
                );
              } catch (error) {
                options.logger.error({ err: error, schedule: schedule.name }, "cron tick could not enqueue");
              }
            },
          ),
      );
    },
    stop() {
      for (const cron of crons) cron.stop();
      crons = [];
    },
    tick,
  };
}
