import { jobContract } from "@ecodrix/queue";
import { Type } from "@sinclair/typebox";

/**
 * `automation_event`: one lead event for the automation engine to match against the tenant's enabled
 * automations. The producer writes the event and enqueues this with `dedupeKey` = `eventId`, so a
 * retried producer never fires an event twice. `lead_score_reached` events carry
 * `data: { score, previousScore }`; an automation with `triggerConfig.threshold` t matches when
 * previousScore < t ≤ score.
 */
export const automationEventContract = jobContract({
  type: "automation_event",
  payload: Type.Object({
    eventId: Type.String({ minLength: 1 }),
    type: Type.String({ minLength: 1 }),
    leadId: Type.String({ minLength: 1 }),
    data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    /** How many automation-caused events led to this one (chains stop at 5). */
    depth: Type.Optional(Type.Integer({ minimum: 0 })),
  }),
  limits: { maxRetries: 5 },
});
