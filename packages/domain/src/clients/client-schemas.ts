import type { CapabilityRegistry } from "../capabilities/capability.js";
import { MONGO_URI_PATTERN } from "../tenants/mongo-uri.js";
import { CLIENT_CODE_PATTERN } from "./client-code.js";

/**
 * JSON schemas for the clients API (Fastify validates with them; unknown fields are refused by
 * `additionalProperties: false`). They live here, beside the rules they describe.
 */
const clientCodeSchema = { type: "string", pattern: CLIENT_CODE_PATTERN } as const;

export const clientCodeParamsSchema = {
  type: "object",
  additionalProperties: false,
  properties: { clientCode: clientCodeSchema },
  required: ["clientCode"],
} as const;

/**
 * One line of text with something in it: no tab, line feed or carriage return (other control characters are
 * refused for every body field by the API's body guard). The API names this pattern in its message.
 */
export const SINGLE_LINE_TEXT_PATTERN = "^[^\\t\\n\\r]*\\S[^\\t\\n\\r]*$";

const nameSchema = {
  type: "string",
  minLength: 1,
  maxLength: 200,
  pattern: SINGLE_LINE_TEXT_PATTERN,
} as const;
const emailSchema = {
  type: "string",
  maxLength: 254,
  pattern: "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$",
} as const;

/** ISO 3166-1 alpha-2, upper case (`IN`, `GB`, `US`): the region of local phone numbers. */
const countrySchema = { type: "string", pattern: "^[A-Z]{2}$" } as const;

export const createClientBodySchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    name: nameSchema,
    email: emailSchema,
    clientCode: clientCodeSchema,
    defaultCountry: countrySchema,
  },
  required: ["name", "email"],
} as const;

export const updateClientBodySchema = {
  type: "object",
  additionalProperties: false,
  minProperties: 1,
  properties: {
    name: nameSchema,
    email: emailSchema,
    status: { type: "string", enum: ["active", "suspended"] },
    defaultCountry: { anyOf: [countrySchema, { type: "null" }] },
  },
} as const;

export const datasourceBodySchema = {
  type: "object",
  additionalProperties: false,
  properties: { dbUri: { type: "string", maxLength: 4096, pattern: MONGO_URI_PATTERN } },
  required: ["dbUri"],
} as const;

export const clientViewSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    clientCode: { type: "string" },
    name: { type: "string" },
    email: { type: "string" },
    status: { type: "string" },
    apiKeyHint: { type: "string" },
    apiKeyCreatedAt: { type: "string" },
    secretsSet: { type: "array", items: { type: "string" } },
    datasource: {
      type: "object",
      properties: { registered: { type: "boolean" }, dbName: { type: ["string", "null"] } },
    },
    corsOrigins: { type: "array", items: { type: "string" } },
    defaultCountry: { type: ["string", "null"] },
    createdAt: { type: "string" },
    updatedAt: { type: "string" },
  },
} as const;

/**
 * The client view with the integration status fields the capabilities declare (`googleStatus` …): the
 * response schema lists them, so they reach the caller, and nothing undeclared does.
 */
export function clientViewSchemaFor(registry: Pick<CapabilityRegistry, "clientStatusFields">) {
  return {
    ...clientViewSchema,
    properties: {
      ...clientViewSchema.properties,
      ...Object.fromEntries(
        [...registry.clientStatusFields].map(([name, spec]) => [
          name,
          { type: "string", enum: [...spec.values], description: spec.description },
        ]),
      ),
    },
  } as const;
}
