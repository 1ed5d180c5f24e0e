import { AppError, serviceUnavailable } from "@ecodrix/platform";
import type { FastifyInstance } from "fastify";

const messageSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    service: { type: "string", description: "The fake that captured it: google, whatsapp, smtp, webhooks …" },
    kind: { type: "string" },
    at: { type: "string", format: "date-time" },
    to: { type: "array", items: { type: "string" } },
    summary: { type: "string" },
    data: { type: "object", additionalProperties: true },
  },
} as const;

interface OutboxMessage {
  id: string;
  service: string;
  at: string;
}

/**
 * Sandbox mode only (`ECODRIX_SANDBOX=true npm start`): what the local fakes of Google, WhatsApp, SMTP and
 * webhook receivers captured, newest first. The start command runs the fakes and serves their captures on
 * a loopback address (SANDBOX_OUTBOX_URL); this route reads it.
 */
export function sandboxRoutes(app: FastifyInstance, deps: { outboxUrl: string | undefined }): void {
  app.get(
    "/api/sandbox/outbox",
    {
      schema: {
        summary: "Sandbox: messages the fakes captured (newest first)",
        tags: ["admin"],
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            service: { type: "string", maxLength: 50 },
            limit: { type: "integer", minimum: 1, maximum: 1000, default: 50 },
            cursor: { type: "string", pattern: "^[0-9]{1,9}$" },
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              messages: { type: "array", items: messageSchema },
              nextCursor: { type: ["string", "null"] },
            },
          },
        },
      },
    },
    async (request) => {
      if (!deps.outboxUrl) {
        throw serviceUnavailable(
          "ECODRIX_SANDBOX_NO_OUTBOX",
          "No sandbox outbox: start the product with `ECODRIX_SANDBOX=true npm start`, which runs the fakes and sets SANDBOX_OUTBOX_URL",
        );
      }
      const { service, limit, cursor } = request.query as {
        service?: string;
        limit: number;
        cursor?: string;
      };
      let all: OutboxMessage[];
      try {
        const response = await fetch(deps.outboxUrl, { signal: AbortSignal.timeout(5_000) });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        all = ((await response.json()) as { messages: OutboxMessage[] }).messages;
      } catch (error) {
        throw new AppError(
          "ECODRIX_SANDBOX_OUTBOX_UNREACHABLE",
          `The sandbox outbox at ${deps.outboxUrl} did not answer (${(error as Error).message}): is npm start still running?`,
          502,
          { expose: true },
        );
      }
      const newestFirst = all.filter((message) => !service || message.service === service).reverse();
      const offset = cursor ? Number(cursor) : 0;
      const page = newestFirst.slice(offset, offset + limit);
      const next = offset + page.length;
      return { messages: page, nextCursor: next < newestFirst.length ? String(next) : null };
    },
  );
}
