import { type ClientService, looksLikeApiKey } from "@ecodrix/domain";
import { isAppError, unauthorized } from "@ecodrix/platform";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { type FailedAuthLimiter, rateLimited } from "./auth-rate-limiter.js";

export interface TenantContext {
  clientCode: string;
  name: string;
  /** The client's region for local phone numbers (CRM leads); undefined: IN. */
  defaultCountry: string | undefined;
  /**
   * When this client record was created. A client code can be re-used after offboarding: anything of
   * that code older than this belongs to the earlier client and is never shown to this one.
   */
  clientCreatedAt: Date;
}

declare module "fastify" {
  interface FastifyRequest {
    /** Set by requireTenant for tenant routes; null elsewhere. */
    tenant: TenantContext | null;
  }
}

/** The authenticated tenant of a request inside a requireTenant scope. */
export function tenantOf(request: FastifyRequest): TenantContext {
  if (!request.tenant) throw unauthorized("ECODRIX_AUTH_TENANT_MISSING", "Missing x-api-key header");
  return request.tenant;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

/**
 * Adds an onRequest hook to `scope` that authenticates a tenant from `x-client-code` + `x-api-key`
 * and puts it on `request.tenant`. Every request does one indexed lookup and a constant-time hash
 * comparison (no cache), so a rotated key fails on the very next request on every API process.
 * It runs before the body is parsed: an unauthenticated request costs no parsing.
 *
 * Failed attempts count against the caller's IP, and its IP with the client code it names (`limiter`),
 * but the limit never refuses a valid key: a failure over the budget is answered 429 instead of 401,
 * and only a request that cannot possibly authenticate (no code, or a key that is not even shaped like
 * one) is refused with 429 without a lookup. So nobody can lock a tenant out by failing in its name,
 * even from the tenant's own IP (or a load balancer's, without TRUST_PROXY).
 */
export function requireTenant(
  scope: FastifyInstance,
  deps: { clients: Pick<ClientService, "authenticate">; limiter: FailedAuthLimiter },
): void {
  scope.decorateRequest("tenant", null);
  scope.addHook("onRequest", async (request) => {
    const clientCode = header(request, "x-client-code");
    const apiKey = header(request, "x-api-key");
    // Limited per IP and client code (behind a shared proxy IP, one tenant's broken integration, say an
    // old key after a rotation, locks out only itself) and, with a higher budget, per IP across codes.
    const blockedForMs = deps.limiter.blockedForMs(request.ip, clientCode ?? "");
    if (blockedForMs > 0 && !(clientCode && apiKey && looksLikeApiKey(apiKey))) {
      deps.limiter.recordFailure(request.ip, clientCode ?? "");
      throw rateLimited(blockedForMs);
    }
    try {
      if (!clientCode) throw unauthorized("ECODRIX_AUTH_CLIENT_CODE_MISSING", "Missing x-client-code header");
      if (!apiKey) throw unauthorized("ECODRIX_AUTH_API_KEY_MISSING", "Missing x-api-key header");
      const client = await deps.clients.authenticate(clientCode, apiKey);
      request.tenant = {
        clientCode: client.clientCode,
        name: client.name,
        defaultCountry: client.defaultCountry ?? undefined,
        clientCreatedAt: client.createdAt,
      };
    } catch (error) {
      if (isAppError(error) && (error.statusCode === 401 || error.statusCode === 403)) {
        deps.limiter.recordFailure(request.ip, clientCode ?? "");
        if (blockedForMs > 0) throw rateLimited(blockedForMs);
      }
      throw error;
    }
  });
}
