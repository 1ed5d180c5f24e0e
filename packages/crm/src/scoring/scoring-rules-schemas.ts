/**
 * JSON schemas of the scoring rules body and response (the API's validation, serialisation and
 * OpenAPI). The schema checks types and unknown fields; `checkScoringRuleSet` then checks what a
 * schema says badly (which kind of condition, one of equals/in/exists, known event names, unique
 * rule names), naming the field in every message.
 */

export const MAX_RULES = 100;
export const MAX_WITHIN_DAYS = 3650;
export const MAX_AT_LEAST = 1000;
export const MAX_POINTS = 10_000;
export const MAX_IN_VALUES = 100;

/** maxLength applies to text only. */
const fieldValueSchema = { type: ["string", "number", "boolean"], maxLength: 200 } as const;

export const ruleConditionSchema = {
  type: "object",
  additionalProperties: false,
  description:
    "Either a field condition { field, equals | in | exists } with field source, stage, tags or " +
    "customFields.<key>, or an event condition { event, withinDays, atLeast? }.",
  properties: {
    field: { type: "string", minLength: 1, maxLength: 80 },
    equals: fieldValueSchema,
    in: { type: "array", minItems: 1, maxItems: MAX_IN_VALUES, items: fieldValueSchema },
    exists: { type: "boolean" },
    event: { type: "string", minLength: 1, maxLength: 64 },
    withinDays: { type: "integer", minimum: 1, maximum: MAX_WITHIN_DAYS },
    atLeast: { type: "integer", minimum: 1, maximum: MAX_AT_LEAST },
  },
} as const;

export const scoringRuleSchema = {
  type: "object",
  additionalProperties: false,
  required: ["name", "when", "points"],
  properties: {
    name: { type: "string", minLength: 1, maxLength: 80 },
    when: ruleConditionSchema,
    points: { type: "number", minimum: -MAX_POINTS, maximum: MAX_POINTS },
  },
} as const;

export const scoringDecaySchema = {
  type: "object",
  additionalProperties: false,
  required: ["halfLifeDays"],
  properties: { halfLifeDays: { type: "number", exclusiveMinimum: 0, maximum: MAX_WITHIN_DAYS } },
} as const;

export const scoringRuleSetBodySchema = {
  type: "object",
  additionalProperties: false,
  required: ["rules"],
  properties: {
    rules: { type: "array", maxItems: MAX_RULES, items: scoringRuleSchema },
    decay: scoringDecaySchema,
  },
} as const;

export const storedScoringRulesSchema = {
  type: "object",
  additionalProperties: false,
  required: ["rules", "version"],
  properties: {
    rules: { type: "array", items: scoringRuleSchema },
    decay: scoringDecaySchema,
    version: { type: "integer", description: "0 until rules are first stored; +1 on every PUT" },
    updatedAt: { type: ["string", "null"], format: "date-time" },
    recalculationJobId: {
      type: "string",
      description: "PUT only: the job recalculating every lead's score under the new rules",
    },
  },
} as const;
