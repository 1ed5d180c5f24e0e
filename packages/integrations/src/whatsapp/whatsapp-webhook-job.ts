import { permanentFailure } from "@ecodrix/platform";
import { defineJob, enqueueJob } from "@ecodrix/queue";
import { type DeliveryStatus, messageLogOf } from "../message-log/message-log.js";
import { messageStatusChangedContract } from "../message-log/message-status-contracts.js";
import { WHATSAPP_INBOUND_COLLECTION } from "./whatsapp-capability.js";
import { WhatsappErrorCode } from "./whatsapp-errors.js";
import type { WhatsappJobDeps } from "./whatsapp-job-deps.js";
import { whatsappWebhookContract } from "./whatsapp-sync-contracts.js";

interface WebhookStatus {
  id?: string;
  status?: string;
  timestamp?: string;
  recipient_id?: string;
  errors?: { code?: number; title?: string; message?: string; error_data?: { details?: string } }[];
}

interface WebhookMessage {
  id?: string;
  from?: string;
  timestamp?: string;
  type?: string;
  text?: { body?: string };
  [key: string]: unknown;
}

interface WebhookValue {
  statuses?: WebhookStatus[];
  messages?: WebhookMessage[];
  contacts?: { wa_id?: string; profile?: { name?: string } }[];
  metadata?: { phone_number_id?: string };
}

const DELIVERY_STATUSES = new Set<string>(["sent", "delivered", "read", "failed"]);

/** Meta's unix-seconds timestamp as a Date (now when absent or unreadable). */
function dateOf(timestamp: string | undefined, fallback: Date): Date {
  const seconds = Number(timestamp);
  return Number.isFinite(seconds) && seconds > 0 ? new Date(seconds * 1000) : fallback;
}

/** The `value` objects of every change of every entry (Meta batches several per body). */
function valuesOf(payload: { entry: unknown[] }): WebhookValue[] {
  const values: WebhookValue[] = [];
  for (const entry of payload.entry) {
    const changes = (entry as { changes?: unknown } | null)?.changes;
    if (!Array.isArray(changes)) continue;
    for (const change of changes) {
      const value = (change as { value?: unknown } | null)?.value;
      if (value && typeof value === "object") values.push(value as WebhookValue);
    }
  }
  return values;
}

/**
 * `whatsapp_webhook`: applies Meta's `statuses` to the message log by wamid (never backwards in rank:
 * accepted < sent < delivered < read; failed is final) and records inbound `messages` in
 * `whatsapp_inbound` (once per wamid: Meta redelivers). A status that moved a logged message with a
 * `context` becomes a `message_status_changed` job (dedupeKey `msg:<wamid>:<status>`).
 */
export const whatsappWebhookJob = defineJob({
  ...whatsappWebhookContract,
  create: (deps: WhatsappJobDeps) => {
    return async ({ job, log }): Promise<{ statuses: number; applied: number; inbound: number }> => {
      const clientCode = job.clientCode;
      if (!clientCode) {
        throw permanentFailure(
          WhatsappErrorCode.notConfigured,
          "whatsapp_webhook needs the job's clientCode",
        );
      }
      const values = valuesOf(job.payload);
      return deps.tenancy.tenantConnections.withDb(clientCode, async (db) => {
        const messages = messageLogOf(db);
        const inbound = db.collection(WHATSAPP_INBOUND_COLLECTION);
        const receivedAt = deps.clock();
        let statuses = 0;
        let applied = 0;
        let recorded = 0;
        for (const value of values) {
          for (const status of value.statuses ?? []) {
            if (!status.id || !status.status || !DELIVERY_STATUSES.has(status.status)) continue;
            statuses++;
            const at = dateOf(status.timestamp, receivedAt);
            const metaError = status.errors?.[0];
            const error =
              status.status === "failed" && metaError
                ? {
                    code: String(metaError.code ?? "unknown"),
                    message: `Meta error ${metaError.code ?? "unknown"}: ${metaError.message ?? metaError.title ?? "failed"}${
                      metaError.error_data?.details ? ` (${metaError.error_data.details})` : ""
                    }`,
                  }
                : undefined;
            const moved = await messages.applyStatus(status.id, status.status as DeliveryStatus, at, error);
            if (!moved) continue;
            applied++;
            if (moved.context) {
              await enqueueJob(deps.queue, messageStatusChangedContract, {
                clientCode,
                payload: {
                  channel: "whatsapp",
                  messageId: status.id,
                  status: status.status as DeliveryStatus,
                  at: at.toISOString(),
                  ...(error ? { error: error.message } : {}),
                  context: moved.context,
                },
                dedupeKey: `msg:${status.id}:${status.status}`,
              });
            }
          }
          for (const message of value.messages ?? []) {
            if (!message.id) continue;
            const from = message.from ? `+${message.from.replace(/^\+/, "")}` : null;
            const contact = value.contacts?.find((entry) => entry.wa_id === message.from);
            const result = await inbound.updateOne(
              { wamid: message.id },
              {
                $setOnInsert: {
                  wamid: message.id,
                  from,
                  name: contact?.profile?.name ?? null,
                  phoneNumberId: value.metadata?.phone_number_id ?? null,
                  type: message.type ?? "unknown",
                  text: message.text?.body ?? null,
                  sentAt: dateOf(message.timestamp, receivedAt),
                  receivedAt,
                  message,
                },
              },
              { upsert: true },
            );
            if (result.upsertedCount === 1) recorded++;
          }
        }
        log.info({ statuses, applied, inbound: recorded }, "whatsapp_webhook: applied");
        return { statuses, applied, inbound: recorded };
      });
    };
  },
});
