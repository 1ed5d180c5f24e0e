import { echoJobContract, enqueueJob, type QueueProducer } from "@ecodrix/queue";
import type { FastifyInstance } from "fastify";

/** Diagnostic admin routes: an echo job that proves API → jobs → worker end to end (jobs: admin-jobs-routes). */
export function adminDiagnosticsRoutes(
  app: FastifyInstance,
  deps: { queue: Pick<QueueProducer, "enqueue"> },
): void {
  app.post(
    "/api/admin/jobs/echo",
    {
      schema: {
        summary: "Enqueue an echo job: proves API → queue → worker end to end",
        tags: ["admin"],
        body: echoJobContract.payload,
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
      const job = await enqueueJob(deps.queue, echoJobContract, { payload: { message } });
      return reply.status(202).send({ jobId: String(job._id), status: job.status, type: job.type });
    },
  );
}
