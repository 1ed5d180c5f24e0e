import type { CorsOriginRepository } from "@ecodrix/domain";
import cors from "@fastify/cors";
import type { FastifyInstance } from "fastify";

/**
 * Browser CORS for tenant apps: an origin registered by any client (POST /api/saas/cors) gets
 * Access-Control-Allow-Origin; any other origin gets no CORS headers. The origin is looked up on
 * every request that carries an Origin header (one indexed query, no cache), so a registration or
 * removal applies to the very next preflight, on every API process, without a restart.
 */
export async function registerCors(
  app: FastifyInstance,
  deps: { corsOrigins: Pick<CorsOriginRepository, "isAllowed"> },
): Promise<void> {
  await app.register(cors, {
    origin: async (origin: string | undefined) => {
      if (!origin) return false;
      return deps.corsOrigins.isAllowed(origin);
    },
    methods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
    allowedHeaders: ["content-type", "x-api-key", "x-client-code"],
    maxAge: 600,
  });
}
