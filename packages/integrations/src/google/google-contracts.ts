import { jobContract } from "@ecodrix/queue";
import { Type } from "@sinclair/typebox";
import { jobContextSchema } from "../job-context.js";

/** `create_meet`: a Calendar event with a Google Meet link; the job's result is `{ eventId, meetUrl }`. */
export const createMeetContract = jobContract({
  type: "create_meet",
  payload: Type.Object(
    {
      title: Type.String({ minLength: 1, maxLength: 1024 }),
      /** ISO 8601. */
      startsAt: Type.String({ minLength: 1, maxLength: 40 }),
      durationMinutes: Type.Integer({ minimum: 1, maximum: 1440 }),
      attendees: Type.Optional(Type.Array(Type.String({ maxLength: 320 }), { maxItems: 100 })),
      context: Type.Optional(jobContextSchema),
    },
    { additionalProperties: false },
  ),
});

/**
 * `meet_created`: enqueued by `create_meet` when its payload had a `context` (dedupeKey
 * `meet:<jobId>`). The integration defines it; the CRM handles it (the dependency stays one-way).
 */
export const meetCreatedContract = jobContract({
  type: "meet_created",
  payload: Type.Object(
    {
      eventId: Type.String({ minLength: 1 }),
      meetUrl: Type.String({ minLength: 1 }),
      context: jobContextSchema,
    },
    { additionalProperties: false },
  ),
});
