import type { Filter, UpdateFilter } from "mongodb";
import type { JobDocument, JobErrorEntry, JobFailure } from "./job-types.js";

/**
 * The update documents every side of the queue writes: one definition each, so a completion, a dead
 * letter or a cancellation looks the same whichever path wrote it.
 */

/** The fenced filter: exactly one attempt of one job, while it runs. */
export function fence(job: Pick<JobDocument, "_id" | "attempts">): Filter<JobDocument> {
  // Exactly these three keys: the unique index `fence` serves it (on the embedded server too,
  // which only uses an index when the query's keys equal the index's keys).
  return { _id: job._id, attempts: job.attempts, status: "processing" };
}

/**
 * The unique dedupe index must forget a finished job. partialFilterExpression would do it on MongoDB,
 * but the embedded server ignores it; renaming the field works on both.
 */
export function finishUpdate(job: Pick<JobDocument, "dedupeKey">): UpdateFilter<JobDocument> {
  return job.dedupeKey ? { $rename: { dedupeKey: "finishedDedupeKey" } } : {};
}

/** Cancels a pending job; its dedupe key is freed like a finished job's. */
export function cancelUpdate(now: Date): UpdateFilter<JobDocument> {
  return {
    $set: { status: "cancelled", updatedAt: now, completedAt: now },
    $rename: { dedupeKey: "finishedDedupeKey" },
  } as UpdateFilter<JobDocument>;
}

export function errorEntry(
  job: Pick<JobDocument, "attempts">,
  failure: JobFailure,
  now: Date,
): JobErrorEntry {
  return {
    at: now,
    attempt: job.attempts,
    message: failure.message,
    ...(failure.code ? { code: failure.code } : {}),
  };
}

/** Appends `entry` to the job's error history, keeping the last `historyLimit` entries. */
export function pushError(entry: JobErrorEntry, historyLimit: number) {
  return { $push: { errors: { $each: [entry], $slice: -historyLimit } } };
}

/** The dead letter: `failed` for good, with `entry` as its last error. */
export function deadLetterUpdate(
  job: Pick<JobDocument, "dedupeKey">,
  entry: JobErrorEntry,
  now: Date,
  historyLimit: number,
): UpdateFilter<JobDocument> {
  return {
    $set: {
      status: "failed",
      lastError: entry.message,
      lockedBy: null,
      lockedUntil: null,
      updatedAt: now,
      completedAt: now,
    },
    ...pushError(entry, historyLimit),
    ...finishUpdate(job),
  } as UpdateFilter<JobDocument>;
}

export function completionUpdate(
  job: Pick<JobDocument, "dedupeKey">,
  result: unknown,
  now: Date,
): UpdateFilter<JobDocument> {
  return {
    $set: {
      status: "completed",
      completedAt: now,
      updatedAt: now,
      lockedBy: null,
      lockedUntil: null,
      ...(result === undefined ? {} : { result }),
    },
    ...finishUpdate(job),
  } as UpdateFilter<JobDocument>;
}
