import { jobContract } from "@ecodrix/queue";
import { Type } from "@sinclair/typebox";
import { ISO_DATE_TIME_PATTERN } from "../google/google-contracts.js";
import { integrationContextSchema } from "../integration-context.js";

/**
 * `webhook_event`: fans out one `deliver_webhook` per enabled subscription of the client whose
 * `events` include `type` (`webhook.test` goes only to the subscription it targets: the test route
 * enqueues its `deliver_webhook` directly).
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

/**
 * `deliver_webhook`: one signed POST of `{ type, timestamp, data }` to one subscription. The job id is
 * the `webhook-id` header (the same on every retry: receivers dedupe on it).
 */
export const deliverWebhookContract = jobContract({
  type: "deliver_webhook",
  payload: Type.Object(
    {
      subscriptionId: Type.String({ pattern: "^[0-9a-f]{24}$" }),
      type: Type.String({ minLength: 1, maxLength: 100 }),
      /** When the event happened (ISO); the body's `timestamp`. */
      timestamp: Type.String({ pattern: ISO_DATE_TIME_PATTERN, maxLength: 40 }),
      data: Type.Record(Type.String(), Type.Unknown()),
    },
    { additionalProperties: false },
  ),
  // About 2–3 hours of retries with the queue's default backoff (1 s doubling, at most an hour).
  limits: { maxRetries: 14 },
});
