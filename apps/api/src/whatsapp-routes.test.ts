import { createHmac, randomBytes } from "node:crypto";
import { messageLogOf, templatesOf } from "@ecodrix/integrations";
// biome-ignore lint/style/noRestrictedImports: the test runs the worker's own handler on the job the route queued
import { whatsappWebhookJob } from "@ecodrix/integrations/whatsapp";
import { createLogger } from "@ecodrix/platform";
import { createClusterRateLimiter, createJobRegistry, type JobDocument } from "@ecodrix/queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  dropTenantDatabases,
  onboardTenant,
  startTestApi,
  type TestApi,
  tenantHeaders,
} from "../test/test-app.js";

const APP_SECRET = "meta-app-secret-0123456789";
const VERIFY_TOKEN = "verify-me-please";

/** Meta's signature of a body, computed here independently of the product's helper. */
const sign = (body: string, secret = APP_SECRET) =>
  `sha256=${createHmac("sha256", secret).update(Buffer.from(body, "utf8")).digest("hex")}`;

describe("WhatsApp routes: inbound webhook, templates, messages", () => {
  let api: TestApi;
  let apiKey = "";
  const clientCode = "sunrise";
  const webhook = `/api/webhooks/whatsapp/${clientCode}`;

  beforeAll(async () => {
    api = await startTestApi();
    const tenant = await onboardTenant(api, clientCode, {
      client: { name: "Sunrise Clinic" },
      secrets: {
        whatsappToken: "tok",
        whatsappBusinessId: "waba",
        whatsappPhoneNumberId: "pn",
        whatsappWebhookToken: VERIFY_TOKEN,
        whatsappAppSecret: APP_SECRET,
      },
    });
    apiKey = tenant.apiKey;
  });

  afterAll(async () => {
    await dropTenantDatabases(api, [clientCode]);
    await api.close();
  });

  /** Runs one whatsapp_webhook job with the worker's real handler. */
  async function runWebhookJob(jobId: string) {
    const job = (await api.queue.get(jobId)) as JobDocument;
    const registry = createJobRegistry([whatsappWebhookJob], {
      config: {
        whatsapp: {
          graphBaseUrl: "http://127.0.0.1:9",
          graphVersion: "v23.0",
          messagesPerSecond: 80,
          templateSyncCron: "0 */6 * * *",
        },
      },
      tenancy: api.tenancy,
      queue: api.queue,
      rateLimiter: createClusterRateLimiter(api.db),
      clock: () => new Date(),
    });
    return registry.get("whatsapp_webhook")?.handler({
      job,
      log: createLogger({ level: "silent", name: "t" }),
      signal: new AbortController().signal,
      progress: async () => true,
    });
  }

  const statusBody = (
    wamid: string,
    status: string,
    timestamp: number,
    error?: { code: number; title: string },
  ) =>
    JSON.stringify({
      object: "whatsapp_business_account",
      entry: [
        {
          id: "waba",
          changes: [
            {
              field: "messages",
              value: {
                messaging_product: "whatsapp",
                metadata: { phone_number_id: "pn" },
                statuses: [
                  {
                    id: wamid,
                    status,
                    timestamp: String(timestamp),
                    recipient_id: "919812345678",
                    ...(error ? { errors: [error] } : {}),
                  },
                ],
              },
            },
          ],
        },
      ],
    });

  async function post(body: string, signature: string | undefined) {
    return api.app.inject({
      method: "POST",
      url: webhook,
      headers: {
        "content-type": "application/json",
        ...(signature === undefined ? {} : { "x-hub-signature-256": signature }),
      },
      payload: body,
    });
  }

  it("handshake: the client's verify token gets hub.challenge as plain text; anything else 403", async () => {
    const ok = await api.app.inject({
      method: "GET",
      url: `${webhook}?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`,
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers["content-type"]).toMatch(/^text\/plain/);
    expect(ok.body).toBe("1158201444");
    for (const url of [
      `${webhook}?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1`,
      `${webhook}?hub.mode=unsubscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1`,
      `${webhook}?hub.challenge=1`,
      `/api/webhooks/whatsapp/nosuchclinic?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1`,
    ]) {
      const refused = await api.app.inject({ method: "GET", url });
      expect(refused.statusCode, url).toBe(403);
      expect(refused.body).not.toContain("1");
    }
  });

  it("a bad or missing signature is 401 `HMAC mismatch` and nothing is stored", async () => {
    const body = statusBody("wamid.X", "delivered", 1_700_000_000);
    const before = await api.queue.stats();
    for (const signature of [
      undefined,
      "sha256=00",
      sign(body, "another-secret"),
      sign(`${body} `),
      sign(body).toUpperCase().replace("SHA256", "sha1"),
    ]) {
      const response = await post(body, signature);
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({
        statusCode: 401,
        message: "HMAC mismatch",
        code: "ECODRIX_WHATSAPP_HMAC_MISMATCH",
      });
    }
    // An unknown client cannot be told apart from a wrong signature.
    const unknown = await api.app.inject({
      method: "POST",
      url: "/api/webhooks/whatsapp/nosuchclinic",
      headers: { "content-type": "application/json", "x-hub-signature-256": sign(body) },
      payload: body,
    });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json().message).toBe("HMAC mismatch");
    expect(await api.queue.stats()).toEqual(before);
  });

  it("the signature is over the raw bytes: a body with spacing JSON.stringify would not reproduce verifies", async () => {
    const body = `{ "object" : "whatsapp_business_account",\n  "entry": [] }`;
    const response = await post(body, sign(body));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ received: true });
  });

  it("statuses move the message log forward only (accepted < sent < delivered < read); failed is final", async () => {
    const wamid = `wamid.${randomBytes(8).toString("hex")}`;
    const other = `wamid.${randomBytes(8).toString("hex")}`;
    await api.tenancy.tenantConnections.withDb(clientCode, async (db) => {
      const log = messageLogOf(db);
      for (const [jobId, id] of [
        ["job-a", wamid],
        ["job-b", other],
      ] as const) {
        await log.open(
          {
            jobId,
            channel: "whatsapp",
            to: "+919812345678",
            templateName: "t",
            language: "en_US",
            context: { leadId: "lead-1" },
          },
          new Date(),
        );
        await log.claimSend(jobId, new Date(), new Date(Date.now() + 10_000));
        await log.accepted(jobId, id, new Date());
      }
    });
    const statusOf = (id: string) =>
      api.tenancy.tenantConnections.withDb(
        clientCode,
        async (db) => (await messageLogOf(db).collection.findOne({ providerMessageId: id }))?.status,
      );

    // Out of order, as Meta may deliver them: delivered, then sent (ignored), then read.
    for (const [status, expected] of [
      ["delivered", "delivered"],
      ["sent", "delivered"],
      ["read", "read"],
      ["delivered", "read"],
    ] as const) {
      const body = statusBody(wamid, status, 1_700_000_000);
      const response = await post(body, sign(body));
      expect(response.statusCode).toBe(200);
      await runWebhookJob(response.json().jobId);
      expect(await statusOf(wamid)).toBe(expected);
    }
    const failedBody = statusBody(other, "failed", 1_700_000_100, {
      code: 131026,
      title: "Message undeliverable",
    });
    await runWebhookJob((await post(failedBody, sign(failedBody))).json().jobId);
    const readBody = statusBody(other, "read", 1_700_000_200);
    await runWebhookJob((await post(readBody, sign(readBody))).json().jobId);
    expect(await statusOf(other)).toBe("failed");

    // Each move of a message with a context told the CRM once.
    const told = await api.db.collection("jobs").find({ type: "message_status_changed" }).toArray();
    expect(told.map((job) => job.dedupeKey).sort()).toEqual(
      [`msg:${wamid}:delivered`, `msg:${wamid}:read`, `msg:${other}:failed`].sort(),
    );
    const failure = told.find((job) => job.dedupeKey === `msg:${other}:failed`);
    expect(failure?.payload).toMatchObject({
      channel: "whatsapp",
      messageId: other,
      status: "failed",
      at: new Date(1_700_000_100_000).toISOString(),
      error: "Meta error 131026: Message undeliverable",
      context: { leadId: "lead-1" },
    });

    // The log as the tenant sees it.
    const listed = await api.app.inject({
      method: "GET",
      url: "/api/saas/chat/messages?status=failed",
      headers: tenantHeaders(clientCode, apiKey),
    });
    expect(listed.statusCode).toBe(200);
    expect(listed.json().messages).toHaveLength(1);
    expect(listed.json().messages[0]).toMatchObject({
      jobId: "job-b",
      wamid: other,
      status: "failed",
      to: "+919812345678",
    });
    expect(listed.json().messages[0].errors[0]).toMatchObject({ code: "131026" });
  });

  it("inbound messages are recorded once per wamid (Meta redelivers)", async () => {
    const body = JSON.stringify({
      object: "whatsapp_business_account",
      entry: [
        {
          id: "waba",
          changes: [
            {
              field: "messages",
              value: {
                metadata: { phone_number_id: "pn" },
                contacts: [{ profile: { name: "Asha" }, wa_id: "919812345678" }],
                messages: [
                  {
                    from: "919812345678",
                    id: "wamid.IN1",
                    timestamp: "1700000000",
                    type: "text",
                    text: { body: "Can I come at 5?" },
                  },
                ],
              },
            },
          ],
        },
      ],
    });
    for (let round = 0; round < 2; round++) {
      const response = await post(body, sign(body));
      expect(response.statusCode).toBe(200);
      expect(await runWebhookJob(response.json().jobId)).toMatchObject({ inbound: round === 0 ? 1 : 0 });
    }
    const inbound = await api.tenancy.tenantConnections.withDb(clientCode, (db) =>
      db.collection("whatsapp_inbound").find({}).toArray(),
    );
    expect(inbound).toHaveLength(1);
    expect(inbound[0]).toMatchObject({
      wamid: "wamid.IN1",
      from: "+919812345678",
      name: "Asha",
      text: "Can I come at 5?",
      type: "text",
    });
  });

  it("sync and send are 202 with a job id; bad bodies are 400 naming the field; templates filter by status", async () => {
    const headers = tenantHeaders(clientCode, apiKey);
    const sync = await api.app.inject({ method: "POST", url: "/api/saas/chat/templates/sync", headers });
    expect(sync.statusCode).toBe(202);
    const job = await api.queue.get(sync.json().jobId);
    expect(job).toMatchObject({ type: "whatsapp_template_sync", clientCode });
    // A second request while one is pending gets the same job.
    const again = await api.app.inject({ method: "POST", url: "/api/saas/chat/templates/sync", headers });
    expect(again.json().jobId).toBe(sync.json().jobId);

    const send = await api.app.inject({
      method: "POST",
      url: "/api/saas/chat/messages",
      headers,
      payload: {
        to: "+919812345678",
        templateName: "appointment_confirmed",
        language: "en_US",
        bodyParams: ["Asha", "2 March"],
      },
    });
    expect(send.statusCode).toBe(202);
    expect(await api.queue.get(send.json().jobId)).toMatchObject({
      type: "send_whatsapp",
      clientCode,
      payload: {
        to: "+919812345678",
        templateName: "appointment_confirmed",
        language: "en_US",
        bodyParams: ["Asha", "2 March"],
      },
    });
    for (const [payload, field] of [
      [{ to: "919812345678", templateName: "x", language: "en_US" }, "body/to"],
      [{ to: "+919812345678", language: "en_US" }, "templateName"],
      [{ to: "+919812345678", templateName: "x", language: "en_US", context: {} }, "context"],
    ] as const) {
      const bad = await api.app.inject({ method: "POST", url: "/api/saas/chat/messages", headers, payload });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().message).toContain(field);
    }

    await api.tenancy.tenantConnections.withDb(clientCode, (db) =>
      templatesOf(db).insertMany([
        {
          name: "a",
          language: "en_US",
          status: "APPROVED",
          category: "UTILITY",
          components: [],
          id: "1",
          syncedAt: new Date(),
        },
        {
          name: "b",
          language: "en_US",
          status: "PENDING",
          category: "UTILITY",
          components: [],
          id: "2",
          syncedAt: new Date(),
        },
      ]),
    );
    const approved = await api.app.inject({
      method: "GET",
      url: "/api/saas/chat/templates?status=APPROVED",
      headers,
    });
    expect(approved.statusCode).toBe(200);
    expect(approved.json().templates.map((entry: { name: string }) => entry.name)).toEqual(["a"]);
    const all = await api.app.inject({ method: "GET", url: "/api/saas/chat/templates", headers });
    expect(all.json()).toMatchObject({ nextCursor: null });
    expect(all.json().templates).toHaveLength(2);
  });
});
