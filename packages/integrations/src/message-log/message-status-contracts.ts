import { jobContract } from "@ecodrix/queue";
import { Type } from "@sinclair/typebox";
import { integrationContextSchema } from "../integration-context.js";

/**
 * `message_status_changed`: a sent message's status moved (WhatsApp status webhook, SMTP outcome).
 * Enqueued by the integration only when the send's payload had a `context`, with dedupeKey
 * `msg:<messageId>:<status>`; the CRM handles it (lead timeline, automation run step).
 */
export const messageStatusChangedContract = jobContract({
  type: "message_status_changed",
  payload: Type.Object(
    {
      channel: Type.Union([Type.Literal("whatsapp"), Type.Literal("email")]),
      messageId: Type.String({ minLength: 1 }),
      status: Type.Union([
        Type.Literal("sent"),
        Type.Literal("delivered"),
        Type.Literal("read"),
        Type.Literal("failed"),
      ]),
      /** ISO 8601. */
      at: Type.String({ minLength: 1, maxLength: 40 }),
      error: Type.Optional(Type.String()),
      context: integrationContextSchema,
    },
    { additionalProperties: false },
  ),
});
