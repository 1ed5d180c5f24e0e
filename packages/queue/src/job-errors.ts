import { type AppError, badRequest, conflict, notFound } from "@ecodrix/platform";
import { ObjectId } from "mongodb";

/** The queue's error codes (`ECODRIX_JOBS_*`); the API maps them to HTTP, the CLI prints the message. */
export const JobsErrorCode = {
  invalidId: "ECODRIX_JOBS_INVALID_ID",
  invalidInput: "ECODRIX_JOBS_INVALID_INPUT",
  notFound: "ECODRIX_JOBS_NOT_FOUND",
  notPending: "ECODRIX_JOBS_NOT_PENDING",
  notRequeueable: "ECODRIX_JOBS_NOT_REQUEUEABLE",
  unknownType: "ECODRIX_JOBS_UNKNOWN_TYPE",
  invalidPayload: "ECODRIX_JOBS_INVALID_PAYLOAD",
  timeout: "ECODRIX_JOBS_TIMEOUT",
  leaseExpired: "ECODRIX_JOBS_LEASE_EXPIRED",
} as const;

/** A job id as text: an ObjectId's 24 hexadecimal digits (also the tenant route's schema pattern). */
export const JOB_ID_PATTERN = "^[0-9a-fA-F]{24}$";
const jobIdRegex = new RegExp(JOB_ID_PATTERN);

/** A job id from user input (URL, CLI argument); 400 when it is not a 24-hex-digit ObjectId. */
export function parseJobId(id: string | ObjectId): ObjectId {
  if (id instanceof ObjectId) return id;
  if (typeof id !== "string" || !jobIdRegex.test(id)) {
    throw badRequest(JobsErrorCode.invalidId, "Invalid job id: expected 24 hexadecimal characters");
  }
  return new ObjectId(id);
}

export const jobNotFound = (id: ObjectId): AppError =>
  notFound(JobsErrorCode.notFound, `Job ${id} not found`);

export const jobNotPending = (id: ObjectId, status: string): AppError =>
  conflict(JobsErrorCode.notPending, `Job ${id} is ${status}: only pending jobs can be cancelled`);

/**
 * Thrown by a handler (or the runner) when the job may not run yet — a cluster-wide rate limit is spent:
 * the job goes back to pending, due after `retryAfterMs`, without counting a retry or an error.
 */
export class JobDeferral extends Error {
  constructor(
    readonly retryAfterMs: number,
    reason: string,
  ) {
    super(reason);
    this.name = "JobDeferral";
  }
}

export const deferJob = (retryAfterMs: number, reason: string): JobDeferral =>
  new JobDeferral(Math.max(0, retryAfterMs), reason);

/** Why a requeue without force was refused: the job runs now, or it already completed. */
export function jobNotRequeueable(job: {
  _id: ObjectId;
  status: string;
  lockedBy?: string | null;
  lockedUntil?: Date | null;
}): AppError {
  const reason =
    job.status === "processing"
      ? `is running (worker ${job.lockedBy ?? "?"} holds its lease until ${job.lockedUntil?.toISOString() ?? "?"}): requeueing it now would run its handler twice at once`
      : `is ${job.status}: requeueing it would run it again`;
  return conflict(
    JobsErrorCode.notRequeueable,
    `Job ${job._id} ${reason}; requeue with force to do it anyway`,
  );
}

export const invalidJobInput = (message: string): AppError => badRequest(JobsErrorCode.invalidInput, message);
