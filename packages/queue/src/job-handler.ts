import type { Logger } from "pino";
import type { JobDocument } from "./job-types.js";

export interface JobContext<P = Record<string, unknown>> {
  job: JobDocument<P>;
  log: Logger;
  signal: AbortSignal;
  /**
   * Stores `data` as the job document's `progress` (readable by admins and the job's tenant while the
   * job runs; kept across retries, so a handler may keep a checkpoint there and read it back from
   * `job.progress`). Resolves false when this attempt lost its lease: the handler should stop.
   */
  progress(data: Record<string, unknown>): Promise<boolean>;
}

/** A handler returns a plain result (stored on the job) or throws (an AppError decides retry). */
export type JobHandler<P = Record<string, unknown>> = (ctx: JobContext<P>) => Promise<unknown>;

export type JobHandlers = Record<string, JobHandler>;
