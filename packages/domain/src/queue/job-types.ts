import type { ObjectId } from "mongodb";

export type JobStatus = "pending" | "processing" | "completed" | "failed" | "cancelled";

/** One error of a job's history, oldest first. */
export interface JobErrorEntry {
  at: Date;
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
  priority: number;
  runAt: Date;
  retries: number;
  maxRetries: number;
  lockedBy: string | null;
  lockedUntil: Date | null;
  lastError: string | null;
  errors: JobErrorEntry[];
  result?: unknown;
  dedupeKey?: string;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

export interface EnqueueInput<P = Record<string, unknown>> {
  type: string;
  clientCode?: string | null;
  payload?: P;
  priority?: number;
  /** Run no earlier than this. */
  runAt?: Date;
  /** Or: run after this many milliseconds. */
  delayMs?: number;
  maxRetries?: number;
  dedupeKey?: string;
}
