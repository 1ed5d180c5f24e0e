import type { ClientService } from "@ecodrix/domain";
import { whatsappSignatureMatches, whatsappWebhookContract } from "@ecodrix/integrations";
import { badRequest, unauthorized } from "@ecodrix/platform";
import { enqueueJob, type QueueProducer } from "@ecodrix/queue";
import type { FastifyInstance, FastifyRequest } from "fastify";

const clientCodeParams = {
  type: "object",
  additionalProperties: false,
  properties: { clientCode: { type: "string", minLength: 1, maxLength: 40 } },
  required: ["clientCode"],
} as const;

/** The exact body bytes of each webhook request: the signature is over them, not over re-serialised JSON. */
const rawBodies = new WeakMap<FastifyRequest, Buffer>();

/**
 * Meta's inbound webhook, per client (public: Meta calls it). GET answers the subscription handshake
 * with the client's `whatsappWebhookToken`; POST verifies `X-Hub-Signature-256` with the client's
 * `whatsappAppSecret` over the raw body, then enqueues the body as a `whatsapp_webhook` job and answers
 * 200 at once (Meta retries slow or failed deliveries). An unknown client is indistinguishable from a wrong
 * token or signature.
 */
export async function whatsappWebhookRoutes(
  app: FastifyInstance,
  deps: { clients: Pick<ClientService, "getSecrets">; queue: Pick<QueueProducer, "enqueue"> },
): Promise<void> {
  await app.register(async (scope) => {
    scope.removeContentTypeParser("application/json");
    scope.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body, done) => {
      const raw = body as Buffer;
      rawBodies.set(request, raw);
      try {
        done(null, JSON.parse(raw.toString("utf8")));
      } catch {
        // Judged after the signature: an unsigned body gets 401 whatever it holds.
        done(null, undefined);
      }
    });

    scope.get(
      "/api/webhooks/whatsapp/:clientCode",
      {
        schema: {
          summary: "Meta webhook verification (subscription handshake)",
          description:
            "Answers hub.challenge as plain text when hub.mode is subscribe and hub.verify_token is the client's whatsappWebhookToken; else 403.",
          tags: ["public"],
          params: clientCodeParams,
          querystring: {
            type: "object",
            properties: {
              "hub.mode": { type: "string", maxLength: 40 },
              "hub.verify_token": { type: "string", maxLength: 4096 },
              "hub.challenge": { type: "string", maxLength: 1024 },
            },
          },
          // Plain text, as Meta expects: documented so, or clients (and the fuzzer) expect JSON.
          response: {
            200: {
              description: "hub.challenge, echoed",
              content: { "text/plain": { schema: { type: "string" } } },
            },
            403: {
              description: "Not subscribe, or the wrong verify token",
              content: { "text/plain": { schema: { type: "string" } } },
            },
          },
        },
      },
      async (request, reply) => {
        const { clientCode } = request.params as { clientCode: string };
        const query = request.query as Record<string, string | undefined>;
        const secrets = await deps.clients.getSecrets(clientCode);
        const expected = secrets.whatsappWebhookToken;
        const given = query["hub.verify_token"];
        if (
          query["hub.mode"] !== "subscribe" ||
          typeof expected !== "string" ||
          typeof given !== "string" ||
          !sameText(given, expected)
        ) {
          return reply.status(403).type("text/plain; charset=utf-8").send("Forbidden");
        }
        return reply
          .status(200)
          .type("text/plain; charset=utf-8")
          .send(query["hub.challenge"] ?? "");
      },
    );

    scope.post(
      "/api/webhooks/whatsapp/:clientCode",
      {
        schema: {
          summary: "Meta webhook events (message statuses, inbound messages)",
          description:
            "X-Hub-Signature-256 must be sha256= + the hex HMAC-SHA256 of the raw body keyed with the client's whatsappAppSecret; else 401 `HMAC mismatch` and nothing is stored. A verified body is queued (whatsapp_webhook) and answered 200 at once.",
          tags: ["public"],
          params: clientCodeParams,
          response: {
            200: {
              type: "object",
              additionalProperties: false,
              properties: { received: { type: "boolean" }, jobId: { type: "string" } },
            },
          },
        },
      },
      async (request) => {
        const { clientCode } = request.params as { clientCode: string };
        const raw = rawBodies.get(request) ?? Buffer.alloc(0);
        const secrets = await deps.clients.getSecrets(clientCode);
        const appSecret = secrets.whatsappAppSecret;
        const header = request.headers["x-hub-signature-256"];
        if (
          typeof appSecret !== "string" ||
          !whatsappSignatureMatches(raw, typeof header === "string" ? header : undefined, appSecret)
        ) {
          throw unauthorized("ECODRIX_WHATSAPP_HMAC_MISMATCH", "HMAC mismatch");
        }
        const body = request.body as { object?: string; entry?: unknown[] } | undefined;
        if (!body || typeof body !== "object" || !Array.isArray(body.entry)) {
          throw badRequest(
            "ECODRIX_WHATSAPP_WEBHOOK_INVALID",
            "body/entry is required: expected Meta's webhook body { object, entry: [...] }",
          );
        }
        const job = await enqueueJob(deps.queue, whatsappWebhookContract, {
          clientCode,
          payload: body as { entry: unknown[] },
        });
        return { received: true, jobId: String(job._id) };
      },
    );
  });
}

/** Constant-time text comparison (the verify token is a secret). */
function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  if (left.length !== right.length) return false;
  let diff = 0;
  for (let index = 0; index < left.length; index++)
    diff |= (left[index] as number) ^ (right[index] as number);
  return diff === 0;
}
