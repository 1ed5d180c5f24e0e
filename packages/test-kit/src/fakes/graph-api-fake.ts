import { createHmac, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import type { CapturedMessage, SandboxFake, SandboxFakeEntry } from "./sandbox-fake.js";

/**
 * A fake of the WhatsApp Cloud API (Graph API) endpoints the product calls, a real HTTP server on a free
 * loopback port answering in Meta's shapes:
 * - `GET /{version}/{businessId}/message_templates` pages templates (`limit`, `after`, `paging.next` as an
 *   absolute URL, as Meta does);
 * - `POST /{version}/{phoneNumberId}/messages` accepts a template message after `answerDelayMs` and
 *   answers `{ messages: [{ id: "wamid…" }] }`;
 * - errors are injected by template name or recipient (`{ error: { code, message, … } }`, with an HTTP
 *   status and optional Retry-After), for a number of times or for good;
 * - status webhooks (`sent`, `delivered`, `read`, `failed`) and inbound messages are posted to a
 *   subscribed URL, signed with `X-Hub-Signature-256` like Meta signs them.
 */
export interface FakeTemplate {
  name: string;
  language: string;
  status: string;
  category: string;
  components: Record<string, unknown>[];
  id: string;
}

export interface InjectedGraphError {
  /** HTTP status of the answer (Meta uses 400 for most, 401 for 190, 429 for throttling, 5xx). */
  status: number;
  code: number;
  message: string;
  subcode?: number;
  type?: string;
  /** Seconds, sent as `Retry-After`. */
  retryAfter?: number;
  /** Answer with this error this many times, then normally (default: every time). */
  times?: number;
}

export interface FakeSentMessage {
  wamid: string;
  phoneNumberId: string;
  /** As the product sent it (digits, no `+`). */
  to: string;
  templateName: string;
  language: string;
  components: unknown[];
  token: string;
  receivedAt: Date;
  answeredAt: Date | undefined;
}

export interface GraphWebhookSubscription {
  url: string;
  appSecret: string;
  /** Only sends from this number (default: every number). */
  phoneNumberId?: string;
  /** Statuses posted by themselves after each accepted send (default none; the sandbox posts sent, delivered). */
  autoStatuses?: ("sent" | "delivered" | "read")[];
}

export interface GraphApiFakeOptions {
  /** Milliseconds before a send is answered (default 50, like a near Meta region). */
  answerDelayMs?: number;
  /** Templates of business ids not set with `setTemplates` (default: a small approved set). */
  defaultTemplates?: FakeTemplate[];
}

export interface GraphApiFake {
  readonly url: string;
  readonly settings: { WHATSAPP_GRAPH_BASE_URL: string };
  readonly sent: FakeSentMessage[];
  /** Requests seen, for assertions (method, path, query). */
  readonly requests: { method: string; path: string; query: Record<string, string>; at: Date }[];
  answerDelayMs: number;
  setTemplates(businessId: string, templates: FakeTemplate[]): void;
  failTemplate(name: string, error: InjectedGraphError): void;
  failRecipient(to: string, error: InjectedGraphError): void;
  /** Tokens answered with error 190 (expired / invalid). */
  rejectToken(token: string): void;
  clearFailures(): void;
  subscribe(subscription: GraphWebhookSubscription): void;
  /** Posts a signed status webhook for a sent message; resolves to the receiver's HTTP status. */
  postStatus(
    wamid: string,
    status: "sent" | "delivered" | "read" | "failed",
    options?: { error?: { code: number; title: string; message?: string }; timestamp?: number },
  ): Promise<number>;
  /** Posts a signed inbound text message from `from` (digits) to a phone number id. */
  postInbound(phoneNumberId: string, from: string, text: string): Promise<{ status: number; wamid: string }>;
  stop(): Promise<void>;
}

export const DEFAULT_FAKE_TEMPLATES: FakeTemplate[] = [
  {
    name: "appointment_confirmed",
    language: "en_US",
    status: "APPROVED",
    category: "UTILITY",
    id: "100000000000001",
    components: [
      { type: "BODY", text: "Hello {{1}}, your appointment on {{2}} is confirmed." },
      { type: "FOOTER", text: "Reply STOP to opt out" },
    ],
  },
  {
    name: "appointment_reminder",
    language: "en_US",
    status: "APPROVED",
    category: "UTILITY",
    id: "100000000000002",
    components: [
      { type: "HEADER", format: "TEXT", text: "Reminder for {{1}}" },
      { type: "BODY", text: "Your appointment is tomorrow at {{1}}." },
    ],
  },
  {
    name: "hello_world",
    language: "en_US",
    status: "APPROVED",
    category: "UTILITY",
    id: "100000000000003",
    components: [{ type: "BODY", text: "Hello World" }],
  },
  {
    name: "spring_offer",
    language: "en_US",
    status: "PENDING",
    category: "MARKETING",
    id: "100000000000004",
    components: [{ type: "BODY", text: "Spring offer: {{1}} off" }],
  },
];

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  response.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
}

function graphError(response: ServerResponse, error: InjectedGraphError): void {
  json(
    response,
    error.status,
    {
      error: {
        message: error.message,
        type: error.type ?? (error.code === 190 ? "OAuthException" : "OAuthException"),
        code: error.code,
        ...(error.subcode === undefined ? {} : { error_subcode: error.subcode }),
        error_data: { messaging_product: "whatsapp", details: error.message },
        fbtrace_id: randomBytes(8).toString("hex"),
      },
    },
    error.retryAfter === undefined ? {} : { "retry-after": String(error.retryAfter) },
  );
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startGraphApiFake(options: GraphApiFakeOptions = {}): Promise<GraphApiFake> {
  const templatesByBusiness = new Map<string, FakeTemplate[]>();
  const defaults = options.defaultTemplates ?? DEFAULT_FAKE_TEMPLATES;
  const byTemplate = new Map<string, InjectedGraphError>();
  const byRecipient = new Map<string, InjectedGraphError>();
  const rejectedTokens = new Set<string>();
  const subscriptions: GraphWebhookSubscription[] = [];
  const sent: FakeSentMessage[] = [];
  const requests: GraphApiFake["requests"] = [];
  let url = "";

  /** Consumes one use of an injected error; undefined when none applies (any more). */
  function take(map: Map<string, InjectedGraphError>, key: string): InjectedGraphError | undefined {
    const error = map.get(key);
    if (!error) return undefined;
    if (error.times !== undefined) {
      if (error.times <= 0) return undefined;
      error.times--;
    }
    return error;
  }

  function subscriptionFor(phoneNumberId: string): GraphWebhookSubscription | undefined {
    return subscriptions.find((entry) => !entry.phoneNumberId || entry.phoneNumberId === phoneNumberId);
  }

  async function post(
    subscription: GraphWebhookSubscription,
    value: Record<string, unknown>,
  ): Promise<number> {
    const body = JSON.stringify({
      object: "whatsapp_business_account",
      entry: [
        {
          id: "fake-waba",
          changes: [{ field: "messages", value: { messaging_product: "whatsapp", ...value } }],
        },
      ],
    });
    const signature = `sha256=${createHmac("sha256", subscription.appSecret).update(body).digest("hex")}`;
    const answer = await request(subscription.url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-hub-signature-256": signature },
      body,
    });
    await answer.body.dump();
    return answer.statusCode;
  }

  async function postStatus(
    wamid: string,
    status: "sent" | "delivered" | "read" | "failed",
    statusOptions: { error?: { code: number; title: string; message?: string }; timestamp?: number } = {},
  ): Promise<number> {
    const message = sent.find((entry) => entry.wamid === wamid);
    const phoneNumberId = message?.phoneNumberId ?? "unknown";
    const subscription = subscriptionFor(phoneNumberId);
    if (!subscription) throw new Error(`no webhook subscription for phone number ${phoneNumberId}`);
    return post(subscription, {
      metadata: { display_phone_number: "15550000000", phone_number_id: phoneNumberId },
      statuses: [
        {
          id: wamid,
          status,
          timestamp: String(statusOptions.timestamp ?? Math.floor(Date.now() / 1000)),
          recipient_id: message?.to ?? "0",
          ...(statusOptions.error
            ? {
                errors: [
                  {
                    code: statusOptions.error.code,
                    title: statusOptions.error.title,
                    message: statusOptions.error.message ?? statusOptions.error.title,
                  },
                ],
              }
            : {}),
        },
      ],
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsed = new URL(req.url ?? "/", url);
    const query = Object.fromEntries(parsed.searchParams);
    requests.push({ method: req.method ?? "GET", path: parsed.pathname, query, at: new Date() });
    const parts = parsed.pathname.split("/").filter(Boolean);
    const token = (req.headers.authorization ?? "").replace(/^Bearer\s+/i, "");
    const body = await readBody(req);

    if (parts[0] === "_fake" && req.method === "POST") {
      const input = body ? (JSON.parse(body) as Record<string, string>) : {};
      if (parts[1] === "webhooks") {
        subscriptions.unshift({
          url: String(input.url),
          appSecret: String(input.appSecret),
          ...(input.phoneNumberId ? { phoneNumberId: String(input.phoneNumberId) } : {}),
          autoStatuses: ["sent", "delivered"],
        });
        return json(res, 201, { subscribed: true });
      }
      if (parts[1] === "inbound") {
        const result = await fake.postInbound(
          String(input.phoneNumberId),
          String(input.from),
          String(input.text),
        );
        return json(res, 200, result);
      }
      return json(res, 404, { error: "unknown fake control route" });
    }
    if (!/^v\d+\.\d+$/.test(parts[0] ?? "")) {
      return graphError(res, { status: 400, code: 2500, message: "Unknown path components" });
    }
    if (!token) {
      return graphError(res, { status: 400, code: 2500, message: "An active access token must be used" });
    }
    if (rejectedTokens.has(token)) {
      return graphError(res, {
        status: 401,
        code: 190,
        message: "Error validating access token: Session has expired",
        subcode: 463,
      });
    }
    if (req.method === "GET" && parts.length === 3 && parts[2] === "message_templates") {
      const all = templatesByBusiness.get(parts[1] ?? "") ?? defaults;
      const limit = Math.max(1, Math.min(Number(query.limit ?? 25) || 25, 100));
      const after = Number(query.after ?? 0) || 0;
      const data = all.slice(after, after + limit);
      const nextAfter = after + limit;
      const next = new URL(parsed.pathname, url);
      for (const [key, value] of parsed.searchParams) if (key !== "after") next.searchParams.set(key, value);
      next.searchParams.set("after", String(nextAfter));
      return json(res, 200, {
        data,
        paging: {
          cursors: { before: String(after), after: String(nextAfter) },
          ...(nextAfter < all.length ? { next: next.toString() } : {}),
        },
      });
    }
    if (req.method === "POST" && parts.length === 3 && parts[2] === "messages") {
      const phoneNumberId = parts[1] ?? "";
      let message: {
        to?: string;
        type?: string;
        template?: { name?: string; language?: { code?: string }; components?: unknown[] };
      };
      try {
        message = JSON.parse(body);
      } catch {
        return graphError(res, { status: 400, code: 100, message: "Invalid parameter" });
      }
      const templateName = message.template?.name ?? "";
      const receivedAt = new Date();
      if (answerDelay() > 0) await sleep(answerDelay());
      const injected = take(byTemplate, templateName) ?? take(byRecipient, message.to ?? "");
      if (injected) return graphError(res, injected);
      if (message.type !== "template" || !templateName || !message.to) {
        return graphError(res, { status: 400, code: 100, message: "(#100) Invalid parameter" });
      }
      const wamid = `wamid.${Buffer.from(randomBytes(18)).toString("base64url")}`;
      const entry: FakeSentMessage = {
        wamid,
        phoneNumberId,
        to: message.to,
        templateName,
        language: message.template?.language?.code ?? "",
        components: message.template?.components ?? [],
        token,
        receivedAt,
        answeredAt: new Date(),
      };
      sent.push(entry);
      json(res, 200, {
        messaging_product: "whatsapp",
        contacts: [{ input: message.to, wa_id: message.to.replace(/^\+/, "") }],
        messages: [{ id: wamid, message_status: "accepted" }],
      });
      const subscription = subscriptionFor(phoneNumberId);
      if (subscription?.autoStatuses?.length) {
        void (async () => {
          for (const status of subscription.autoStatuses ?? []) {
            await sleep(200);
            await postStatus(wamid, status).catch(() => {});
          }
        })();
      }
      return;
    }
    return graphError(res, { status: 400, code: 100, message: "Unsupported request" });
  }

  const answerDelay = () => fake.answerDelayMs;
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) json(res, 500, { error: { message: String(error), code: 1 } });
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const fake: GraphApiFake = {
    url,
    settings: { WHATSAPP_GRAPH_BASE_URL: url },
    sent,
    requests,
    answerDelayMs: options.answerDelayMs ?? 50,
    setTemplates: (businessId, templates) => templatesByBusiness.set(businessId, templates),
    failTemplate: (name, error) => byTemplate.set(name, { ...error }),
    failRecipient: (to, error) => byRecipient.set(to.replace(/^\+/, ""), { ...error }),
    rejectToken: (token) => rejectedTokens.add(token),
    clearFailures() {
      byTemplate.clear();
      byRecipient.clear();
      rejectedTokens.clear();
    },
    subscribe: (subscription) => subscriptions.unshift(subscription),
    postStatus,
    async postInbound(phoneNumberId, from, text) {
      const subscription = subscriptionFor(phoneNumberId);
      if (!subscription) throw new Error(`no webhook subscription for phone number ${phoneNumberId}`);
      const wamid = `wamid.${randomBytes(18).toString("base64url")}`;
      const status = await post(subscription, {
        metadata: { display_phone_number: "15550000000", phone_number_id: phoneNumberId },
        contacts: [{ profile: { name: "Sandbox Patient" }, wa_id: from }],
        messages: [
          {
            from,
            id: wamid,
            timestamp: String(Math.floor(Date.now() / 1000)),
            type: "text",
            text: { body: text },
          },
        ],
      });
      return { status, wamid };
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}

/** The sandbox's WhatsApp: every business id has the default templates; sends appear in the outbox. */
export const graphApiSandboxFake: SandboxFakeEntry = {
  name: "whatsapp",
  async start(): Promise<SandboxFake> {
    const fake = await startGraphApiFake();
    return {
      name: "whatsapp",
      env: fake.settings,
      notes: [
        `WhatsApp Graph API fake at ${fake.url}: any token, business id and phone number id work; templates appointment_confirmed, appointment_reminder, hello_world (approved) and spring_offer (pending)`,
        `  status webhooks: POST ${fake.url}/_fake/webhooks {"url":"<BASE>/api/webhooks/whatsapp/<clientCode>","appSecret":"<whatsappAppSecret>"}`,
      ],
      captured: () =>
        fake.sent.map(
          (message): CapturedMessage => ({
            service: "whatsapp",
            kind: "whatsapp.message",
            at: message.receivedAt.toISOString(),
            to: [`+${message.to}`],
            summary: `Template ${message.templateName} (${message.language}) to +${message.to} from ${message.phoneNumberId}: ${message.wamid}`,
            data: {
              wamid: message.wamid,
              phoneNumberId: message.phoneNumberId,
              templateName: message.templateName,
              language: message.language,
              components: message.components,
            },
          }),
        ),
      stop: () => fake.stop(),
    };
  },
};
