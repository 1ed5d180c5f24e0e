import {
  JOB_STATUSES,
  type JobDocument,
  type JobStatus,
  jobNotFound,
  parseJobId,
  type QueueAdmin,
  type QueueProducer,
} from "@ecodrix/queue";
import type { FastifyInstance } from "fastify";
import { deletedSchema } from "./route-schemas.js";

const date = { type: "string", format: "date-time" } as const;
const nullableDate = { type: ["string", "null"], format: "date-time" } as const;
const counts = Object.fromEntries(JOB_STATUSES.map((status) => [status, { type: "integer" }]));

/** A job as admins see it: the whole document (payloads never carry secrets; handlers read those). */
const jobSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    _id: { type: "string" },
    type: { type: "string" },
    clientCode: { type: ["string", "null"] },
    payload: { type: "object", additionalProperties: true },
    status: { type: "string", enum: JOB_STATUSES },
    priority: { type: "integer" },
    runAt: date,
    retries: { type: "integer" },
    maxRetries: { type: "integer" },
    attempts: { type: "integer" },
    lockedBy: { type: ["string", "null"] },
    lockedUntil: nullableDate,
    lastError: { type: ["string", "null"] },
    errors: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        properties: {
          at: date,
          attempt: { type: "integer" },
          message: { type: "string" },
          code: { type: "string" },
        },
      },
    },
    progress: { type: "object", additionalProperties: true },
    result: {},
    dedupeKey: { type: "string" },
    finishedDedupeKey: { type: "string" },
    createdAt: date,
    updatedAt: date,
    completedAt: nullableDate,
  },
} as const;

const idParams = {
  type: "object",
  additionalProperties: false,
  properties: { id: { type: "string", maxLength: 100 } },
  required: ["id"],
} as const;

const statsSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    total: { type: "integer" },
    byStatus: { type: "object", additionalProperties: false, properties: counts },
    byType: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        properties: { type: { type: "string" }, total: { type: "integer" }, ...counts },
      },
    },
    stuck: { type: "integer" },
    workers: { type: "integer" },
    unhandledTypes: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        properties: { type: { type: "string" }, pending: { type: "integer" } },
      },
    },
  },
} as const;

const throughputSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    bucketSeconds: { type: "integer" },
    buckets: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        properties: { at: date, completed: { type: "integer" }, failed: { type: "integer" } },
      },
    },
  },
} as const;

const listQuery = {
  type: "object",
  additionalProperties: false,
  properties: {
    status: { type: "string", enum: JOB_STATUSES },
    type: { type: "string", minLength: 1, maxLength: 100 },
    clientCode: { type: "string", minLength: 1, maxLength: 100 },
    stuck: { type: "boolean" },
    limit: { type: "integer", minimum: 1, maximum: 500, default: 50 },
    before: { type: "string", maxLength: 100 },
  },
} as const;

const view = (job: JobDocument) => ({ ...job, _id: String(job._id) });

/**
 * Runbook §2 as an API (admin scope, x-core-api-key): counts, list/filter, one job, requeue, cancel,
 * delete. Ids are checked by the domain (parseJobId) so every route answers a bad id the same way.
 */
export function adminJobsRoutes(
  app: FastifyInstance,
  deps: { queue: QueueAdmin & Pick<QueueProducer, "cancel"> },
): void {
  app.get(
    "/api/admin/jobs/stats",
    {
      schema: {
        summary: "Job counts by status and by type (runbook §2: count by status)",
        tags: ["admin"],
        response: { 200: statsSchema },
      },
    },
    () => deps.queue.stats(),
  );

  app.get(
    "/api/admin/jobs/throughput",
    {
      schema: {
        summary: "Completed and dead-lettered jobs per minute (the console's throughput chart)",
        tags: ["admin"],
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { minutes: { type: "integer", minimum: 1, maximum: 1440, default: 60 } },
        },
        response: { 200: throughputSchema },
      },
    },
    async (request) => {
      const { minutes } = request.query as { minutes: number };
      const { bucketMs, buckets } = await deps.queue.throughput({ buckets: minutes, bucketMs: 60_000 });
      return { bucketSeconds: bucketMs / 1000, buckets };
    },
  );

  app.get(
    "/api/admin/jobs",
    {
      schema: {
        summary: "List jobs, newest first (filter by status, type, clientCode, stuck; page with before)",
        tags: ["admin"],
        querystring: listQuery,
        response: {
          200: {
            type: "object",
            additionalProperties: false,
            properties: {
              jobs: { type: "array", items: jobSchema },
              nextBefore: { type: ["string", "null"] },
            },
          },
        },
      },
    },
    async (request) => {
      const query = request.query as {
        status?: JobStatus;
        type?: string;
        clientCode?: string;
        stuck?: boolean;
        limit: number;
        before?: string;
      };
      const jobs = await deps.queue.list({
        ...(query.status ? { status: query.status } : {}),
        ...(query.type ? { type: query.type } : {}),
        ...(query.clientCode ? { clientCode: query.clientCode } : {}),
        ...(query.stuck ? { stuck: true } : {}),
        ...(query.before ? { before: parseJobId(query.before) } : {}),
        limit: query.limit,
      });
      const last = jobs.at(-1);
      return {
        jobs: jobs.map(view),
        nextBefore: jobs.length === query.limit && last ? String(last._id) : null,
      };
    },
  );

  app.get(
    "/api/admin/jobs/:id",
    {
      schema: {
        summary: "One job with its payload and error history",
        tags: ["admin"],
        params: idParams,
        response: { 200: jobSchema },
      },
    },
    async (request) => {
      const id = parseJobId((request.params as { id: string }).id);
      const job = await deps.queue.get(id);
      if (!job) throw jobNotFound(id);
      return view(job);
    },
  );

  app.post(
    "/api/admin/jobs/:id/requeue",
    {
      schema: {
        summary: "Requeue a dead-lettered, cancelled or stuck job (runbook §2: re-queue a stuck job)",
        tags: ["admin"],
        params: idParams,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            force: {
              type: "string",
              enum: ["true", "false"],
              description: "Requeue a running or completed job too (it may run twice / again)",
            },
          },
        },
        response: { 200: jobSchema },
      },
    },
    async (request) => {
      const { force } = request.query as { force?: "true" | "false" };
      return view(
        await deps.queue.requeue((request.params as { id: string }).id, { force: force === "true" }),
      );
    },
  );

  app.post(
    "/api/admin/jobs/:id/cancel",
    {
      schema: {
        summary: "Cancel a pending job",
        tags: ["admin"],
        params: idParams,
        response: { 200: jobSchema },
      },
    },
    async (request) => view(await deps.queue.cancel((request.params as { id: string }).id)),
  );

  app.delete(
    "/api/admin/jobs/:id",
    {
      schema: {
        summary: "Delete a job for good (runbook §2: kill a poison job)",
        tags: ["admin"],
        params: idParams,
        response: {
          200: deletedSchema,
        },
      },
    },
    async (request) => {
      const id = parseJobId((request.params as { id: string }).id);
      await deps.queue.remove(id);
      return { id: String(id), deleted: true };
    },
  );
}
