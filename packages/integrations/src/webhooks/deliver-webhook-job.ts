import { AppError, permanentFailure, retryLater } from "@ecodrix/platform";
import { defineJob } from "@ecodrix/queue";
import { resolveOutboundAddress } from "../outbound/outbound-address.js";
import { retryAfterMs } from "../whatsapp/whatsapp-errors.js";
import { postWebhook, WEBHOOK_TIMEOUT_MS, type WebhookAnswer } from "./webhook-sender.js";
import { signWebhook } from "./webhook-signature.js";
import {
  WEBHOOK_TEST_EVENT,
  WebhookErrorCode,
  webhookSecretMissing,
  webhookSubscriptionsOf,
} from "./webhook-subscriptions.js";
import { deliverWebhookContract } from "./webhooks-contracts.js";
import type { WebhooksJobDeps } from "./webhooks-job-deps.js";

export type DeliverWebhookResult =
  | { delivered: true; status: number; webhookId: string }
  | { delivered: false; skipped: "subscription_deleted" | "subscription_disabled" };

/** Without a Retry-After, a 429 is retried no sooner than this. */
const RATE_LIMITED_RETRY_MS = 30_000;

/**
 * `deliver_webhook`: one signed POST to one subscription. The `webhook-id` is the job id, so every retry
 * of the job sends the same id (receivers dedupe on it); `webhook-timestamp` is the attempt's own time
 * (a receiver's replay window applies to each attempt), and the signature is computed for it.
 *
 * Outcomes: 2xx done; 410 permanent, and the subscription disabled; other 4xx (but 408, 429) permanent,
 * the answer's first 200 bytes in `lastError` (a receiver's `HMAC mismatch` shows there); 3xx (never
 * followed), 408, 429 (after its Retry-After), 5xx, timeouts and network errors are retried.
 */
export const deliverWebhookJob = defineJob({
  ...deliverWebhookContract,
  limits: { ...deliverWebhookContract.limits, timeoutMs: 3 * WEBHOOK_TIMEOUT_MS },
  create: (deps: WebhooksJobDeps) => {
    const allowPrivateNetworks = deps.config.outboundAllowPrivateNetworks;

    return async ({ job, log, signal }): Promise<DeliverWebhookResult> => {
      const webhookId = String(job._id);
      const { payload } = job;
      const clientCode = job.clientCode;
      if (!clientCode) {
        throw permanentFailure(WebhookErrorCode.notFound, "deliver_webhook needs the job's clientCode");
      }
      const client = await deps.tenancy.clients.get(clientCode);
      const subscription = await deps.tenancy.tenantConnections.withDb(clientCode, (db) =>
        webhookSubscriptionsOf(db).get(payload.subscriptionId, new Date(client.createdAt)),
      );
      if (!subscription) return { delivered: false, skipped: "subscription_deleted" };
      // A test is an explicit request for this one subscription: it goes even to a disabled one.
      if (!subscription.enabled && payload.type !== WEBHOOK_TEST_EVENT) {
        return { delivered: false, skipped: "subscription_disabled" };
      }

      const secret = (await deps.tenancy.clients.getSecrets(clientCode)).automationWebhookSecret;
      if (typeof secret !== "string" || secret.length === 0) {
        const missing = webhookSecretMissing(clientCode);
        throw permanentFailure(missing.code, missing.message);
      }

      const url = new URL(subscription.url);
      if (url.protocol !== "https:" && !(allowPrivateNetworks && url.protocol === "http:")) {
        throw permanentFailure(
          WebhookErrorCode.refusedUrl,
          `Webhook URL of subscription ${subscription._id} is not https; refused (http is allowed only with OUTBOUND_ALLOW_PRIVATE_NETWORKS=true)`,
        );
      }
      // The resolved address is checked now and connected to (not the name resolved again).
      const address = await resolveOutboundAddress(url.hostname, { allowPrivateNetworks, what: "Webhook" });

      const body = JSON.stringify({ type: payload.type, timestamp: payload.timestamp, data: payload.data });
      const timestamp = Math.floor(deps.clock().getTime() / 1000);
      const timeout = AbortSignal.timeout(WEBHOOK_TIMEOUT_MS);
      let answer: WebhookAnswer;
      try {
        answer = await postWebhook({
          url,
          address,
          headers: {
            "content-type": "application/json",
            "user-agent": "ECODrIx-Webhooks/1",
            "webhook-id": webhookId,
            "webhook-timestamp": String(timestamp),
            "webhook-signature": signWebhook({ id: webhookId, timestamp, body, secret }),
          },
          body,
          signal: AbortSignal.any([signal, timeout]),
        });
      } catch (error) {
        if (timeout.aborted) {
          throw new AppError(
            WebhookErrorCode.unreachable,
            `Webhook endpoint ${url.host} did not answer within ${WEBHOOK_TIMEOUT_MS / 1000} s`,
            504,
            { retryable: true, cause: error },
          );
        }
        const reason = error instanceof Error ? error.message : String(error);
        throw new AppError(
          WebhookErrorCode.unreachable,
          `Webhook endpoint ${url.host} unreachable: ${reason}`,
          502,
          { retryable: true, cause: error },
        );
      }

      const { status } = answer;
      const said = answer.bodyStart ? `: ${answer.bodyStart}` : "";
      if (status >= 200 && status < 300) {
        log.info({ status, subscriptionId: payload.subscriptionId }, "deliver_webhook: delivered");
        return { delivered: true, status, webhookId };
      }
      if (status === 410) {
        const reason = `The endpoint answered 410 Gone (job ${webhookId})`;
        await deps.tenancy.tenantConnections.withDb(clientCode, (db) =>
          webhookSubscriptionsOf(db).disable(subscription._id, reason, deps.clock()),
        );
        throw permanentFailure(
          WebhookErrorCode.gone,
          `Webhook endpoint answered HTTP 410${said}; subscription ${subscription._id} disabled (create it again to resume)`,
        );
      }
      if (status === 429) {
        throw retryLater(
          WebhookErrorCode.failed,
          `Webhook endpoint answered HTTP 429${said}`,
          retryAfterMs(answer.retryAfter) ?? RATE_LIMITED_RETRY_MS,
        );
      }
      if (status >= 400 && status < 500 && status !== 408) {
        throw permanentFailure(WebhookErrorCode.rejected, `Webhook endpoint answered HTTP ${status}${said}`);
      }
      if (status >= 300 && status < 400) {
        throw new AppError(
          WebhookErrorCode.failed,
          `Webhook endpoint answered HTTP ${status} (redirect${answer.location ? ` to ${answer.location.slice(0, 200)}` : ""}, not followed: subscribe the final URL)`,
          502,
          { retryable: true },
        );
      }
      throw new AppError(WebhookErrorCode.failed, `Webhook endpoint answered HTTP ${status}${said}`, 502, {
        retryable: true,
      });
    };
  },
});
