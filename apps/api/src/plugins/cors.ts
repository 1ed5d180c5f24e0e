import type { CorsOriginRepository } from "@ecodrix/domain";
import cors from "@fastify/cors";
import type { FastifyInstance, FastifyRequest } from "fastify";

/** Only the tenant API is called from browsers; admin routes (and /metrics, docs) never get CORS headers. */
const TENANT_API_PREFIX = "/api/saas/";

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

/**
 * Whether this request's Origin gets Access-Control-Allow-Origin:
 * - only on tenant routes (`/api/saas/…`), never on admin routes;
 * - a request naming a client (`x-client-code`) only for an origin that client registered, so one tenant's
 *   origin cannot read another tenant's responses;
 * - a preflight carries no header values (browsers send only the names, in Access-Control-Request-Headers),
 *   so a preflight without `x-client-code` is answered for an origin some client registered. That only lets
 *   the browser send the request; its response is readable only if the origin belongs to the client the
 *   request names, and the request needs that client's key to do anything.
 */
async function originAllowed(
  request: FastifyRequest,
  corsOrigins: Pick<CorsOriginRepository, "isAllowed" | "isAllowedFor">,
): Promise<boolean> {
  const origin = header(request, "origin");
  if (!origin) return false;
  const preflight =
    request.method === "OPTIONS" && header(request, "access-control-request-method") !== undefined;
  // A preflight is routed to the catch-all OPTIONS route: judge it by its path. Anything else by the route
  // it matched, so no spelling of a URL moves an admin route under the tenant prefix.
  const path = preflight ? request.url.split("?")[0] : request.routeOptions.url;
  if (!path?.startsWith(TENANT_API_PREFIX)) return false;
  const clientCode = header(request, "x-client-code");
  if (clientCode) return corsOrigins.isAllowedFor(clientCode, origin);
  return preflight ? corsOrigins.isAllowed(origin) : false;
}

/**
 * Browser CORS for tenant apps, per tenant (see originAllowed). The origin is looked up on every request
 * that carries an Origin header (one indexed query, no cache), so a registration or removal applies to the
 * very next request, on every API process, without a restart. Refused origins get no CORS headers (a refused
 * preflight is a 404), which browsers treat as "not allowed".
 */
export async function registerCors(
  app: FastifyInstance,
  deps: { corsOrigins: Pick<CorsOriginRepository, "isAllowed" | "isAllowedFor"> },
): Promise<void> {
  await app.register(cors, {
    hook: "onRequest",
    delegator: async (request: FastifyRequest) => ({
      origin: await originAllowed(request, deps.corsOrigins),
      methods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
      allowedHeaders: ["content-type", "x-api-key", "x-client-code"],
      maxAge: 600,
    }),
  });
}
