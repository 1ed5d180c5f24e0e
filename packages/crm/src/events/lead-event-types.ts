import type { ObjectId } from "mongodb";

/** The tenant collection of every lead's timeline (also what lead scoring reads). */
export const LEAD_EVENTS_COLLECTION = "lead_events";

export const LEAD_EVENT_TYPES = [
  "lead_created",
  "stage_changed",
  "tag_added",
  "message_sent",
  "message_delivered",
  "message_read",
  "message_failed",
  "appointment_booked",
  "appointment_confirmed",
  "appointment_cancelled",
  "appointment_completed",
  "appointment_no_show",
  "score_changed",
  "automation_step",
  "custom_event",
] as const;

export type LeadEventType = (typeof LEAD_EVENT_TYPES)[number];

/**
 * One entry of a lead's timeline, in the tenant collection `lead_events`. `leadId` is the lead's
 * ObjectId (as `leads._id`); `data` depends on `type`:
 * - `lead_created` `{ stage, source? }`; `stage_changed` `{ from, to }`; `tag_added` `{ tag }`
 * - `appointment_booked` `{ appointmentId, startsAt }`; `appointment_<status>` `{ appointmentId, from, to, startsAt }`
 * - `message_<status>` `{ channel, messageId, error?, automationId?, runId?, step? }`
 * - `automation_step` `{ automationId, automationName, runId, step, action, status, runAt?, reason? }`
 * - `custom_event` `{ name, data? }`; `score_changed`: written by lead scoring.
 * Events made by an automation carry `data.automationId` / `data.runId` where they have them.
 */
export interface LeadEventDocument {
  _id: ObjectId;
  leadId: ObjectId;
  type: LeadEventType;
  at: Date;
  data: Record<string, unknown>;
}

export interface LeadEventView {
  id: string;
  leadId: string;
  type: LeadEventType;
  at: string;
  data: Record<string, unknown>;
}

export function toLeadEventView(doc: LeadEventDocument): LeadEventView {
  return {
    id: String(doc._id),
    leadId: String(doc.leadId),
    type: doc.type,
    at: doc.at.toISOString(),
    data: doc.data,
  };
}
