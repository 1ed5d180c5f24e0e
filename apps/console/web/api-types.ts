// What the admin API answers (apps/api/src/routes/admin-jobs-routes.ts and clients-routes.ts).

export const JOB_STATUSES = ["pending", "processing", "completed", "failed", "cancelled"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export interface JobErrorEntry {
  at: string;
  attempt: number;
  message: string;
  code?: string;
}

export interface Job {
  _id: string;
  type: string;
  clientCode?: string | null;
  payload?: Record<string, unknown>;
  status: JobStatus;
  priority?: number;
  runAt?: string;
  retries?: number;
  maxRetries?: number;
  attempts?: number;
  lockedBy?: string | null;
  lockedUntil?: string | null;
  lastError?: string | null;
  errors?: JobErrorEntry[];
  result?: unknown;
  dedupeKey?: string;
  createdAt?: string;
  updatedAt?: string;
  completedAt?: string | null;
}

export interface JobList {
  jobs: Job[];
  nextBefore: string | null;
}

export type StatusCounts = Record<JobStatus, number>;

export interface JobStats {
  total: number;
  byStatus: StatusCounts;
  byType: ({ type: string; total: number } & StatusCounts)[];
  stuck: number;
  /** Worker processes seen in the last minute. */
  workers: number;
  /** Job types with pending jobs that no running worker has a definition for. */
  unhandledTypes: { type: string; pending: number }[];
}

export interface Throughput {
  bucketSeconds: number;
  buckets: { at: string; completed: number; failed: number }[];
}

export interface ClientView {
  clientCode: string;
  name?: string;
  email?: string;
  status?: string;
  apiKeyHint?: string;
  apiKeyCreatedAt?: string;
  secretsSet?: string[];
  datasource?: { registered?: boolean; dbName?: string | null };
  corsOrigins?: string[];
  createdAt?: string;
  updatedAt?: string;
  /** Fields other capabilities add to the client view (integration status…) are shown as they come. */
  [extra: string]: unknown;
}

export interface RotatedKey {
  clientCode: string;
  apiKey: string;
  apiKeyHint?: string;
  warning?: string;
}
