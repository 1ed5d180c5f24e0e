import type { Logger } from "pino";
import type { JobDocument } from "./job-types.js";

export interface JobContext<P = Record<string, unknown>> {
  job: JobDocument<P>;
  log: Logger;
  signal: AbortSignal;
}

/** A handler returns a plain result (stored on the job) or throws (an AppError decides retry). */
export type JobHandler<P = Record<string, unknown>> = (ctx: JobContext<P>) => Promise<unknown>;

export type JobHandlers = Record<string, JobHandler>;
