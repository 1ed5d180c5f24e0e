import type { Queue } from "@ecodrix/queue";
import type { FastifyInstance } from "fastify";

/** Diagnostic admin routes: an echo job that proves API → jobs → worker end to end (jobs: admin-jobs-routes). */
export function adminDiagnosticsRoutes(app: FastifyInstance, deps: { queue: Queue }): void {
  app.post(
    "/api/admin/jobs/echo",
    {
      schema: {
        body: {
          type: "object",
          additionalProperties: false,
          properties: { message: { type: "string", minLength: 1, maxLength: 1000 } },
          required: ["message"],
        },
        response: {
          202: {
            type: "object",
            properties: { jobId: { type: "string" }, status: { type: "string" }, type: { type: "string" } },
          },
        },
      },
    },
    async (request, reply) => {
      const { message } = request.body as { message: string };
      const job = await deps.queue.enqueue({ type: "echo", payload: { message } });
      return reply.status(202).send({ jobId: String(job._id), status: job.status, type: job.type });
    },
  );
}
