import { Type } from "@sinclair/typebox";

/**
 * What the CRM attaches to an integration job so the outcome can be traced back: the integration
 * stores it (message log) and hands it back on `message_status_changed` / `meet_created`, and never
 * interprets it.
 */
export const jobContextSchema = Type.Object(
  {
    leadId: Type.Optional(Type.String({ maxLength: 100 })),
    appointmentId: Type.Optional(Type.String({ maxLength: 100 })),
    automationId: Type.Optional(Type.String({ maxLength: 100 })),
    runId: Type.Optional(Type.String({ maxLength: 100 })),
    step: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);
