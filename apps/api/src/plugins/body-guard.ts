import { badRequest } from "@ecodrix/domain";
import type { FastifyInstance } from "fastify";

/** The path of the first key starting with `$` or containing `.`, e.g. `body/filter/$where`. */
export function findOperatorKey(value: unknown, path = "body", depth = 0): string | undefined {
  if (depth > 32 || value === null || typeof value !== "object") return undefined;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findOperatorKey(item, `${path}/${index}`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, child] of Object.entries(value)) {
    if (key.startsWith("$") || key.includes(".")) return `${path}/${key}`;
    const found = findOperatorKey(child, `${path}/${key}`, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * Refuses any JSON body with a key that MongoDB would read as an operator (`$…`) or a path (`a.b`),
 * at any depth, before schema validation and before any handler: no operator injection even through
 * free-form fields (job payloads, trigger configs).
 */
export function registerBodyGuard(app: FastifyInstance): void {
  app.addHook("preValidation", async (request) => {
    const found = findOperatorKey(request.body);
    if (found) {
      throw badRequest(
        "ECODRIX_VALIDATION_OPERATOR_KEY",
        `${found} is not allowed: field names must not start with "$" or contain "."`,
      );
    }
  });
}
