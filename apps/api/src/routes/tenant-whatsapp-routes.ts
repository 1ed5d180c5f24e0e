import type { TenantConnectionPool } from "@ecodrix/domain";
import {
  MESSAGE_STATUSES,
  messageLogOf,
  sendWhatsappContract,
  templateSyncDedupeKey,
  templatesOf,
  whatsappTemplateSyncContract,
} from "@ecodrix/integrations";
import { enqueueJob, type QueueProducer } from "@ecodrix/queue";
import type { FastifyInstance } from "fastify";
import { tenantOf } from "../plugins/tenant-auth.js";
import { jobAcceptedSchema, nextCursorSchema, pageQuerySchema } from "./route-schemas.js";

const E164_PATTERN = "^\\+[1-9][0-9]{6,14}$";
const OBJECT_ID_PATTERN = "^[0-9a-f]{24}$";

const templateSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    id: { type: "string", description: "Meta's template id" },
    name: { type: "string" },
    language: { type: "string" },
    status: { type: "string", description: "Meta's review status: APPROVED, PENDING, REJECTED, PAUSED …" },
    category: { type: "string" },
    components: { type: "array", items: { type: "object", additionalProperties: true } },
    syncedAt: { type: "string", format: "date-time" },
  },
} as const;

const messageSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    id: { type: "string" },
    jobId: { type: "string", description: "The send_whatsapp job (GET /api/saas/jobs/:id)" },
    to: { type: "string" },
    templateName: { type: "string" },
    language: { type: "string" },
    wamid: { type: ["string", "null"], description: "Meta's message id, once Meta accepted it" },
    status: { type: "string", enum: [...MESSAGE_STATUSES] },
    statusAt: { type: "string", format: "date-time" },
    errors: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        properties: {
          at: { type: "string", format: "date-time" },
          code: { type: "string" },
          message: { type: "string" },
        },
      },
    },
    context: { type: "object", additionalProperties: true },
    createdAt: { type: "string", format: "date-time" },
  },
} as const;

/**
 * The tenant's WhatsApp: template sync and list (runbook §1 step 5, §5), template sends and the message
 * log. Sends and syncs are jobs: the API only enqueues (202 with the job id).
 */
export function tenantWhatsappRoutes(
  app: FastifyInstance,
  deps: { queue: Pick<QueueProducer, "enqueue">; tenantConnections: Pick<TenantConnectionPool, "withDb"> },
): void {
  app.post(
    "/api/saas/chat/templates/sync",
    {
      schema: {
        summary: "Sync your WhatsApp templates from Meta",
        description:
          "Enqueues a whatsapp_template_sync job: every template of your WhatsApp Business Account is stored (templates Meta no longer returns are removed). Its result is { added, updated, removed, total }. A sync already pending is not enqueued twice: its job id is returned.",
        tags: ["tenant"],
        response: { 202: jobAcceptedSchema() },
      },
    },
    async (request, reply) => {
      const { clientCode } = tenantOf(request);
      const job = await enqueueJob(deps.queue, whatsappTemplateSyncContract, {
        clientCode,
        payload: {},
        dedupeKey: templateSyncDedupeKey(clientCode),
      });
      return reply.status(202).send({ jobId: String(job._id) });
    },
  );

  app.get(
    "/api/saas/chat/templates",
    {
      schema: {
        summary: "Your synced WhatsApp templates",
        tags: ["tenant"],
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            status: {
              type: "string",
              pattern: "^[A-Za-z_]{1,40}$",
              description: "Only templates with this status, e.g. APPROVED",
            },
          },
        },
        response: {
          200: {
            type: "object",
            additionalProperties: false,
            properties: {
              templates: { type: "array", items: templateSchema },
              nextCursor: { type: "null", description: "Always null: every template is in one page" },
            },
          },
        },
      },
    },
    async (request) => {
      const { clientCode } = tenantOf(request);
      const { status } = request.query as { status?: string };
      return deps.tenantConnections.withDb(clientCode, async (db) => {
        const templates = await templatesOf(db)
          .find(status ? { status: status.toUpperCase() } : {}, { projection: { _id: 0 } })
          .sort({ name: 1, language: 1 })
          .toArray();
        return { templates, nextCursor: null };
      });
    },
  );

  app.post(
    "/api/saas/chat/messages",
    {
      schema: {
        summary: "Send a WhatsApp template message",
        description:
          "Enqueues a send_whatsapp job. The template must be synced and APPROVED, and the parameters must match its placeholders, else the job fails with `Template not found: <name> (<language>)` or a message naming both counts.",
        tags: ["tenant"],
        body: {
          type: "object",
          additionalProperties: false,
          properties: {
            to: { type: "string", pattern: E164_PATTERN, description: "E.164 with the leading +" },
            templateName: { type: "string", minLength: 1, maxLength: 512 },
            language: { type: "string", minLength: 2, maxLength: 20, description: "e.g. en_US" },
            bodyParams: { type: "array", maxItems: 100, items: { type: "string", maxLength: 1024 } },
            headerParams: { type: "array", maxItems: 10, items: { type: "string", maxLength: 1024 } },
          },
          required: ["to", "templateName", "language"],
        },
        response: { 202: jobAcceptedSchema() },
      },
    },
    async (request, reply) => {
      const { clientCode } = tenantOf(request);
      const body = request.body as {
        to: string;
        templateName: string;
        language: string;
        bodyParams?: string[];
        headerParams?: string[];
      };
      const job = await enqueueJob(deps.queue, sendWhatsappContract, { clientCode, payload: body });
      return reply.status(202).send({ jobId: String(job._id) });
    },
  );

  app.get(
    "/api/saas/chat/messages",
    {
      schema: {
        summary: "Your WhatsApp message log, newest first",
        tags: ["tenant"],
        querystring: pageQuerySchema(OBJECT_ID_PATTERN, {
          to: { type: "string", pattern: E164_PATTERN, description: "E.164 with the leading +" },
          status: { type: "string", enum: [...MESSAGE_STATUSES] },
        }),
        response: {
          200: {
            type: "object",
            additionalProperties: false,
            properties: {
              messages: { type: "array", items: messageSchema },
              nextCursor: nextCursorSchema,
            },
          },
        },
      },
    },
    async (request) => {
      const { clientCode } = tenantOf(request);
      const query = request.query as {
        to?: string;
        status?: (typeof MESSAGE_STATUSES)[number];
        limit: number;
        cursor?: string;
      };
      return deps.tenantConnections.withDb(clientCode, async (db) => {
        const page = await messageLogOf(db).list({ channel: "whatsapp", ...query });
        return {
          messages: page.messages.map((message) => ({
            id: String(message._id),
            jobId: message.jobId,
            to: message.to,
            templateName: message.templateName,
            language: message.language,
            wamid: message.providerMessageId,
            status: message.status,
            statusAt: message.statusAt,
            errors: message.errors,
            ...(message.context ? { context: message.context } : {}),
            createdAt: message.createdAt,
          })),
          nextCursor: page.nextCursor,
        };
      });
    },
  );
}
