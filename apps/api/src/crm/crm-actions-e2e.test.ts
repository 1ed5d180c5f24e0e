import {
  type GraphApiFake,
  type SmtpFake,
  startGraphApiFake,
  startSmtpFake,
  startWebhookReceiverFake,
  type WebhookReceiverFake,
} from "@ecodrix/test-kit/fakes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CrmTestEnv, startCrmTestEnv, syncedTemplates } from "../../test/crm-test-env.js";
import { admin } from "../../test/test-app.js";

/**
 * An automation's actions all the way out: the API writes a lead, the product's worker runs the engine
 * and then the integrations' own handlers, which reach local fakes over the network (the fake Graph API,
 * which also posts Meta's signed status webhooks back to the API; a real SMTP server; a webhook receiver
 * that verifies signatures with the `standardwebhooks` library). Nothing of ours is replaced.
 */
describe("automation actions end to end (integrations on fakes)", () => {
  let env: CrmTestEnv;
  let graph: GraphApiFake;
  let receiver: WebhookReceiverFake;
  let smtp: SmtpFake;
  const code = "e2eclinic";
  let webhookSecret = "";
  const tenant = () => env.tenants[code]?.headers ?? {};

  beforeAll(async () => {
    graph = await startGraphApiFake({ answerDelayMs: 0 });
    receiver = await startWebhookReceiverFake();
    smtp = await startSmtpFake({ credentials: { user: "clinic@e2eclinic.example.com", pass: "smtp-pass" } });
    env = await startCrmTestEnv({
      tenants: [code],
      allDefinitions: true,
      apiConfig: { outboundAllowPrivateNetworks: true },
      workerEnv: { ...graph.settings, OUTBOUND_ALLOW_PRIVATE_NETWORKS: "true" },
    });
    const secrets = await env.api.app.inject({
      method: "POST",
      url: `/api/clients/${code}/secrets`,
      headers: admin,
      payload: {
        whatsappToken: "e2e-token",
        whatsappBusinessId: "e2e-waba",
        whatsappPhoneNumberId: "e2e-phone",
        whatsappAppSecret: "e2e-app-secret",
        smtpHost: smtp.host,
        smtpPort: smtp.port,
        smtpUser: "clinic@e2eclinic.example.com",
        smtpPass: "smtp-pass",
        smtpFrom: "E2E Clinic <clinic@e2eclinic.example.com>",
      },
    });
    expect(secrets.statusCode, secrets.body).toBe(200);
    // The signing secret is generated at the first secrets write and shown once.
    webhookSecret = String((secrets.json() as { automationWebhookSecret?: string }).automationWebhookSecret);
    expect(webhookSecret).toMatch(/^[0-9a-f]{64}$/);
    const db = env.tenants[code]?.db;
    if (!db) throw new Error("no tenant database");
    await syncedTemplates(db, [{ name: "welcome", language: "en_US" }]);
    // Meta posts delivery statuses to the API's inbound webhook: the API listens for the fake.
    const base = await env.api.app.listen({ port: 0, host: "127.0.0.1" });
    graph.subscribe({
      url: `${base}/api/webhooks/whatsapp/${code}`,
      appSecret: "e2e-app-secret",
      autoStatuses: ["sent", "delivered"],
    });
  });
  afterAll(async () => {
    await env?.close();
    await graph?.stop();
    await receiver?.stop();
    await smtp?.stop();
  });

  it("a new lead: one WhatsApp template, one e-mail, one signed webhook; the lead's timeline follows Meta's statuses", async () => {
    const endpoint = receiver.addEndpoint({ secret: webhookSecret });
    const subscribed = await env.api.app.inject({
      method: "POST",
      url: "/api/saas/webhooks",
      headers: tenant(),
      payload: { url: endpoint.url, events: ["automation.action"] },
    });
    expect(subscribed.statusCode, subscribed.body).toBe(201);

    const automation = await env.api.app.inject({
      method: "POST",
      url: "/api/crm/automations",
      headers: tenant(),
      payload: {
        name: "Welcome",
        trigger: "lead_created",
        triggerConfig: {},
        actions: [
          { type: "send_whatsapp", delayMinutes: 0, config: { templateName: "welcome", language: "en_US" } },
          { type: "webhook", delayMinutes: 0, config: { data: { greeting: "Hello {{lead.name}}" } } },
          {
            type: "send_email",
            delayMinutes: 0,
            config: {
              subject: "Welcome, {{lead.name}}",
              text: "Hello {{lead.name}}, thank you for choosing us.",
            },
          },
        ],
      },
    });
    expect(automation.statusCode, automation.body).toBe(201);

    const lead = await env.api.app.inject({
      method: "POST",
      url: "/api/crm/leads",
      headers: tenant(),
      payload: { name: "Asha Rao", phone: "+919812345678", email: "asha@example.com" },
    });
    expect(lead.statusCode, lead.body).toBe(201);
    const leadId = (lead.json() as { id: string }).id;

    const sent = await env.until("the WhatsApp message at the fake Graph API", async () =>
      graph.sent.find((message) => message.to.replace(/^\+/, "") === "919812345678"),
    );
    expect(sent).toMatchObject({
      templateName: "welcome",
      language: "en_US",
      phoneNumberId: "e2e-phone",
      token: "e2e-token",
    });

    const delivery = await env.until(
      "the webhook at the receiver",
      async () => receiver.deliveriesTo(endpoint.id)[0],
    );
    expect(delivery.verified, delivery.verifyError).toBe(true);
    expect(delivery.payload?.type).toBe("automation.action");
    expect(delivery.payload?.data).toMatchObject({
      lead: { id: leadId },
      data: { greeting: "Hello Asha Rao" },
    });

    const email = await env.until("the e-mail at the SMTP server", async () =>
      smtp.messages.find((message) => message.to.includes("asha@example.com")),
    );
    expect(email).toMatchObject({
      subject: "Welcome, Asha Rao",
      text: expect.stringContaining("Hello Asha Rao, thank you"),
      user: "clinic@e2eclinic.example.com",
    });
    expect(email.messageId).toMatch(/^<[0-9a-f]{24}@e2eclinic\.example\.com>$/);

    // Each went out once, and the lead's timeline shows the messages' statuses.
    await env.until("the send_whatsapp job completed", async () =>
      (await env.jobs("send_whatsapp", code)).every((job) => job.status === "completed"),
    );
    expect(graph.sent.filter((message) => message.to.replace(/^\+/, "") === "919812345678")).toHaveLength(1);
    expect(receiver.deliveriesTo(endpoint.id)).toHaveLength(1);
    const timeline = await env.until("the message in the lead's timeline", async () => {
      const res = await env.api.app.inject({
        method: "GET",
        url: `/api/crm/leads/${leadId}/events`,
        headers: tenant(),
      });
      const events = (res.json() as { events: { type: string }[] }).events;
      return events.some((event) => event.type.startsWith("message_")) ? events : null;
    });
    expect(timeline.map((event) => event.type)).toContain("message_sent");
  });

  it("runbook step 7: a confirmed appointment → exactly one appointment_confirmed template, its parameters filled; a retried automation_event sends nothing more", async () => {
    const db = env.tenants[code]?.db;
    if (!db) throw new Error("no tenant database");
    // As the template sync stores Meta's template: two body placeholders.
    await db.collection("whatsapp_templates").insertOne({
      name: "appointment_confirmed",
      language: "en_US",
      status: "APPROVED",
      category: "UTILITY",
      components: [{ type: "BODY", text: "Hello {{1}}, your appointment on {{2}} is confirmed." }],
    });
    const automation = await env.api.app.inject({
      method: "POST",
      url: "/api/crm/automations",
      headers: tenant(),
      payload: {
        name: "Appointment Confirmed WA",
        trigger: "appointment_confirmed",
        triggerConfig: {},
        actions: [
          {
            type: "send_whatsapp",
            delayMinutes: 0,
            config: {
              templateName: "appointment_confirmed",
              language: "en_US",
              bodyParams: ["{{lead.name}}", "{{appointment.startsAt}}"],
            },
          },
        ],
      },
    });
    expect(automation.statusCode, automation.body).toBe(201);
    const lead = await env.api.app.inject({
      method: "POST",
      url: "/api/crm/leads",
      headers: tenant(),
      payload: { name: "Ravi Kumar", phone: "+919876500011" },
    });
    expect(lead.statusCode, lead.body).toBe(201);
    const startsAt = new Date(Date.now() + 86_400_000).toISOString();
    const booked = await env.api.app.inject({
      method: "POST",
      url: "/api/crm/appointments",
      headers: tenant(),
      payload: { leadId: (lead.json() as { id: string }).id, startsAt },
    });
    expect(booked.statusCode, booked.body).toBe(201);
    const appointmentId = (booked.json() as { id: string }).id;
    const confirmed = await env.api.app.inject({
      method: "PATCH",
      url: `/api/crm/appointments/${appointmentId}`,
      headers: tenant(),
      payload: { status: "confirmed" },
    });
    expect(confirmed.statusCode, confirmed.body).toBe(200);

    const toRavi = () =>
      graph.sent.filter(
        (message) =>
          message.to.replace(/^\+/, "") === "919876500011" &&
          message.templateName === "appointment_confirmed",
      );
    const sent = await env.until(
      "the appointment_confirmed template at the fake Graph API",
      async () => toRavi()[0],
    );
    expect(sent.language).toBe("en_US");
    expect(sent.components).toEqual([
      {
        type: "body",
        parameters: [
          { type: "text", text: "Ravi Kumar" },
          { type: "text", text: expect.any(String) },
        ],
      },
    ]);

    // Run the confirmation's automation_event again (an operator's forced requeue, or a retry after a
    // lost lease): its action's dedupe key holds, so Meta gets nothing more.
    const event = await env.until("the confirmation's automation_event completed", async () =>
      (await env.jobs("automation_event", code)).find(
        (job) =>
          job.status === "completed" &&
          (job.result as { automationsMatched?: number } | undefined)?.automationsMatched === 1 &&
          JSON.stringify(job.payload).includes(appointmentId) &&
          JSON.stringify(job.payload).includes("confirmed"),
      ),
    );
    const requeued = await env.api.app.inject({
      method: "POST",
      url: `/api/admin/jobs/${String(event._id)}/requeue?force=true`,
      headers: admin,
    });
    expect(requeued.statusCode, requeued.body).toBe(200);
    await env.until("the requeued automation_event completed again", async () => {
      const job = await env.api.queue.get(event._id);
      return job?.status === "completed" && job.attempts > event.attempts;
    });
    await env.until("the send_whatsapp jobs settled", async () =>
      (await env.jobs("send_whatsapp", code)).every((job) => job.status === "completed"),
    );
    expect(toRavi()).toHaveLength(1);
  });
});
