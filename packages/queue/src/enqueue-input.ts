import { ObjectId } from "mongodb";
import { invalidJobInput } from "./job-errors.js";
import type { EnqueueInput, JobDocument } from "./job-types.js";

/** Job type names: plain strings in the documents, readable in Atlas (`send_whatsapp`, `create_meet`). */
export const JOB_TYPE_PATTERN = "^[A-Za-z0-9_.:-]{1,100}$";
const jobTypeRegex = new RegExp(JOB_TYPE_PATTERN);

/** The enqueue side's argument checks (pg-boss keeps these apart as its "attorney"). */
export function validateEnqueueInput(input: EnqueueInput<Record<string, unknown>>): void {
  if (typeof input.type !== "string" || !jobTypeRegex.test(input.type)) {
    throw invalidJobInput("Job type must be 1-100 letters, digits, _ . : or -");
  }
  if (input.priority !== undefined && !Number.isInteger(input.priority)) {
    throw invalidJobInput("Job priority must be an integer");
  }
  if (input.maxRetries !== undefined && (!Number.isInteger(input.maxRetries) || input.maxRetries < 0)) {
    throw invalidJobInput("Job maxRetries must be an integer of at least 0");
  }
  if (input.runAt !== undefined && Number.isNaN(new Date(input.runAt).getTime())) {
    throw invalidJobInput("Job runAt must be a valid date");
  }
  if (input.delayMs !== undefined && (!Number.isFinite(input.delayMs) || input.delayMs < 0)) {
    throw invalidJobInput("Job delayMs must be a number of at least 0");
  }
  if (
    input.dedupeKey !== undefined &&
    (typeof input.dedupeKey !== "string" || input.dedupeKey.length === 0)
  ) {
    throw invalidJobInput("Job dedupeKey must be a non-empty string");
  }
}

/** A new pending job document from checked input. */
export function buildJobDocument<P extends Record<string, unknown>>(
  input: EnqueueInput<P>,
  now: Date,
  defaultMaxRetries: number,
): JobDocument<P> {
  validateEnqueueInput(input);
  const runAt = input.runAt ? new Date(input.runAt) : new Date(now.getTime() + (input.delayMs ?? 0));
  return {
    _id: input.id ?? new ObjectId(),
    type: input.type,
    clientCode: input.clientCode ?? null,
    payload: input.payload ?? ({} as P),
    status: "pending",
    priority: input.priority ?? 0,
    runAt,
    retries: 0,
    maxRetries: input.maxRetries ?? defaultMaxRetries,
    attempts: 0,
    lockedBy: null,
    lockedUntil: null,
    lastError: null,
    errors: [],
    ...(input.dedupeKey ? { dedupeKey: input.dedupeKey } : {}),
    createdAt: now,
    updatedAt: now,
    completedAt: null,
  };
}
