import { createHash, timingSafeEqual } from "node:crypto";
import { unauthorized } from "@ecodrix/platform";
import type { FastifyInstance, FastifyRequest } from "fastify";

const digest = (value: string) => createHash("sha256").update(value).digest();

/**
 * Adds an onRequest hook to `scope` that requires `x-core-api-key` = CORE_API_TOKEN. Both sides are
 * hashed first so the comparison is constant-time whatever the lengths.
 */
export function requireAdmin(scope: FastifyInstance, coreApiToken: string): void {
  const expected = digest(coreApiToken);
  scope.addHook("onRequest", async (request: FastifyRequest) => {
    const presented = request.headers["x-core-api-key"];
    if (typeof presented !== "string" || presented.length === 0) {
      throw unauthorized("ECODRIX_AUTH_ADMIN_KEY_MISSING", "Missing x-core-api-key header");
    }
    if (!timingSafeEqual(digest(presented), expected)) {
      throw unauthorized("ECODRIX_AUTH_ADMIN_KEY_INVALID", "Invalid x-core-api-key");
    }
  });
}
