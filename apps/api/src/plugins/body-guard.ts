import { badRequest } from "@ecodrix/platform";
import type { FastifyInstance } from "fastify";

/** Deepest nesting of objects/arrays a JSON body may have; deeper bodies are refused, not half-checked. */
export const MAX_BODY_DEPTH = 32;

export type BodyProblem =
  | { kind: "operator"; path: string }
  | { kind: "prototype"; path: string }
  | { kind: "depth"; path: string };

/**
 * The first problem in a body: a key starting with `$` or containing `.` (e.g. `body/filter/$where`),
 * or a value nested deeper than MAX_BODY_DEPTH (the path where the limit is exceeded).
 */
export function findBodyProblem(value: unknown, path = "body", depth = 0): BodyProblem | undefined {
  if (value === null || typeof value !== "object") return undefined;
  // `value` is an object or array at nesting level depth + 1 (the body itself is level 1).
  if (depth >= MAX_BODY_DEPTH) return { kind: "depth", path };
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findBodyProblem(item, `${path}/${index}`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, child] of Object.entries(value)) {
    if (key.startsWith("$") || key.includes(".")) return { kind: "operator", path: `${path}/${key}` };
    if (
      key === "__proto__" ||
      (key === "constructor" && child !== null && typeof child === "object" && "prototype" in child)
    ) {
      return { kind: "prototype", path: `${path}/${key}` };
    }
    const found = findBodyProblem(child, `${path}/${key}`, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * Refuses any JSON body with a key that MongoDB would read as an operator (`$…`) or a path (`a.b`),
 * at any depth, before schema validation and before any handler: no operator injection even through
 * free-form fields (job payloads, trigger configs). Prototype-poisoning keys (`__proto__`,
 * `constructor.prototype`) are refused here too, by name: the JSON parser leaves them as plain own
 * properties (app.ts sets onProtoPoisoning "ignore") so that this guard can name the field. Bodies nested deeper than MAX_BODY_DEPTH levels are
 * refused too, so no key goes unchecked.
 */
export function registerBodyGuard(app: FastifyInstance): void {
  app.addHook("preValidation", async (request) => {
    const problem = findBodyProblem(request.body);
    if (problem?.kind === "operator") {
      throw badRequest(
        "ECODRIX_VALIDATION_OPERATOR_KEY",
        `${problem.path} is not allowed: field names must not start with "$" or contain "."`,
      );
    }
    if (problem?.kind === "prototype") {
      throw badRequest(
        "ECODRIX_VALIDATION_PROTOTYPE_KEY",
        `${problem.path} is not allowed: "__proto__" and "constructor.prototype" are refused field names`,
      );
    }
    if (problem?.kind === "depth") {
      throw badRequest(
        "ECODRIX_VALIDATION_TOO_DEEP",
        `${problem.path} is nested too deeply: bodies may be nested at most ${MAX_BODY_DEPTH} levels`,
      );
    }
  });
}
