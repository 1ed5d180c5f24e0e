import { pingMongo } from "@ecodrix/platform";
import type { FastifyInstance } from "fastify";
import type { Db } from "mongodb";

const healthSchema = {
  type: "object",
  properties: {
    status: { type: "string", enum: ["ok", "degraded"] },
    mongo: { type: "string", enum: ["up", "down"] },
    version: { type: "string" },
    uptimeSeconds: { type: "number" },
  },
  required: ["status", "mongo", "version", "uptimeSeconds"],
  examples: [{ status: "ok", mongo: "up", version: "1.0.0", uptimeSeconds: 3600 }],
} as const;

export function healthRoutes(app: FastifyInstance, deps: { db: Db; version: string }): void {
  app.get(
    "/api/saas/health",
    {
      schema: {
        summary: "Server health: the API is up and reaches its database (runbook §7)",
        tags: ["public"],
        response: {
          200: { ...healthSchema, description: "Up, and MongoDB answers" },
          503: { ...healthSchema, description: "Up, but MongoDB does not answer" },
        },
      },
    },
    async (_request, reply) => {
      const up = await pingMongo(deps.db);
      const uptimeSeconds = Math.round(process.uptime());
      return reply.status(up ? 200 : 503).send({
        status: up ? "ok" : "degraded",
        mongo: up ? "up" : "down",
        version: deps.version,
        uptimeSeconds,
      });
    },
  );
}
