// Schema fragments several route files share; one definition each so the routes (and the OpenAPI
// document generated from them) cannot drift apart.
import { ERROR_SCHEMA_ID } from "../plugins/openapi.js";

/** 202 of a route that only enqueues: `{ jobId }`, followed with GET /api/saas/jobs/:id. */
export const jobAcceptedSchema = (description = "Follow it with GET /api/saas/jobs/:id") =>
  ({
    type: "object",
    additionalProperties: false,
    properties: { jobId: { type: "string", description } },
    required: ["jobId"],
  }) as const;

/**
 * A route's own error statuses (400, 404, 409 …): the product's one error body (plugins/openapi.ts), which
 * lets an AppError's details through beside the four coded fields.
 */
export const errorSchema = { $ref: `${ERROR_SCHEMA_ID}#` } as const;

/**
 * The querystring of a paged list: its own filters (`filters`), then `limit` and `cursor` (an id matching
 * `cursorPattern`: the nextCursor of the previous page); nothing else is accepted.
 */
export const pageQuerySchema = (cursorPattern: string, filters: Record<string, object> = {}) =>
  ({
    type: "object",
    additionalProperties: false,
    properties: {
      ...filters,
      limit: { type: "integer", minimum: 1, maximum: 100, default: 50 },
      cursor: { type: "string", pattern: cursorPattern, description: "nextCursor of the previous page" },
    },
  }) as const;

/** A list's `nextCursor`: the `cursor` of the next page, null on the last one. */
export const nextCursorSchema = { type: ["string", "null"] } as const;

/** 200 of a DELETE that removes one resource: `{ id, deleted: true }`. */
export const deletedSchema = {
  type: "object",
  additionalProperties: false,
  properties: { id: { type: "string" }, deleted: { type: "boolean" } },
  required: ["id", "deleted"],
} as const;
