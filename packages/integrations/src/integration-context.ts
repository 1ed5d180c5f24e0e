import { type Static, Type } from "@sinclair/typebox";

const id = Type.String({ minLength: 1, maxLength: 100 });

/**
 * What a producer (an automation run, an appointment) attaches to an integration job so the outcome can
 * be traced back to it. The integration stores it and hands it back in its outcome jobs
 * (`message_status_changed`, `meet_created`); it never interprets it.
 */
export const integrationContextSchema = Type.Object(
  {
    leadId: Type.Optional(id),
    appointmentId: Type.Optional(id),
    automationId: Type.Optional(id),
    runId: Type.Optional(id),
    step: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
  },
  { additionalProperties: false },
);

export type IntegrationContext = Static<typeof integrationContextSchema>;
