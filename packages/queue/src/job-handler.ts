import type { Logger } from "pino";
import type { JobDocument } from "./job-types.js";

export interface JobContext {
  job: JobDocument;
  log: Logger;
  signal: AbortSignal;
}

/** A handler returns a plain result (stored on the job) or throws (an AppError decides retry). */
export type JobHandler = (ctx: JobContext) => Promise<unknown>;

export type JobHandlers = Record<string, JobHandler>;
