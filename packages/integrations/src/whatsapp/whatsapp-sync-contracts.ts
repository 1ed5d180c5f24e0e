import { jobContract } from "@ecodrix/queue";
import { Type } from "@sinclair/typebox";

/**
 * `whatsapp_template_sync`: the client's templates from Meta into the tenant collection
 * `whatsapp_templates` (those Meta no longer returns are removed). Result `{ added, updated, removed, total }`.
 */
export const whatsappTemplateSyncContract = jobContract({
  type: "whatsapp_template_sync",
  payload: Type.Object({}, { additionalProperties: false }),
  limits: { maxRetries: 3 },
});

/** The dedupe key of a client's sync: a second request while one is pending gets that job's id. */
export const templateSyncDedupeKey = (clientCode: string) => `whatsapp_template_sync:${clientCode}`;

/** `whatsapp_template_sync_all` (cron, TEMPLATE_SYNC_CRON): one `whatsapp_template_sync` per client with WhatsApp secrets. */
export const whatsappTemplateSyncAllContract = jobContract({
  type: "whatsapp_template_sync_all",
  payload: Type.Object({}, { additionalProperties: false }),
  limits: { maxRetries: 3 },
});

/**
 * `whatsapp_webhook`: one inbound webhook body from Meta, already verified (X-Hub-Signature-256) by the
 * API. The worker applies its `statuses` to the message log and records its `messages`.
 */
export const whatsappWebhookContract = jobContract({
  type: "whatsapp_webhook",
  payload: Type.Object(
    {
      object: Type.Optional(Type.String()),
      entry: Type.Array(Type.Unknown(), { maxItems: 1000 }),
    },
    { additionalProperties: true },
  ),
  limits: { maxRetries: 8 },
});
