import { jobContract } from "@ecodrix/queue";
import { Type } from "@sinclair/typebox";
import { EVENT_TYPES } from "./automation-triggers.js";

/** Chains (an `update_lead` action firing another trigger) run events up to this depth, no deeper. */
export const MAX_CHAIN_DEPTH = 5;

/**
 * `automation_event`: one thing happened to a lead; the worker matches the tenant's enabled
 * automations and schedules their actions. Enqueue it with `dedupeKey: eventId` (a retried producer
 * makes no second job). `type` is the trigger: `lead_created`, `lead_stage_changed` (`data: { from, to }`),
 * `tag_added` (`{ tag }`), `appointment_booked` / `_confirmed` / `_cancelled` / `_completed` /
 * `_no_show` (with `appointmentId`), `lead_score_reached` (`data: { score, previousScore }`: it matches
 * automations whose threshold lies in `(previousScore, score]`), `custom_event` (`{ name, data? }`).
 * `depth` counts the automations that led to this event (0 or absent: a change made through the API).
 */
export const automationEventContract = jobContract({
  type: "automation_event",
  payload: Type.Object(
    {
      eventId: Type.String({ pattern: "^[0-9a-f]{24}$" }),
      type: Type.Union(EVENT_TYPES.map((type) => Type.Literal(type))),
      leadId: Type.String({ pattern: "^[0-9a-f]{24}$" }),
      appointmentId: Type.Optional(Type.String({ pattern: "^[0-9a-f]{24}$" })),
      data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      depth: Type.Optional(Type.Integer({ minimum: 0 })),
    },
    { additionalProperties: false },
  ),
  limits: { maxRetries: 8 },
});
