import { jobContract } from "@ecodrix/queue";
import { Type } from "@sinclair/typebox";
import { integrationContextSchema } from "../integration-context.js";

/**
 * `webhook_event`: fans out one `deliver_webhook` per enabled subscription of the client whose
 * `events` include `type` (`webhook.test` goes only to the subscription it targets).
 */
export const webhookEventContract = jobContract({
  type: "webhook_event",
  payload: Type.Object(
    {
      type: Type.String({ minLength: 1, maxLength: 100 }),
      data: Type.Record(Type.String(), Type.Unknown()),
      context: Type.Optional(integrationContextSchema),
    },
    { additionalProperties: false },
  ),
});
