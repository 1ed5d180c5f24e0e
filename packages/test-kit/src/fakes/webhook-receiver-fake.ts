import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { Webhook } from "standardwebhooks";
import type { CapturedMessage, SandboxFake, SandboxFakeEntry } from "./sandbox-fake.js";

/**
 * A client's webhook receiver, a real HTTP server on a free loopback port. Each endpoint
 * (`/hooks/<id>`) knows the client's `automationWebhookSecret` and verifies every delivery with the
 * `standardwebhooks` package — an implementation independent of the product's — keyed `whsec_` + base64
 * of the secret's UTF-8 bytes. A bad or missing signature is answered 401 `HMAC mismatch` (what a client's
 * receiver says when the secret is wrong, runbook §8); a good one gets the endpoint's next scripted answer
 * (410, 500, slow, a redirect …) or 200. Every delivery is recorded.
 *
 * Endpoints are added in code (`addEndpoint`) or over HTTP (`POST /_fake/endpoints {"secret": "…"}`, as
 * the sandbox's notes show), and the deliveries are listed at `GET /_fake/deliveries`.
 */
export type WebhookReceiverAnswer =
  /** Answer with this status (and body; default `ok` for 2xx, else a short reason). */
  | { status: number; body?: string }
  /** Wait this long before answering (longer than the sender's timeout: it gives up first). */
  | { delayMs: number; status?: number }
  /** A redirect (default 302) to `location`; a sender must not follow it. */
  | { redirectTo: string; status?: number };

export interface WebhookEndpointOptions {
  /** The client's `automationWebhookSecret`, as the client holds it. */
  secret: string;
  /** Answers for the next verified deliveries, in order; then `always`, else 200. */
  answers?: WebhookReceiverAnswer[];
  always?: WebhookReceiverAnswer;
}

export interface WebhookEndpoint {
  id: string;
  url: string;
}

export interface ReceivedWebhook {
  endpointId: string;
  url: string;
  at: Date;
  webhookId: string | undefined;
  webhookTimestamp: string | undefined;
  webhookSignature: string | undefined;
  body: string;
  /** True when `standardwebhooks` verified the signature (and the timestamp's 5-minute window). */
  verified: boolean;
  /** Why verification failed (the library's message). */
  verifyError: string | undefined;
  /** The parsed body, when verified. */
  payload: { type?: string; timestamp?: string; data?: unknown } | undefined;
  /** The status the receiver answered (undefined while a slow answer is pending). */
  answered: number | undefined;
}

export interface WebhookReceiverFake {
  /** The server's root, e.g. `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly deliveries: ReceivedWebhook[];
  addEndpoint(options: WebhookEndpointOptions): WebhookEndpoint;
  /** Replaces an endpoint's scripted answers. */
  script(endpointId: string, answers: WebhookReceiverAnswer[], always?: WebhookReceiverAnswer): void;
  deliveriesTo(endpointId: string): ReceivedWebhook[];
  stop(): Promise<void>;
}

interface EndpointState {
  id: string;
  secret: string;
  answers: WebhookReceiverAnswer[];
  always: WebhookReceiverAnswer | undefined;
}

async function readBody(request: IncomingMessage, limit = 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of request) {
    length += (chunk as Buffer).length;
    if (length > limit) throw new Error("body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function text(response: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) {
  if (response.headersSent) return;
  response.writeHead(status, { "content-type": "text/plain; charset=utf-8", ...headers }).end(body);
}

const header = (request: IncomingMessage, name: string) => {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

const isAnswer = (value: unknown): value is WebhookReceiverAnswer =>
  typeof value === "object" &&
  value !== null &&
  (typeof (value as { status?: unknown }).status === "number" ||
    typeof (value as { delayMs?: unknown }).delayMs === "number" ||
    typeof (value as { redirectTo?: unknown }).redirectTo === "string");

export async function startWebhookReceiverFake(): Promise<WebhookReceiverFake> {
  const endpoints = new Map<string, EndpointState>();
  const deliveries: ReceivedWebhook[] = [];
  let url = "";

  function addEndpoint(options: WebhookEndpointOptions): WebhookEndpoint {
    const id = randomBytes(6).toString("hex");
    endpoints.set(id, {
      id,
      secret: options.secret,
      answers: [...(options.answers ?? [])],
      always: options.always,
    });
    return { id, url: `${url}/hooks/${id}` };
  }

  async function receive(endpoint: EndpointState, request: IncomingMessage, response: ServerResponse) {
    const body = await readBody(request);
    const delivery: ReceivedWebhook = {
      endpointId: endpoint.id,
      url: `${url}${request.url ?? ""}`,
      at: new Date(),
      webhookId: header(request, "webhook-id"),
      webhookTimestamp: header(request, "webhook-timestamp"),
      webhookSignature: header(request, "webhook-signature"),
      body,
      verified: false,
      verifyError: undefined,
      payload: undefined,
      answered: undefined,
    };
    deliveries.push(delivery);
    // The key exactly as a client configures a Standard Webhooks library with the product's secret.
    const key = `whsec_${Buffer.from(endpoint.secret, "utf8").toString("base64")}`;
    try {
      delivery.payload = new Webhook(key).verify(body, {
        "webhook-id": delivery.webhookId ?? "",
        "webhook-timestamp": delivery.webhookTimestamp ?? "",
        "webhook-signature": delivery.webhookSignature ?? "",
      }) as ReceivedWebhook["payload"];
      delivery.verified = true;
    } catch (error) {
      delivery.verifyError = error instanceof Error ? error.message : String(error);
      delivery.answered = 401;
      text(response, 401, "HMAC mismatch");
      return;
    }
    const answer = endpoint.answers.shift() ?? endpoint.always ?? { status: 200 };
    if ("delayMs" in answer) {
      await sleep(answer.delayMs);
      delivery.answered = answer.status ?? 200;
      text(response, delivery.answered, "ok (late)");
      return;
    }
    if ("redirectTo" in answer) {
      delivery.answered = answer.status ?? 302;
      text(response, delivery.answered, "moved", { location: answer.redirectTo });
      return;
    }
    delivery.answered = answer.status;
    text(
      response,
      answer.status,
      answer.body ?? (answer.status < 300 ? "ok" : answer.status === 410 ? "endpoint removed" : "failed"),
    );
  }

  async function control(request: IncomingMessage, response: ServerResponse, path: string) {
    if (request.method === "POST" && path === "/_fake/endpoints") {
      let options: Record<string, unknown>;
      try {
        options = JSON.parse(await readBody(request, 64 * 1024)) as Record<string, unknown>;
      } catch {
        text(response, 400, 'expected JSON {"secret": "<automationWebhookSecret>"}');
        return;
      }
      const answers = Array.isArray(options.answers) ? options.answers.filter(isAnswer) : [];
      if (typeof options.secret !== "string" || options.secret.length === 0) {
        text(response, 400, 'expected JSON {"secret": "<automationWebhookSecret>"}');
        return;
      }
      const endpoint = addEndpoint({
        secret: options.secret,
        answers,
        ...(isAnswer(options.always) ? { always: options.always } : {}),
      });
      response.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify(endpoint));
      return;
    }
    if (request.method === "GET" && path === "/_fake/deliveries") {
      response
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ deliveries: deliveries.map(({ body: _body, ...rest }) => rest) }));
      return;
    }
    text(response, 404, "not found");
  }

  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    const handle = async () => {
      if (path.startsWith("/_fake/")) return control(request, response, path);
      const match = /^\/hooks\/([0-9a-f]+)$/.exec(path);
      const endpoint = match?.[1] ? endpoints.get(match[1]) : undefined;
      if (!endpoint || request.method !== "POST") {
        text(response, 404, "no such webhook endpoint");
        return;
      }
      return receive(endpoint, request, response);
    };
    handle().catch((error: unknown) => text(response, 500, String(error)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    deliveries,
    addEndpoint,
    script(endpointId, answers, always) {
      const endpoint = endpoints.get(endpointId);
      if (!endpoint) throw new Error(`no endpoint ${endpointId}`);
      endpoint.answers = [...answers];
      endpoint.always = always;
    },
    deliveriesTo: (endpointId) => deliveries.filter((delivery) => delivery.endpointId === endpointId),
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The sandbox's webhook receiver: register the client's secret, subscribe the URL it gives. */
export const webhookReceiverSandboxFake: SandboxFakeEntry = {
  name: "webhooks",
  async start(): Promise<SandboxFake> {
    const fake = await startWebhookReceiverFake();
    return {
      name: "webhooks",
      env: {},
      notes: [
        `Webhook receiver at ${fake.url}: it verifies signatures (Standard Webhooks) with the secret you give it`,
        `  curl -X POST ${fake.url}/_fake/endpoints -d '{"secret":"<automationWebhookSecret>"}'   # → {"id","url"}: subscribe that url (runbook §1 step 8)`,
      ],
      captured: () =>
        fake.deliveries.map((delivery): CapturedMessage => {
          const type = delivery.payload?.type ?? "(unverified)";
          const outcome = delivery.verified ? "signature verified" : "HMAC mismatch";
          return {
            service: "webhooks",
            kind: "webhook.delivery",
            at: delivery.at.toISOString(),
            to: [delivery.url],
            summary: `${type} ${delivery.webhookId ?? "(no webhook-id)"} → ${delivery.answered ?? "pending"} (${outcome})`,
            data: {
              endpointId: delivery.endpointId,
              webhookId: delivery.webhookId ?? null,
              webhookTimestamp: delivery.webhookTimestamp ?? null,
              verified: delivery.verified,
              answered: delivery.answered ?? null,
              ...(delivery.verified ? { payload: delivery.payload } : { verifyError: delivery.verifyError }),
            },
          };
        }),
      stop: () => fake.stop(),
    };
  },
};
