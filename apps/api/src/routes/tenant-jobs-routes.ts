import type { TenantConnectionPool } from "@ecodrix/domain";
import { notFound, pingMongo } from "@ecodrix/platform";
import { JOB_ID_PATTERN, type QueueProducer } from "@ecodrix/queue";
import type { FastifyInstance } from "fastify";
import { tenantOf } from "../plugins/tenant-auth.js";

const jobStatusSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    id: { type: "string" },
    type: { type: "string" },
    status: { type: "string" },
    retries: { type: "integer" },
    maxRetries: { type: "integer" },
    runAt: { type: "string", format: "date-time" },
    createdAt: { type: "string", format: "date-time" },
    updatedAt: { type: "string", format: "date-time" },
    completedAt: { type: ["string", "null"], format: "date-time" },
    lastError: { type: ["string", "null"] },
    progress: {
      type: "object",
      description:
        "A long job's progress while it runs (e.g. a score recalculation's processed / total leads)",
      properties: { processed: { type: "integer" }, total: { type: "integer" } },
    },
    result: {},
  },
} as const;

const tenantHealthSchema = {
  type: "object",
  properties: { clientCode: { type: "string" }, database: { type: "string" }, dbName: { type: "string" } },
} as const;

/**
 * Tenant routes about its own work: the status of one of its jobs, and a check of its own tenant
 * database. A job of another tenant, or an unknown id, is the same 404 (no way to probe ids).
 */
export function tenantJobsRoutes(
  app: FastifyInstance,
  deps: { queue: Pick<QueueProducer, "get">; tenantConnections: Pick<TenantConnectionPool, "withDb"> },
): void {
  app.get(
    "/api/saas/jobs/:id",
    {
      schema: {
        summary: "The status of one of this client's jobs (another client's job is 404)",
        tags: ["tenant"],
        params: {
          type: "object",
          additionalProperties: false,
          properties: { id: { type: "string", pattern: JOB_ID_PATTERN } },
          required: ["id"],
        },
        response: { 200: jobStatusSchema },
      },
    },
    async (request) => {
      const { clientCode, clientCreatedAt } = tenantOf(request);
      const { id } = request.params as { id: string };
      const job = await deps.queue.get(id.toLowerCase());
      // Bound to this client, not only its code: a job of an earlier client with the same code (deleted,
      // then the code created again) is older than this client record, and not found.
      if (!job || job.clientCode !== clientCode || job.createdAt < clientCreatedAt)
        throw notFound("ECODRIX_JOBS_NOT_FOUND", `Job ${id} not found`);
      // Lease internals (lockedBy, lockedUntil), the payload and the error history stay admin-only.
      return {
        id: String(job._id),
        type: job.type,
        status: job.status,
        retries: job.retries,
        maxRetries: job.maxRetries,
        runAt: job.runAt,
        createdAt: job.createdAt,
        updatedAt: job.updatedAt,
        completedAt: job.completedAt,
        lastError: job.lastError,
        ...(job.progress === undefined ? {} : { progress: job.progress }),
        ...(job.result === undefined ? {} : { result: job.result }),
      };
    },
  );

  app.get(
    "/api/saas/tenant/health",
    {
      schema: {
        summary: "Ping this client's own tenant database (checks onboarding steps 1–3)",
        tags: ["tenant"],
        response: {
          200: { ...tenantHealthSchema, description: "The tenant database answers" },
          503: { ...tenantHealthSchema, description: "The tenant database does not answer" },
        },
      },
    },
    async (request, reply) => {
      const { clientCode } = tenantOf(request);
      return deps.tenantConnections.withDb(clientCode, async (db) => {
        const up = await pingMongo(db, 3_000);
        return reply
          .status(up ? 200 : 503)
          .send({ clientCode, database: up ? "up" : "down", dbName: db.databaseName });
      });
    },
  );
}
