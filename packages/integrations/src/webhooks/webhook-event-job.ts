import { permanentFailure } from "@ecodrix/platform";
import { defineJob, derivedObjectId, enqueueJob } from "@ecodrix/queue";
import { WEBHOOK_TEST_EVENT, WebhookErrorCode, webhookSubscriptionsOf } from "./webhook-subscriptions.js";
import { deliverWebhookContract, webhookEventContract } from "./webhooks-contracts.js";
import type { WebhooksJobDeps } from "./webhooks-job-deps.js";

export interface WebhookEventResult {
  /** The `deliver_webhook` jobs, one per subscription to the event's type. */
  deliveries: { subscriptionId: string; jobId: string }[];
}

/** The follow-up job's dedupe key: one delivery per event and subscription. */
export const webhookDeliveryDedupeKey = (eventJobId: string, subscriptionId: string) =>
  `webhook:${eventJobId}:${subscriptionId}`;

/**
 * `webhook_event`: one `deliver_webhook` per enabled subscription of the client whose `events` include
 * the event's type. Each delivery's job id is derived from this job's id and the subscription's, so a
 * retried fan-out (a crash half-way, a requeue) finds the deliveries it already made — even finished
 * ones — instead of delivering twice. The body's `timestamp` is when the event was enqueued.
 */
export const webhookEventJob = defineJob({
  ...webhookEventContract,
  create: (deps: WebhooksJobDeps) => {
    return async ({ job, log }): Promise<WebhookEventResult> => {
      const clientCode = job.clientCode;
      if (!clientCode) {
        throw permanentFailure(WebhookErrorCode.notFound, "webhook_event needs the job's clientCode");
      }
      const { type, data } = job.payload;
      // Tests target one subscription (the test route enqueues its delivery); never broadcast.
      if (type === WEBHOOK_TEST_EVENT) return { deliveries: [] };
      const client = await deps.tenancy.clients.get(clientCode);
      const subscriptions = await deps.tenancy.tenantConnections.withDb(clientCode, (db) =>
        webhookSubscriptionsOf(db).subscribedTo(type, new Date(client.createdAt)),
      );
      const eventJobId = String(job._id);
      const deliveries: WebhookEventResult["deliveries"] = [];
      for (const subscription of subscriptions) {
        const subscriptionId = String(subscription._id);
        const delivery = await enqueueJob(deps.queue, deliverWebhookContract, {
          id: derivedObjectId(job.createdAt, `${clientCode}/${eventJobId}:webhook:${subscriptionId}`),
          clientCode,
          payload: { subscriptionId, type, timestamp: job.createdAt.toISOString(), data },
          dedupeKey: webhookDeliveryDedupeKey(eventJobId, subscriptionId),
        });
        deliveries.push({ subscriptionId, jobId: String(delivery._id) });
      }
      log.info({ type, deliveries: deliveries.length }, "webhook_event: deliveries enqueued");
      return { deliveries };
    };
  },
});
