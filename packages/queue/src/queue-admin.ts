import { isDuplicateKeyError } from "@ecodrix/platform";
import type { Collection, Filter, ObjectId, UpdateFilter } from "mongodb";
import { invalidJobInput, jobNotFound, jobNotRequeueable, parseJobId } from "./job-errors.js";
import { FINISHED_STATUSES, JOB_STATUSES, type JobDocument, type JobStatus } from "./job-types.js";
import type { WorkerRegistry } from "./worker-registry.js";

/** Runbook §2: a `processing` job whose `updatedAt` is older than this is "stuck". */
export const STUCK_AFTER_MS = 10 * 60 * 1000;

export interface JobListFilter {
  status?: JobStatus;
  type?: string;
  clientCode?: string;
  /** Processing jobs whose lease expired or whose updatedAt is older than 10 minutes. */
  stuck?: boolean;
  /** Default 50, at most 500. */
  limit?: number;
  /** Only jobs with an `_id` below this one (paging, newest first). */
  before?: ObjectId;
}

export type StatusCounts = Record<JobStatus, number>;

export interface JobStats {
  total: number;
  byStatus: StatusCounts;
  byType: ({ type: string; total: number } & StatusCounts)[];
  /** Processing jobs with an expired lease or an `updatedAt` older than 10 minutes. */
  stuck: number;
  /** Worker processes seen in the last minute. */
  workers: number;
  /** Job types with pending jobs that no running worker has a definition for. */
  unhandledTypes: { type: string; pending: number }[];
}

/** The queue's depth for `/metrics`: cheap groupings only (see registerQueueDepthMetric). */
export interface QueueDepth {
  /** Unfinished and dead-lettered jobs by status and type. */
  groups: { status: JobStatus; type: string; count: number }[];
  completed: number;
  cancelled: number;
  unhandledTypes: { type: string; pending: number }[];
}

/** Finished jobs per time bucket (by `completedAt`): what the console's throughput chart draws. */
export interface ThroughputBucket {
  /** Start of the bucket. */
  at: Date;
  completed: number;
  /** Dead-lettered (failed for good) in this bucket. */
  failed: number;
}

export interface Throughput {
  bucketMs: number;
  /** Oldest first; every bucket present (zeros included), the last one is the current, partial bucket. */
  buckets: ThroughputBucket[];
}

export interface ThroughputOptions {
  /** How many buckets back from now (default 60). */
  buckets?: number;
  /** Bucket length (default one minute). */
  bucketMs?: number;
  now?: Date;
}

/** What operators may do (admin API, CLI, console): look, requeue, kill, sweep. */
export interface QueueAdmin {
  stats(): Promise<JobStats>;
  depth(): Promise<QueueDepth>;
  list(filter?: JobListFilter): Promise<JobDocument[]>;
  /**
   * Completed and dead-lettered jobs per bucket over the last `buckets × bucketMs` (default: per minute,
   * last hour), from `completedAt`: one aggregation served by the retention index. A requeued job counts
   * once, at its latest finish; jobs removed by retention or by hand are no longer counted.
   */
  throughput(options?: ThroughputOptions): Promise<Throughput>;
  get(id: string | ObjectId): Promise<JobDocument | null>;
  /**
   * Back to pending with retries 0, due now (runbook §2 "re-queue"); 404 when absent. A job running
   * under a live lease (heartbeats within the last 10 minutes) (its handler would run twice at once) or a completed job (it would run again) is
   * refused with a 409 unless `force`.
   */
  requeue(id: string | ObjectId, options?: { force?: boolean }): Promise<JobDocument>;
  /** Deletes a job (runbook §2 "kill a poison job"); 404 when absent. */
  remove(id: string | ObjectId): Promise<void>;
  /** Deletes finished jobs whose completedAt is older than `olderThan`; returns how many. */
  sweepFinished(olderThan: Date): Promise<number>;
  /**
   * Offboarding: empties the payload and removes the result of every finished job of `clientCode` (the
   * documents stay for the operators' history until retention deletes them); returns how many.
   */
  anonymizeFinished(clientCode: string): Promise<number>;
}

export function stuckFilter(now: Date, stuckAfterMs = STUCK_AFTER_MS): Filter<JobDocument> {
  return {
    status: "processing",
    $or: [{ lockedUntil: { $lt: now } }, { updatedAt: { $lt: new Date(now.getTime() - stuckAfterMs) } }],
  };
}

const emptyCounts = (): StatusCounts => ({
  pending: 0,
  processing: 0,
  completed: 0,
  failed: 0,
  cancelled: 0,
});

export function createQueueAdmin(jobs: Collection<JobDocument>, workers: WorkerRegistry): QueueAdmin {
  async function unhandled(pendingByType: Map<string, number>): Promise<{ type: string; pending: number }[]> {
    if (pendingByType.size === 0) return [];
    const known = new Set((await workers.live()).flatMap((worker) => worker.types));
    return [...pendingByType]
      .filter(([type, pending]) => pending > 0 && !known.has(type))
      .map(([type, pending]) => ({ type, pending }))
      .sort((a, b) => a.type.localeCompare(b.type));
  }

  return {
    async stats() {
      const now = new Date();
      const groups = await jobs
        .aggregate<{ _id: { status: JobStatus; type: string }; count: number }>([
          { $group: { _id: { status: "$status", type: "$type" }, count: { $sum: 1 } } },
        ])
        .toArray();
      const byStatus = emptyCounts();
      const byType = new Map<string, { type: string; total: number } & StatusCounts>();
      let total = 0;
      for (const group of groups) {
        const status = group._id.status;
        const type = String(group._id.type);
        total += group.count;
        if (JOB_STATUSES.includes(status)) byStatus[status] += group.count;
        const row = byType.get(type) ?? { type, total: 0, ...emptyCounts() };
        row.total += group.count;
        if (JOB_STATUSES.includes(status)) row[status] += group.count;
        byType.set(type, row);
      }
      const [stuck, live] = await Promise.all([jobs.countDocuments(stuckFilter(now)), workers.live(now)]);
      const known = new Set(live.flatMap((worker) => worker.types));
      return {
        total,
        byStatus,
        byType: [...byType.values()].sort((a, b) => a.type.localeCompare(b.type)),
        stuck,
        workers: live.length,
        unhandledTypes: [...byType.values()]
          .filter((row) => row.pending > 0 && !known.has(row.type))
          .map((row) => ({ type: row.type, pending: row.pending }))
          .sort((a, b) => a.type.localeCompare(b.type)),
      };
    },

    async depth() {
      const [groups, completed, cancelled] = await Promise.all([
        jobs
          .aggregate<{ _id: { status: JobStatus; type: string }; count: number }>([
            { $match: { status: { $in: ["pending", "processing", "failed"] } } },
            { $group: { _id: { status: "$status", type: "$type" }, count: { $sum: 1 } } },
          ])
          .toArray(),
        jobs.countDocuments({ status: "completed" }),
        jobs.countDocuments({ status: "cancelled" }),
      ]);
      const pendingByType = new Map<string, number>();
      for (const group of groups) {
        if (group._id.status === "pending") pendingByType.set(String(group._id.type), group.count);
      }
      return {
        groups: groups.map((group) => ({
          status: group._id.status,
          type: String(group._id.type),
          count: group.count,
        })),
        completed,
        cancelled,
        unhandledTypes: await unhandled(pendingByType),
      };
    },

    list(filter = {}) {
      const query: Filter<JobDocument> = {
        ...(filter.status ? { status: filter.status } : {}),
        ...(filter.type ? { type: filter.type } : {}),
        ...(filter.clientCode ? { clientCode: filter.clientCode } : {}),
        ...(filter.before ? { _id: { $lt: filter.before } } : {}),
      };
      const where = filter.stuck ? { $and: [query, stuckFilter(new Date())] } : query;
      const limit = Math.min(Math.max(filter.limit ?? 50, 1), 500);
      return jobs.find(where, { sort: { _id: -1 }, limit }).toArray();
    },

    async throughput(options = {}) {
      const bucketMs = options.bucketMs ?? 60_000;
      const count = options.buckets ?? 60;
      if (!Number.isInteger(bucketMs) || bucketMs < 1_000)
        throw invalidJobInput("bucketMs must be at least 1000");
      if (!Number.isInteger(count) || count < 1 || count > 1_440) {
        throw invalidJobInput("buckets must be an integer from 1 to 1440");
      }
      const now = (options.now ?? new Date()).getTime();
      // Buckets aligned to whole bucket lengths, so consecutive polls agree on where a bucket starts.
      const first = new Date((Math.floor(now / bucketMs) - count + 1) * bucketMs);
      // $subtract of two dates and $floor are understood by MongoDB and by the embedded server alike
      // ($dateTrunc is not implemented by the latter).
      const groups = await jobs
        .aggregate<{ _id: { bucket: number; status: JobStatus }; count: number }>([
          { $match: { completedAt: { $gte: first }, status: { $in: ["completed", "failed"] } } },
          {
            $group: {
              _id: {
                bucket: { $floor: { $divide: [{ $subtract: ["$completedAt", first] }, bucketMs] } },
                status: "$status",
              },
              count: { $sum: 1 },
            },
          },
        ])
        .toArray();
      const buckets: ThroughputBucket[] = Array.from({ length: count }, (_, index) => ({
        at: new Date(first.getTime() + index * bucketMs),
        completed: 0,
        failed: 0,
      }));
      for (const group of groups) {
        const bucket = buckets[group._id.bucket];
        // A completedAt in the future (clock skew between processes) falls outside the window.
        if (!bucket) continue;
        if (group._id.status === "completed") bucket.completed += group.count;
        else if (group._id.status === "failed") bucket.failed += group.count;
      }
      return { bucketMs, buckets };
    },

    get(id) {
      return jobs.findOne({ _id: parseJobId(id) });
    },

    async requeue(id, options = {}) {
      const _id = parseJobId(id);
      const now = new Date();
      // Without force, the update only matches a job that is safe to run again: failed, cancelled,
      // pending, or stuck (processing with an expired lease, or no heartbeat for 10 minutes: its worker
      // is gone or hung). The condition is part of the update, so a job that starts running meanwhile is
      // not requeued under it.
      const safe: Filter<JobDocument> = options.force
        ? {}
        : { $or: [{ status: { $in: ["failed", "cancelled", "pending"] } }, stuckFilter(now)] };
      // attempts is left alone: a worker still running the old attempt stays fenced out.
      const job = await jobs.findOneAndUpdate(
        { _id, ...safe },
        {
          $set: {
            status: "pending",
            retries: 0,
            runAt: now,
            lockedBy: null,
            lockedUntil: null,
            completedAt: null,
            updatedAt: now,
          },
        },
        { returnDocument: "after" },
      );
      if (!job) {
        const existing = await jobs.findOne({ _id });
        if (!existing) throw jobNotFound(_id);
        throw jobNotRequeueable(existing);
      }
      const finished = (job as JobDocument & { finishedDedupeKey?: string }).finishedDedupeKey;
      if (finished === undefined) return job;
      // Unfinished again, so its dedupe key protects it again — unless another unfinished job took the
      // key meanwhile; then this one runs without it (the other one holds the key).
      try {
        await jobs.updateOne({ _id, finishedDedupeKey: finished }, {
          $rename: { finishedDedupeKey: "dedupeKey" },
        } as UpdateFilter<JobDocument>);
        return (await jobs.findOne({ _id })) ?? job;
      } catch (error) {
        if (isDuplicateKeyError(error)) return job;
        throw error;
      }
    },

    async remove(id) {
      const _id = parseJobId(id);
      const result = await jobs.deleteOne({ _id });
      if (result.deletedCount === 0) throw jobNotFound(_id);
    },

    async anonymizeFinished(clientCode) {
      const result = await jobs.updateMany(
        { clientCode, status: { $in: [...FINISHED_STATUSES] } },
        { $set: { payload: {}, updatedAt: new Date() }, $unset: { result: "" } },
      );
      return result.modifiedCount;
    },

    async sweepFinished(olderThan) {
      const result = await jobs.deleteMany({
        status: { $in: [...FINISHED_STATUSES] },
        completedAt: { $lt: olderThan },
      });
      return result.deletedCount;
    },
  };
}
