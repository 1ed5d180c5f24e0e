import type { ObjectId } from "mongodb";

export type JobStatus = "pending" | "processing" | "completed" | "failed" | "cancelled";

export const JOB_STATUSES: readonly JobStatus[] = [
  "pending",
  "processing",
  "completed",
  "failed",
  "cancelled",
];
/** Statuses a job never leaves by itself (only an admin requeue brings it back). */
export const FINISHED_STATUSES: readonly JobStatus[] = ["completed", "failed", "cancelled"];

/** One error of a job's history, oldest first (bounded: see ERROR_HISTORY_LIMIT). */
export interface JobErrorEntry {
  at: Date;
  /** The `attempts` value of the run that failed. */
  attempt: number;
  message: string;
  code?: string;
}

/**
 * A job document in the central `jobs` collection. Plain fields only, so admins can read and fix
 * jobs in Atlas or mongosh (runbook §2).
 */
export interface JobDocument<P = Record<string, unknown>> {
  _id: ObjectId;
  type: string;
  clientCode: string | null;
  payload: P;
  status: JobStatus;
  /** Higher runs first. */
  priority: number;
  /** Not before this instant (also the retry time after a failure). */
  runAt: Date;
  /** Failed attempts so far (an expired lease counts as one). Reset to 0 by a requeue. */
  retries: number;
  /** Retries allowed after the first attempt; then the job is `failed` (the dead letter). */
  maxRetries: number;
  /**
   * The fencing token: every claim increments it. Heartbeat, complete, fail and release only apply
   * to `{ _id, attempts, status: "processing" }`, so a worker whose lease was taken over cannot
   * touch the newer attempt.
   */
  attempts: number;
  lockedBy: string | null;
  lockedUntil: Date | null;
  lastError: string | null;
  errors: JobErrorEntry[];
  result?: unknown;
  /**
   * What a long job reports while it runs (e.g. `{ processed, total }`), written by the handler through
   * `progress()` (fenced, so only the attempt holding the lease writes it). It stays on the document
   * across retries and lease takeovers: a resumable handler keeps its checkpoint here.
   */
  progress?: Record<string, unknown>;
  /** Unique among unfinished jobs; renamed to `finishedDedupeKey` when the job finishes. */
  dedupeKey?: string;
  finishedDedupeKey?: string;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

export interface EnqueueInput<P = Record<string, unknown>> {
  type: string;
  clientCode?: string | null;
  payload?: P;
  /** Higher runs first. Default 0. */
  priority?: number;
  /** Run no earlier than this. */
  runAt?: Date;
  /** Or: run after this many milliseconds. */
  delayMs?: number;
  /** Retries after the first attempt. Default: the queue's `defaultMaxRetries` (5). */
  maxRetries?: number;
  /** While a job with this key is unfinished, enqueueing the key again returns that job. */
  dedupeKey?: string;
  /** A fixed id (cron ticks use one derived from the tick, so a replica's late enqueue collides). */
  id?: ObjectId;
}

/** Why an attempt failed, as the runner hands it to the queue. */
export interface JobFailure {
  message: string;
  code?: string;
  /** false: do not retry (dead letter now). */
  retryable?: boolean;
  /** Retry no sooner than this (a provider's Retry-After). */
  retryAfterMs?: number;
}

export type FailOutcome = { outcome: "retry"; runAt: Date } | { outcome: "failed" } | { outcome: "lost" };
