import { type AppError, badRequest } from "@ecodrix/platform";
import type { FastifyInstance } from "fastify";

/** Deepest nesting of objects/arrays a JSON body may have; deeper bodies are refused, not half-checked. */
export const MAX_BODY_DEPTH = 32;

export function tooDeep(path: string): AppError {
  return badRequest(
    "ECODRIX_VALIDATION_TOO_DEEP",
    `${path} is nested too deeply: bodies may be nested at most ${MAX_BODY_DEPTH} levels`,
  );
}

export type BodyProblem =
  | { kind: "operator"; path: string }
  | { kind: "prototype"; path: string }
  | { kind: "depth"; path: string }
  | { kind: "control"; path: string; codePoint: number; inKey: boolean };

const TAB = 0x09;
const LINE_FEED = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * The first control character in `text` (C0, DEL or C1), or -1. In values, tabs and line breaks are text
 * (a message may have several lines); in field names nothing of the kind is.
 */
export function firstControlCharacter(text: string, allowLineBreaks: boolean): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f) continue;
    if (c <= 0x1f || (c >= 0x7f && c <= 0x9f)) {
      if (allowLineBreaks && (c === TAB || c === LINE_FEED || c === CARRIAGE_RETURN)) continue;
      return c;
    }
  }
  return -1;
}

const codePointName = (c: number) => `U+${c.toString(16).toUpperCase().padStart(4, "0")}`;

/**
 * The first problem in a body: a key starting with `$` or containing `.` (e.g. `body/filter/$where`),
 * or a value nested deeper than MAX_BODY_DEPTH (the path where the limit is exceeded).
 */
export function findBodyProblem(value: unknown, path = "body", depth = 0): BodyProblem | undefined {
  if (typeof value === "string") {
    const control = firstControlCharacter(value, true);
    return control < 0 ? undefined : { kind: "control", path, codePoint: control, inKey: false };
  }
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
    const control = firstControlCharacter(key, false);
    if (control >= 0) return { kind: "control", path, codePoint: control, inKey: true };
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
 * properties (app.ts sets onProtoPoisoning "ignore") so that this guard can name the field. Bodies nested
 * deeper than MAX_BODY_DEPTH levels are refused too, so no key goes unchecked. So are control characters
 * (NUL, ESC, DEL …) in any string or field name: they end up in names, logs, e-mail headers and terminals.
 * Single-line fields (a client's name) refuse tabs and line breaks too, in their schemas.
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
    // The JSON parser refuses deeper bodies while scanning (json-parser.ts); this catches any other source.
    if (problem?.kind === "depth") throw tooDeep(problem.path);
    if (problem?.kind === "control") {
      throw badRequest(
        "ECODRIX_VALIDATION_CONTROL_CHARACTER",
        problem.inKey
          ? `${problem.path} has a field name with a control character (${codePointName(problem.codePoint)}): field names must be printable text`
          : `${problem.path} contains a control character (${codePointName(problem.codePoint)}): text may hold printable characters, tabs and line breaks only`,
      );
    }
  });
}
