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
} as const;

export function healthRoutes(app: FastifyInstance, deps: { db: Db; version: string }): void {
  app.get(
    "/api/saas/health",
    { schema: { response: { 200: healthSchema, 503: healthSchema } } },
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
