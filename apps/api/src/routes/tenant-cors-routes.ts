import type { CorsOriginRepository } from "@ecodrix/domain";
import type { FastifyInstance } from "fastify";
import { tenantOf } from "../plugins/tenant-auth.js";

const urlSchema = { type: "string", minLength: 1, maxLength: 300 } as const;
const originsResponse = {
  type: "object",
  properties: {
    origin: { type: "string" },
    created: { type: "boolean" },
    removed: { type: "string" },
    origins: { type: "array", items: { type: "string" } },
  },
} as const;

/** Tenant CORS origins (runbook §1 step 6): a tenant sees and changes only its own. */
export function tenantCorsRoutes(
  app: FastifyInstance,
  deps: { corsOrigins: Pick<CorsOriginRepository, "add" | "list" | "remove"> },
): void {
  app.post(
    "/api/saas/cors",
    {
      schema: {
        summary: "Allow a browser origin to call the tenant API (runbook §1 step 6)",
        tags: ["tenant"],
        body: {
          type: "object",
          additionalProperties: false,
          properties: { url: urlSchema },
          required: ["url"],
          examples: [{ url: "https://sharmaclinic.com" }],
        },
        response: {
          200: { ...originsResponse, description: "Already registered" },
          201: { ...originsResponse, description: "Registered" },
        },
      },
    },
    async (request, reply) => {
      const { clientCode } = tenantOf(request);
      const { origin, created } = await deps.corsOrigins.add(
        clientCode,
        (request.body as { url: string }).url,
      );
      request.log.info({ clientCode, origin, created }, "CORS origin registered");
      return reply
        .status(created ? 201 : 200)
        .send({ origin, created, origins: await deps.corsOrigins.list(clientCode) });
    },
  );

  app.get(
    "/api/saas/cors",
    {
      schema: { summary: "This client's CORS origins", tags: ["tenant"], response: { 200: originsResponse } },
    },
    async (request) => ({ origins: await deps.corsOrigins.list(tenantOf(request).clientCode) }),
  );

  app.delete(
    "/api/saas/cors",
    {
      schema: {
        summary: "Remove one of this client's CORS origins",
        tags: ["tenant"],
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { url: urlSchema },
          required: ["url"],
        },
        response: { 200: originsResponse },
      },
    },
    async (request) => {
      const { clientCode } = tenantOf(request);
      const removed = await deps.corsOrigins.remove(clientCode, (request.query as { url: string }).url);
      request.log.info({ clientCode, origin: removed }, "CORS origin removed");
      return { removed, origins: await deps.corsOrigins.list(clientCode) };
    },
  );
}
