import type { ClientService, TenantConnectionPool } from "@ecodrix/domain";
import {
  checkWebhookUrl,
  deliverWebhookContract,
  MAX_WEBHOOK_EVENTS,
  MAX_WEBHOOK_SUBSCRIPTIONS,
  WEBHOOK_EVENT_MAX_LENGTH,
  WEBHOOK_EVENT_PATTERN,
  WEBHOOK_TEST_EVENT,
  WEBHOOK_URL_MAX_LENGTH,
  webhookNotFound,
  webhookSecretMissing,
  webhookSubscriptionsOf,
  webhookSubscriptionView,
} from "@ecodrix/integrations";
import { enqueueJob, type QueueProducer } from "@ecodrix/queue";
import type { FastifyInstance } from "fastify";
import { tenantOf } from "../plugins/tenant-auth.js";
import {
  deletedSchema,
  errorSchema,
  jobAcceptedSchema,
  nextCursorSchema,
  pageQuerySchema,
} from "./route-schemas.js";
import { WEBHOOK_VERIFICATION_MARKDOWN } from "./webhook-verification-docs.js";

const tags = ["tenant"];
/** A subscription's id (upper or lower case hex). */
const OBJECT_ID_PATTERN = "^[0-9a-fA-F]{24}$";

const subscriptionSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    id: { type: "string" },
    url: { type: "string", description: "Where deliveries are POSTed" },
    events: { type: "array", items: { type: "string" }, description: "The event types delivered to it" },
    enabled: {
      type: "boolean",
      description: "false once the endpoint answered 410 Gone (create the subscription again to resume)",
    },
    createdAt: { type: "string", format: "date-time" },
    updatedAt: { type: "string", format: "date-time" },
    disabledAt: { type: ["string", "null"], format: "date-time" },
    disabledReason: { type: ["string", "null"] },
  },
  required: ["id", "url", "events", "enabled", "createdAt"],
} as const;

const idParams = {
  type: "object",
  additionalProperties: false,
  properties: { id: { type: "string", pattern: OBJECT_ID_PATTERN, description: "The subscription's id" } },
  required: ["id"],
} as const;

/**
 * The tenant's outgoing webhook subscriptions (runbook §1 step 8). Deliveries are jobs: the worker signs
 * them with the client's `automationWebhookSecret` (Standard Webhooks headers) and POSTs them.
 */
export function tenantWebhooksRoutes(
  app: FastifyInstance,
  deps: {
    queue: Pick<QueueProducer, "enqueue">;
    tenantConnections: Pick<TenantConnectionPool, "withDb">;
    clients: Pick<ClientService, "get">;
    /** OUTBOUND_ALLOW_PRIVATE_NETWORKS: http and loopback/private URLs are accepted (tests, sandbox). */
    allowPrivateNetworks: boolean;
  },
): void {
  async function requireSecret(clientCode: string): Promise<void> {
    const client = await deps.clients.get(clientCode);
    if (!client.secretsSet.includes("automationWebhookSecret")) throw webhookSecretMissing(clientCode);
  }

  app.post(
    "/api/saas/webhooks",
    {
      schema: {
        summary: "Subscribe a URL to webhook events",
        description: `Deliveries are POSTed as JSON { type, timestamp, data } with Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}"> keyed with your automationWebhookSecret). The URL must be https, without credentials, at most ${WEBHOOK_URL_MAX_LENGTH} characters, and not on a loopback or private network. At most ${MAX_WEBHOOK_SUBSCRIPTIONS} subscriptions per client. Needs the client's automationWebhookSecret (409 without it).\n${WEBHOOK_VERIFICATION_MARKDOWN}`,
        tags,
        body: {
          type: "object",
          additionalProperties: false,
          properties: {
            url: { type: "string", minLength: 1, maxLength: WEBHOOK_URL_MAX_LENGTH },
            events: {
              type: "array",
              minItems: 1,
              maxItems: MAX_WEBHOOK_EVENTS,
              uniqueItems: true,
              items: { type: "string", pattern: WEBHOOK_EVENT_PATTERN, maxLength: WEBHOOK_EVENT_MAX_LENGTH },
              description:
                'Event types, e.g. ["automation.action"] (dotted lower-case words). webhook.test is delivered whatever this holds.',
            },
          },
          required: ["url", "events"],
        },
        response: { 201: subscriptionSchema, 400: errorSchema, 409: errorSchema },
      },
    },
    async (request, reply) => {
      const { clientCode, clientCreatedAt } = tenantOf(request);
      const body = request.body as { url: string; events: string[] };
      const url = checkWebhookUrl(body.url, { allowPrivateNetworks: deps.allowPrivateNetworks });
      await requireSecret(clientCode);
      const created = await deps.tenantConnections.withDb(clientCode, (db) =>
        webhookSubscriptionsOf(db).create({
          url,
          events: body.events,
          ownerCreatedAt: clientCreatedAt,
          now: new Date(),
        }),
      );
      request.log.info(
        { clientCode, subscriptionId: String(created._id), events: created.events },
        "webhook subscription created",
      );
      return reply.status(201).send(webhookSubscriptionView(created));
    },
  );

  app.get(
    "/api/saas/webhooks",
    {
      schema: {
        summary: "Your webhook subscriptions, oldest first",
        tags,
        querystring: pageQuerySchema(OBJECT_ID_PATTERN),
        response: {
          200: {
            type: "object",
            additionalProperties: false,
            properties: {
              webhooks: { type: "array", items: subscriptionSchema },
              nextCursor: nextCursorSchema,
            },
            required: ["webhooks", "nextCursor"],
          },
        },
      },
    },
    async (request) => {
      const { clientCode, clientCreatedAt } = tenantOf(request);
      const query = request.query as { limit: number; cursor?: string };
      const page = await deps.tenantConnections.withDb(clientCode, (db) =>
        webhookSubscriptionsOf(db).list({ ownerCreatedAt: clientCreatedAt, ...query }),
      );
      return { webhooks: page.items.map(webhookSubscriptionView), nextCursor: page.nextCursor };
    },
  );

  app.get(
    "/api/saas/webhooks/:id",
    {
      schema: {
        summary: "One webhook subscription",
        tags,
        params: idParams,
        response: { 200: subscriptionSchema, 404: errorSchema },
      },
    },
    async (request) => {
      const { clientCode, clientCreatedAt } = tenantOf(request);
      const { id } = request.params as { id: string };
      const found = await deps.tenantConnections.withDb(clientCode, (db) =>
        webhookSubscriptionsOf(db).get(id, clientCreatedAt),
      );
      if (!found) throw webhookNotFound(id);
      return webhookSubscriptionView(found);
    },
  );

  app.delete(
    "/api/saas/webhooks/:id",
    {
      schema: {
        summary: "Delete a webhook subscription",
        description: "Deliveries still pending for it are skipped (their jobs complete without sending).",
        tags,
        params: idParams,
        response: {
          200: deletedSchema,
          404: errorSchema,
        },
      },
    },
    async (request) => {
      const { clientCode, clientCreatedAt } = tenantOf(request);
      const { id } = request.params as { id: string };
      const deleted = await deps.tenantConnections.withDb(clientCode, (db) =>
        webhookSubscriptionsOf(db).delete(id, clientCreatedAt),
      );
      if (!deleted) throw webhookNotFound(id);
      request.log.info({ clientCode, subscriptionId: id }, "webhook subscription deleted");
      return { id: id.toLowerCase(), deleted: true };
    },
  );

  app.post(
    "/api/saas/webhooks/:id/test",
    {
      schema: {
        summary: "Send a webhook.test event to one subscription",
        description:
          "Enqueues one deliver_webhook job to this subscription, whatever its events (even a disabled one). Follow it with GET /api/saas/jobs/:id: a receiver that cannot verify the signature answers 4xx and its answer (e.g. HMAC mismatch) is the job's lastError.",
        tags,
        params: idParams,
        response: {
          202: jobAcceptedSchema("The delivery job; its id is the webhook-id"),
          404: errorSchema,
          409: errorSchema,
        },
      },
    },
    async (request, reply) => {
      const { clientCode, clientCreatedAt } = tenantOf(request);
      const { id } = request.params as { id: string };
      const found = await deps.tenantConnections.withDb(clientCode, (db) =>
        webhookSubscriptionsOf(db).get(id, clientCreatedAt),
      );
      if (!found) throw webhookNotFound(id);
      await requireSecret(clientCode);
      const job = await enqueueJob(deps.queue, deliverWebhookContract, {
        clientCode,
        payload: {
          subscriptionId: String(found._id),
          type: WEBHOOK_TEST_EVENT,
          timestamp: new Date().toISOString(),
          data: { subscriptionId: String(found._id), message: "A test event from ECODrIx" },
        },
      });
      return reply.status(202).send({ jobId: String(job._id) });
    },
  );
}
