import type { Collection } from "mongodb";
import { type BackoffOptions, backoffDelayMs } from "./backoff.js";
import { type ClaimBatchOptions, createClaimer } from "./claim.js";
import { createCompletionBatcher } from "./completion-batcher.js";
import type { FailOutcome, JobDocument, JobFailure } from "./job-types.js";
import { deadLetterUpdate, errorEntry, fence, pushError } from "./job-updates.js";

/** What only the worker runner does: claim, keep leases, and record how attempts ended (all fenced). */
export interface QueueConsumer {
  /**
   * Claims up to `limit` runnable jobs (pending and due, or processing with an expired lease) in
   * priority then runAt order: one find for candidates, one bulk compare-and-set on
   * `{ _id, attempts, status }`, and a read-back only when some of the sets lost a race.
   */
  claimBatch(options: ClaimBatchOptions): Promise<JobDocument[]>;
  /** Claims one job (claimBatch with limit 1). */
  claim(workerId: string, leaseMs: number): Promise<JobDocument | null>;
  /** Extends the lease of the attempt `job` holds; false when that attempt lost the lease. */
  heartbeat(job: JobDocument, leaseMs: number): Promise<boolean>;
  /**
   * Marks the attempt completed; false when it no longer holds the lease (fenced). Completions that
   * arrive while a write is in flight are written together in one bulkWrite (group commit).
   */
  complete(job: JobDocument, result?: unknown): Promise<boolean>;
  /** Records a failure: back to pending after a backoff, or `failed` (dead letter); `lost` when fenced. */
  fail(job: JobDocument, failure: JobFailure): Promise<FailOutcome>;
  /**
   * Stores `data` as the job's `progress` (replacing the previous one) and refreshes `updatedAt`;
   * false when the attempt no longer holds the lease (fenced: a stale worker cannot overwrite the
   * progress or checkpoint of the attempt that took over).
   */
  progress(job: JobDocument, data: Record<string, unknown>): Promise<boolean>;
  /** Gives the job back (pending, claimable at once) without counting a retry: graceful shutdown. */
  release(job: JobDocument): Promise<boolean>;
  /** Gives the job back due at `runAt`, without counting a retry: a spent rate limit (JobDeferral). */
  defer(job: JobDocument, runAt: Date): Promise<boolean>;
}

export function createQueueConsumer(
  jobs: Collection<JobDocument>,
  settings: { defaultMaxRetries: number; historyLimit: number; backoff: BackoffOptions; clock: () => Date },
): QueueConsumer {
  const { historyLimit, backoff, clock } = settings;
  const { claimBatch } = createClaimer({ jobs, ...settings });
  const { complete } = createCompletionBatcher(jobs, clock);

  async function giveBack(job: JobDocument, runAt: Date): Promise<boolean> {
    const now = clock();
    const update = await jobs.updateOne(fence(job), {
      $set: { status: "pending", runAt, lockedBy: null, lockedUntil: null, updatedAt: now },
    });
    return update.matchedCount === 1;
  }
  return {
    claimBatch,

    async claim(workerId, leaseMs) {
      const [job] = await claimBatch({ workerId, leaseMs, limit: 1 });
      return job ?? null;
    },

    async heartbeat(job, leaseMs) {
      const now = clock();
      const lockedUntil = new Date(now.getTime() + leaseMs);
      const result = await jobs.updateOne(fence(job), { $set: { lockedUntil, updatedAt: now } });
      if (result.matchedCount === 1) job.lockedUntil = lockedUntil;
      return result.matchedCount === 1;
    },

    complete,

    async fail(job, failure) {
      const now = clock();
      const final = failure.retryable === false || job.retries >= job.maxRetries;
      const entry = errorEntry(job, failure, now);
      if (final) {
        const update = await jobs.updateOne(fence(job), deadLetterUpdate(job, entry, now, historyLimit));
        return update.matchedCount === 1 ? { outcome: "failed" } : { outcome: "lost" };
      }
      const delay = Math.max(failure.retryAfterMs ?? 0, backoffDelayMs(job.retries, backoff));
      const runAt = new Date(now.getTime() + delay);
      const update = await jobs.updateOne(fence(job), {
        $set: {
          status: "pending",
          runAt,
          lastError: failure.message,
          lockedBy: null,
          lockedUntil: null,
          updatedAt: now,
        },
        $inc: { retries: 1 },
        ...pushError(entry, historyLimit),
      });
      return update.matchedCount === 1 ? { outcome: "retry", runAt } : { outcome: "lost" };
    },

    async progress(job, data) {
      const update = await jobs.updateOne(fence(job), { $set: { progress: data, updatedAt: new Date() } });
      if (update.matchedCount === 1) job.progress = data;
      return update.matchedCount === 1;
    },

    release(job) {
      return giveBack(job, clock());
    },

    defer(job, runAt) {
      return giveBack(job, runAt);
    },
  };
}
