import { OBJECT_ID_PATTERN } from "../shared/cursor.js";
import { APPOINTMENT_STATUSES } from "./appointment-types.js";

/** JSON schemas of the appointments API. */
const startsAt = { type: "string", format: "date-time", maxLength: 40 } as const;
const durationMinutes = { type: "integer", minimum: 5, maximum: 1440 } as const;
const title = { type: "string", minLength: 1, maxLength: 200 } as const;
const notes = { type: "string", maxLength: 5000 } as const;

export const createAppointmentBodySchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    leadId: { type: "string", pattern: OBJECT_ID_PATTERN },
    startsAt,
    durationMinutes,
    title,
    notes,
    createMeet: { type: "boolean" },
  },
  required: ["leadId", "startsAt"],
} as const;

export const updateAppointmentBodySchema = {
  type: "object",
  additionalProperties: false,
  minProperties: 1,
  properties: {
    status: { type: "string", enum: [...APPOINTMENT_STATUSES] },
    startsAt,
    durationMinutes,
    title: { anyOf: [title, { type: "null" }] },
    notes: { anyOf: [notes, { type: "null" }] },
  },
} as const;

export const appointmentListQuerySchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    leadId: { type: "string", pattern: OBJECT_ID_PATTERN },
    status: { type: "string", enum: [...APPOINTMENT_STATUSES] },
    from: startsAt,
    to: startsAt,
    limit: { type: "integer", minimum: 1, maximum: 200, default: 50 },
    cursor: { type: "string", minLength: 1, maxLength: 200 },
  },
} as const;

export const appointmentViewSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    id: { type: "string" },
    leadId: { type: "string" },
    startsAt: { type: "string" },
    durationMinutes: { type: "integer" },
    title: { type: ["string", "null"] },
    notes: { type: ["string", "null"] },
    status: { type: "string" },
    meetUrl: { type: ["string", "null"] },
    meetStatus: { type: ["string", "null"] },
    rescheduleCount: { type: "integer" },
    createdAt: { type: "string" },
    updatedAt: { type: "string" },
  },
} as const;
