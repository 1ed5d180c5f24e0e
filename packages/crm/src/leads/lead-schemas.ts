import { OBJECT_ID_PATTERN } from "../shared/cursor.js";

/** JSON schemas of the leads API (Fastify validates with them; unknown fields are refused). */
const name = { type: "string", minLength: 1, maxLength: 200, pattern: "\\S" } as const;
const phone = { type: "string", minLength: 1, maxLength: 40 } as const;
const email = { type: "string", maxLength: 254, pattern: "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$" } as const;
const source = { type: "string", minLength: 1, maxLength: 100 } as const;
export const stageSchema = { type: "string", minLength: 1, maxLength: 40, pattern: "\\S" } as const;
export const tagSchema = { type: "string", minLength: 1, maxLength: 60, pattern: "\\S" } as const;
const tags = { type: "array", maxItems: 50, items: tagSchema } as const;
const customFieldValue = {
  anyOf: [{ type: "string", maxLength: 1000 }, { type: "number" }, { type: "boolean" }],
} as const;
const customFieldKey = "^[A-Za-z0-9_-]{1,64}$";

export const idParamsSchema = {
  type: "object",
  additionalProperties: false,
  properties: { id: { type: "string", pattern: OBJECT_ID_PATTERN } },
  required: ["id"],
} as const;

export const createLeadBodySchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    name,
    phone,
    email,
    source,
    stage: stageSchema,
    tags,
    customFields: {
      type: "object",
      maxProperties: 50,
      propertyNames: { pattern: customFieldKey },
      additionalProperties: customFieldValue,
    },
    whatsappOptIn: { type: "boolean" },
  },
  required: ["name", "phone"],
} as const;

export const updateLeadBodySchema = {
  type: "object",
  additionalProperties: false,
  minProperties: 1,
  properties: {
    name,
    phone,
    email: { anyOf: [email, { type: "null" }] },
    source: { anyOf: [source, { type: "null" }] },
    stage: stageSchema,
    tags,
    addTags: tags,
    removeTags: tags,
    customFields: {
      type: "object",
      maxProperties: 50,
      propertyNames: { pattern: customFieldKey },
      additionalProperties: { anyOf: [...customFieldValue.anyOf, { type: "null" }] },
    },
    whatsappOptIn: { type: "boolean" },
  },
} as const;

export const leadListQuerySchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    stage: stageSchema,
    tag: tagSchema,
    q: { type: "string", minLength: 1, maxLength: 100 },
    minScore: { type: "number" },
    limit: { type: "integer", minimum: 1, maximum: 200, default: 50 },
    cursor: { type: "string", minLength: 1, maxLength: 200 },
  },
} as const;

export const leadEventsQuerySchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    type: { type: "string", minLength: 1, maxLength: 40 },
    limit: { type: "integer", minimum: 1, maximum: 200, default: 50 },
    cursor: { type: "string", minLength: 1, maxLength: 200 },
  },
} as const;

export const leadViewSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    id: { type: "string" },
    name: { type: "string" },
    phone: { type: "string" },
    email: { type: ["string", "null"] },
    source: { type: ["string", "null"] },
    stage: { type: "string" },
    tags: { type: "array", items: { type: "string" } },
    customFields: { type: "object", additionalProperties: true },
    whatsappOptIn: { type: "boolean" },
    score: { type: "number" },
    scoreBreakdown: { type: "object", additionalProperties: { type: "number" } },
    scoreUpdatedAt: { type: ["string", "null"] },
    createdAt: { type: "string" },
    updatedAt: { type: "string" },
  },
} as const;

export const leadEventViewSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    id: { type: "string" },
    leadId: { type: "string" },
    type: { type: "string" },
    at: { type: "string" },
    data: { type: "object", additionalProperties: true },
  },
} as const;
