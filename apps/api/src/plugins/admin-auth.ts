import { createHash, timingSafeEqual } from "node:crypto";
import { unauthorized } from "@ecodrix/platform";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { type FailedAuthLimiter, rateLimited } from "./auth-rate-limiter.js";

const digest = (value: string) => createHash("sha256").update(value).digest();

/**
 * Adds an onRequest hook to `scope` that requires `x-core-api-key` = CORE_API_TOKEN, before the body is
 * parsed. Both sides are hashed first so the comparison is constant-time whatever the lengths. Failed
 * attempts count per client IP (`limiter`); over the budget a wrong or missing token gets 429 with
 * Retry-After instead of 401, while the right token is always accepted.
 */
export function requireAdmin(
  scope: FastifyInstance,
  coreApiToken: string,
  limiter: Pick<FailedAuthLimiter, "blockedForMs" | "recordFailure">,
): void {
  const expected = digest(coreApiToken);
  scope.addHook("onRequest", async (request: FastifyRequest) => {
    const presented = request.headers["x-core-api-key"];
    const valid =
      typeof presented === "string" && presented.length > 0 && timingSafeEqual(digest(presented), expected);
    if (valid) return;
    const blockedForMs = limiter.blockedForMs(request.ip, "");
    limiter.recordFailure(request.ip, "");
    if (blockedForMs > 0) throw rateLimited(blockedForMs);
    if (typeof presented !== "string" || presented.length === 0) {
      throw unauthorized("ECODRIX_AUTH_ADMIN_KEY_MISSING", "Missing x-core-api-key header");
    }
    throw unauthorized("ECODRIX_AUTH_ADMIN_KEY_INVALID", "Invalid x-core-api-key");
  });
}
