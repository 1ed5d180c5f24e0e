import { OBJECT_ID_PATTERN } from "../shared/cursor.js";

/**
 * JSON schemas of the automations API. They check the shape; the rules that depend on the trigger and
 * the action type (configs, variables) are checked by normalizeAutomation with messages naming the field.
 */
const action = {
  type: "object",
  additionalProperties: false,
  properties: {
    type: { type: "string", minLength: 1, maxLength: 40 },
    // Fractions allowed (0.5 = 30 s): short delays are useful, and tests need them.
    delayMinutes: { type: "number", minimum: 0, maximum: 525_600 },
    config: { type: "object" },
  },
  required: ["type"],
} as const;

const automationProperties = {
  name: { type: "string", minLength: 1, maxLength: 200, pattern: "\\S" },
  description: { anyOf: [{ type: "string", maxLength: 1000 }, { type: "null" }] },
  trigger: { type: "string", minLength: 1, maxLength: 60 },
  triggerConfig: { type: "object" },
  actions: { type: "array", minItems: 1, maxItems: 20, items: action },
  enabled: { type: "boolean" },
} as const;

export const createAutomationBodySchema = {
  type: "object",
  additionalProperties: false,
  properties: automationProperties,
  required: ["name", "trigger", "actions"],
} as const;

export const updateAutomationBodySchema = {
  type: "object",
  additionalProperties: false,
  minProperties: 1,
  properties: automationProperties,
} as const;

export const automationIdParamsSchema = {
  type: "object",
  additionalProperties: false,
  properties: { id: { type: "string", pattern: OBJECT_ID_PATTERN } },
  required: ["id"],
} as const;

export const automationListQuerySchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    trigger: { type: "string", minLength: 1, maxLength: 60 },
    enabled: { type: "boolean" },
    limit: { type: "integer", minimum: 1, maximum: 200, default: 50 },
    cursor: { type: "string", minLength: 1, maxLength: 200 },
  },
} as const;

export const runListQuerySchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    limit: { type: "integer", minimum: 1, maximum: 200, default: 50 },
    cursor: { type: "string", minLength: 1, maxLength: 200 },
  },
} as const;

export const automationViewSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    id: { type: "string" },
    name: { type: "string" },
    description: { type: ["string", "null"] },
    trigger: { type: "string" },
    triggerConfig: { type: "object", additionalProperties: true },
    actions: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        properties: {
          type: { type: "string" },
          delayMinutes: { type: "number" },
          config: { type: "object", additionalProperties: true },
        },
      },
    },
    enabled: { type: "boolean" },
    createdAt: { type: "string" },
    updatedAt: { type: "string" },
  },
} as const;

export const runViewSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    id: { type: "string" },
    automationId: { type: "string" },
    trigger: { type: "string" },
    eventId: { type: "string" },
    eventType: { type: "string" },
    leadId: { type: "string" },
    appointmentId: { type: ["string", "null"] },
    depth: { type: "integer" },
    status: { type: "string" },
    reason: { type: ["string", "null"] },
    createdAt: { type: "string" },
    steps: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        properties: {
          step: { type: "integer" },
          action: { type: "string" },
          jobType: { type: "string" },
          jobId: { type: ["string", "null"] },
          runAt: { type: ["string", "null"] },
          status: { type: "string" },
          reason: { type: ["string", "null"] },
          outcome: { type: ["string", "null"] },
          lastError: { type: ["string", "null"] },
        },
      },
    },
  },
} as const;

export const customEventBodySchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    name: { type: "string", minLength: 1, maxLength: 100, pattern: "\\S" },
    leadId: { type: "string", pattern: OBJECT_ID_PATTERN },
    data: { type: "object", maxProperties: 50 },
  },
  required: ["name", "leadId"],
} as const;
