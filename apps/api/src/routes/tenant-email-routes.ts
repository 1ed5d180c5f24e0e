import { type ClientService, noTenantConnection, SINGLE_LINE_TEXT_PATTERN } from "@ecodrix/domain";
import {
  EMAIL_NOT_CONFIGURED,
  emailNotConfiguredMessage,
  missingSmtpSecrets,
  sendEmailContract,
} from "@ecodrix/integrations";
import { badRequest, conflict } from "@ecodrix/platform";
import { enqueueJob, type QueueProducer } from "@ecodrix/queue";
import type { FastifyInstance } from "fastify";
import { tenantOf } from "../plugins/tenant-auth.js";
import { errorSchema, jobAcceptedSchema } from "./route-schemas.js";

/**
 * The tenant's e-mail: one message through the client's own SMTP server. The API only enqueues
 * (`send_email`, 202 with the job id); the worker sends. A client without SMTP secrets is refused here,
 * naming the fields to set, so nothing is queued that could only fail.
 */
export function tenantEmailRoutes(
  app: FastifyInstance,
  deps: { queue: Pick<QueueProducer, "enqueue">; clients: Pick<ClientService, "get"> },
): void {
  app.post(
    "/api/saas/email/messages",
    {
      schema: {
        summary: "Send an e-mail through your SMTP server",
        description:
          "Enqueues a send_email job. The message goes out through your smtp* secrets with `Message-ID: <{jobId}@{domain of smtpFrom}>`; SMTP 4xx replies and connection failures are retried, 5xx replies fail the job with the server's reply in `lastError`. Give `text`, `html` or both. 409 when your SMTP secrets are incomplete (the message names the fields) or no tenant database is registered.",
        tags: ["tenant"],
        body: {
          type: "object",
          additionalProperties: false,
          properties: {
            to: { type: "string", format: "email", maxLength: 320, description: "One recipient address" },
            subject: {
              type: "string",
              minLength: 1,
              maxLength: 998,
              pattern: SINGLE_LINE_TEXT_PATTERN,
              description: "One line (line breaks are refused: they would inject headers)",
            },
            text: { type: "string", maxLength: 100_000, description: "Plain-text body" },
            html: { type: "string", maxLength: 100_000, description: "HTML body" },
          },
          required: ["to", "subject"],
        },
        response: { 202: jobAcceptedSchema(), 400: errorSchema, 409: errorSchema },
      },
    },
    async (request, reply) => {
      const { clientCode } = tenantOf(request);
      const body = request.body as { to: string; subject: string; text?: string; html?: string };
      if (!body.text && !body.html) {
        throw badRequest("ECODRIX_VALIDATION_FAILED", "body/text or body/html is required (not empty)");
      }
      const { secretsSet, datasource } = await deps.clients.get(clientCode);
      const missing = missingSmtpSecrets((field) => secretsSet.includes(field));
      if (missing.length > 0) {
        throw conflict(EMAIL_NOT_CONFIGURED, emailNotConfiguredMessage(clientCode, missing));
      }
      // The send is recorded in the clinic's message log: without its database the job could only fail.
      if (!datasource.registered) throw noTenantConnection(clientCode);
      const job = await enqueueJob(deps.queue, sendEmailContract, { clientCode, payload: body });
      return reply.status(202).send({ jobId: String(job._id) });
    },
  );
}
