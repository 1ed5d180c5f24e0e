import { jobContract } from "@ecodrix/queue";
import { type Static, Type } from "@sinclair/typebox";
import { integrationContextSchema } from "../integration-context.js";

/** An ISO 8601 date-time with its offset (`2026-03-01T10:00:00+05:30` or `…Z`): a meeting time is never ambiguous. */
export const ISO_DATE_TIME_PATTERN =
  "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2})$";
const EMAIL_PATTERN = "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$";

/**
 * `create_meet`: a Google Calendar event with a Meet link on the client's primary calendar (the account
 * connected in runbook §1 step 4). Result `{ eventId, meetUrl }`. With a `context`, a `meet_created`
 * job carries the result back to the producer.
 */
export const createMeetContract = jobContract({
  type: "create_meet",
  payload: Type.Object(
    {
      title: Type.String({ minLength: 1, maxLength: 1024 }),
      startsAt: Type.String({ pattern: ISO_DATE_TIME_PATTERN }),
      durationMinutes: Type.Integer({ minimum: 1, maximum: 1440 }),
      attendees: Type.Optional(
        Type.Array(Type.String({ maxLength: 254, pattern: EMAIL_PATTERN }), { maxItems: 100 }),
      ),
      context: Type.Optional(integrationContextSchema),
    },
    { additionalProperties: false },
  ),
  limits: { maxRetries: 5 },
});

export type CreateMeetPayload = Static<typeof createMeetContract.payload>;

export interface CreateMeetResult {
  eventId: string;
  meetUrl: string;
}

/**
 * `meet_created`: the outcome of a `create_meet` that had a `context`, for the producer (the CRM defines
 * the handler). Enqueued with dedupeKey `meet:<create_meet job id>`.
 */
export const meetCreatedContract = jobContract({
  type: "meet_created",
  payload: Type.Object(
    {
      eventId: Type.String({ minLength: 1 }),
      meetUrl: Type.String({ minLength: 1 }),
      context: integrationContextSchema,
    },
    { additionalProperties: false },
  ),
});

export type MeetCreatedPayload = Static<typeof meetCreatedContract.payload>;
