import { type Collection, type Db, ObjectId } from "mongodb";
import type { EnqueueInput, JobDocument } from "./job-types.js";

export const JOBS_COLLECTION = "jobs";
const ERROR_HISTORY_LIMIT = 10;

export interface Queue {
  readonly jobs: Collection<JobDocument>;
  ensureIndexes(): Promise<void>;
  enqueue<P extends Record<string, unknown>>(input: EnqueueInput<P>): Promise<JobDocument<P>>;
  /** Claims the next runnable job for `workerId` with one atomic findOneAndUpdate. */
  claim(workerId: string, leaseMs: number): Promise<JobDocument | null>;
  /** Marks the job completed if `workerId` still holds its lease; false when it does not. */
  complete(job: JobDocument, workerId: string, result?: unknown): Promise<boolean>;
  /** Records a failure: back to pending with a later runAt, or failed after maxRetries. */
  fail(
    job: JobDocument,
    workerId: string,
    error: { message: string; code?: string; retryable?: boolean },
  ): Promise<boolean>;
  get(id: string | ObjectId): Promise<JobDocument | null>;
  /** Cancels pending jobs (not running ones) matching the filter; returns how many. */
  cancelPending(filter: { id?: ObjectId; clientCode?: string }): Promise<number>;
}

export function createQueue({ db }: { db: Db }): Queue {
  const jobs = db.collection<JobDocument>(JOBS_COLLECTION);

  return {
    jobs,
    async ensureIndexes() {
      await jobs.createIndexes([
        { key: { status: 1, priority: -1, runAt: 1 }, name: "claim" },
        { key: { status: 1, lockedUntil: 1 }, name: "expired_leases" },
      ]);
    },

    async enqueue(input) {
      const now = new Date();
      const runAt = input.runAt ?? new Date(now.getTime() + (input.delayMs ?? 0));
      const doc = {
        _id: new ObjectId(),
        type: input.type,
        clientCode: input.clientCode ?? null,
        payload: input.payload ?? {},
        status: "pending",
        priority: input.priority ?? 0,
        runAt,
        retries: 0,
        maxRetries: input.maxRetries ?? 5,
        lockedBy: null,
        lockedUntil: null,
        lastError: null,
        errors: [],
        createdAt: now,
        updatedAt: now,
        completedAt: null,
        ...(input.dedupeKey ? { dedupeKey: input.dedupeKey } : {}),
      } as JobDocument<NonNullable<typeof input.payload>>;
      await jobs.insertOne(doc as unknown as JobDocument);
      return doc;
    },

    async claim(workerId, leaseMs) {
      const now = new Date();
      return jobs.findOneAndUpdate(
        {
          $or: [
            { status: "pending", runAt: { $lte: now } },
            { status: "processing", lockedUntil: { $lt: now } },
          ],
        },
        {
          $set: {
            status: "processing",
            lockedBy: workerId,
            lockedUntil: new Date(now.getTime() + leaseMs),
            updatedAt: now,
          },
        },
        { sort: { priority: -1, runAt: 1 }, returnDocument: "after" },
      );
    },

    async complete(job, workerId, result) {
      const now = new Date();
      const update = await jobs.updateOne(
        { _id: job._id, status: "processing", lockedBy: workerId },
        {
          $set: {
            status: "completed",
            completedAt: now,
            updatedAt: now,
            lockedBy: null,
            lockedUntil: null,
            ...(result === undefined ? {} : { result }),
          },
        },
      );
      return update.modifiedCount === 1;
    },

    async fail(job, workerId, error) {
      const now = new Date();
      const attempt = job.retries + 1;
      const finalFailure = error.retryable === false || attempt > job.maxRetries;
      const backoffMs = Math.min(2 ** job.retries * 1000, 60 * 60 * 1000);
      const entry = { at: now, attempt, message: error.message, ...(error.code ? { code: error.code } : {}) };
      const update = await jobs.updateOne(
        { _id: job._id, status: "processing", lockedBy: workerId },
        {
          $set: {
            status: finalFailure ? "failed" : "pending",
            retries: finalFailure ? job.retries : attempt,
            runAt: finalFailure ? job.runAt : new Date(now.getTime() + backoffMs),
            lastError: error.message,
            updatedAt: now,
            lockedBy: null,
            lockedUntil: null,
            ...(finalFailure ? { completedAt: now } : {}),
          },
          $push: { errors: { $each: [entry], $slice: -ERROR_HISTORY_LIMIT } },
        },
      );
      return update.modifiedCount === 1;
    },

    get(id) {
      return jobs.findOne({ _id: typeof id === "string" ? new ObjectId(id) : id });
    },

    async cancelPending(filter) {
      const now = new Date();
      const result = await jobs.updateMany(
        {
          status: "pending",
          ...(filter.id ? { _id: filter.id } : {}),
          ...(filter.clientCode ? { clientCode: filter.clientCode } : {}),
        },
        { $set: { status: "cancelled", updatedAt: now, completedAt: now } },
      );
      return result.modifiedCount;
    },
  };
}
