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
  /**
   * Ticks missed (every worker down or frozen at the time) up to this long ago are enqueued when a
   * worker notices: at start, and on the next tick of a worker that fired late. Default 3 hours.
   */
  catchUpMs?: number;
  /** The clock (tests). */
  now?: () => Date;
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
/** At most this many missed ticks of one schedule are enqueued in one catch-up (the most recent). */
const MAX_CATCH_UP_TICKS = 50;

export function createCronScheduler(options: CronSchedulerOptions): CronScheduler {
  const byName = new Map(options.schedules.map((schedule) => [schedule.name, schedule]));
  if (byName.size !== options.schedules.length) throw new Error("cron schedule names must be unique");
  const catchUpMs = options.catchUpMs ?? 3 * 60 * 60 * 1000;
  const now = options.now ?? (() => new Date());
  let crons: Cron[] = [];
  /** Per schedule, the latest tick this replica has enqueued (or found enqueued). */
  const lastTick = new Map<string, Date>();

  /**
   * Enqueues every tick of `schedule` after `since` up to now (at most the last 50). Each tick's job id
   * is deterministic, so a tick that another replica (or this one) already enqueued is not doubled.
   */
  async function catchUp(schedule: CronSchedule, since: Date): Promise<void> {
    const pattern = new Cron(schedule.pattern, {
      timezone: schedule.timezone ?? options.timezone ?? "UTC",
      paused: true,
    });
    const at = now();
    const ticks = pattern
      .previousRuns(MAX_CATCH_UP_TICKS, at)
      .filter((tickAt) => tickAt > since && tickAt <= at)
      .reverse();
    for (const tickAt of ticks) {
      const job = await tick(schedule.name, tickAt);
      const previous = lastTick.get(schedule.name);
      if (!previous || tickAt > previous) lastTick.set(schedule.name, tickAt);
      options.logger.debug({ schedule: schedule.name, jobId: String(job._id), tickAt }, "cron tick enqueued");
    }
  }

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
      const startedAt = now();
      for (const schedule of options.schedules) {
        catchUp(schedule, new Date(startedAt.getTime() - catchUpMs)).catch((error: unknown) =>
          options.logger.error({ err: error, schedule: schedule.name }, "cron catch-up could not enqueue"),
        );
      }
      crons = options.schedules.map(
        (schedule) =>
          new Cron(
            schedule.pattern,
            { timezone: schedule.timezone ?? options.timezone ?? "UTC", unref: true, protect: true },
            async () => {
              // The ticks are the scheduled instants (the same on every replica), not when croner fired:
              // a replica that fires late (a frozen or overloaded host) enqueues every tick it missed
              // since its last one, within the catch-up window.
              const floor = new Date(now().getTime() - catchUpMs);
              const last = lastTick.get(schedule.name);
              try {
                await catchUp(schedule, last && last > floor ? last : floor);
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
