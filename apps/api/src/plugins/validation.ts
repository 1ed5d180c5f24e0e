import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import type { FastifyInstance, FastifySchema } from "fastify";

// ajv-formats is CommonJS: its default export arrives wrapped under NodeNext.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function createAjv(coerceTypes: boolean | "array"): Ajv {
  // removeAdditional false: an unknown field is refused (400 naming it), never silently dropped.
  const ajv = new Ajv({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: false });
  addFormats(ajv);
  return ajv;
}

/**
 * Bodies are validated strictly: `"465"` is not a number and `123` is not a name, so a wrong type is a
 * 400 that names the field instead of a silent conversion. Path parameters and query strings arrive as
 * text by nature and keep Fastify's usual coercion (`?limit=50` is a number).
 */
export function registerValidation(app: FastifyInstance): void {
  const bodies = createAjv(false);
  const urlParts = createAjv("array");
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === "body" ? bodies : urlParts).compile(schema as FastifySchema & object),
  );
}
