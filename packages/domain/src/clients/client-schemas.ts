import { MONGO_URI_PATTERN } from "../tenants/mongo-uri.js";
import { CLIENT_CODE_PATTERN } from "./client-code.js";
import { SECRET_FIELDS } from "./client-types.js";

/**
 * JSON schemas for the clients API (Fastify validates with them; unknown fields are refused by
 * `additionalProperties: false`). They live here, beside the rules they describe.
 */
const clientCodeSchema = { type: "string", pattern: CLIENT_CODE_PATTERN } as const;

/** A list of secret field names (never values): what a client has set, what a request changed. */
export const secretNamesSchema = {
  type: "array",
  items: { type: "string", enum: [...SECRET_FIELDS] },
} as const;

export const clientCodeParamsSchema = {
  type: "object",
  additionalProperties: false,
  properties: { clientCode: clientCodeSchema },
  required: ["clientCode"],
} as const;

const nameSchema = { type: "string", minLength: 1, maxLength: 200, pattern: "\\S" } as const;
const emailSchema = {
  type: "string",
  maxLength: 254,
  pattern: "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$",
} as const;

export const createClientBodySchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    name: nameSchema,
    email: emailSchema,
    clientCode: clientCodeSchema,
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
  },
} as const;

const secretString = { type: "string", minLength: 1, maxLength: 4096 } as const;
export const setSecretsBodySchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    whatsappToken: secretString,
    whatsappBusinessId: { type: "string", minLength: 1, maxLength: 100 },
    whatsappPhoneNumberId: { type: "string", minLength: 1, maxLength: 100 },
    whatsappWebhookToken: secretString,
    smtpHost: { type: "string", minLength: 1, maxLength: 255 },
    smtpPort: { type: "integer", minimum: 1, maximum: 65535 },
    smtpUser: { type: "string", minLength: 1, maxLength: 320 },
    smtpPass: secretString,
    smtpFrom: { type: "string", minLength: 3, maxLength: 320 },
    automationWebhookSecret: { type: "string", pattern: "^[0-9a-fA-F]{32,256}$" },
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
    secretsSet: secretNamesSchema,
    datasource: {
      type: "object",
      properties: { registered: { type: "boolean" }, dbName: { type: ["string", "null"] } },
    },
    corsOrigins: { type: "array", items: { type: "string" } },
    createdAt: { type: "string" },
    updatedAt: { type: "string" },
  },
} as const;
