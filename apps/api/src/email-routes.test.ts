import { messageLogOf } from "@ecodrix/integrations";
// biome-ignore lint/style/noRestrictedImports: the test runs the worker's own handler on the job the route queued
import { createSmtpTransports, sendEmailJob } from "@ecodrix/integrations/email";
import { createLogger } from "@ecodrix/platform";
import { createJobRegistry, type JobDocument } from "@ecodrix/queue";
import { type SmtpFake, startSmtpFake } from "@ecodrix/test-kit/fakes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  admin,
  dropTenantDatabases,
  onboardTenant,
  startTestApi,
  type TestApi,
  tenantHeaders,
} from "../test/test-app.js";

const SMTP_PASS = "smtp-pass-never-shown-4711";

describe("e-mail route: POST /api/saas/email/messages", () => {
  let api: TestApi;
  let smtp: SmtpFake;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    api = await startTestApi();
    smtp = await startSmtpFake({ credentials: { user: "desk@mailclinic.example", pass: SMTP_PASS } });
    const mail = await onboardTenant(api, "mailclinic", {
      secrets: {
        smtpHost: "127.0.0.1",
        smtpPort: smtp.port,
        smtpSecure: false,
        smtpUser: "desk@mailclinic.example",
        smtpPass: SMTP_PASS,
        smtpFrom: "Mail Clinic <desk@mailclinic.example>",
      },
    });
    expect(mail.secretsResponse?.body).not.toContain(SMTP_PASS);
    keys.mailclinic = mail.apiKey;
    // nomailclinic has only part of the SMTP secrets.
    const noMail = await onboardTenant(api, "nomailclinic", {
      secrets: { smtpHost: "smtp.example.com", smtpUser: "someone" },
    });
    keys.nomailclinic = noMail.apiKey;
  });

  afterAll(async () => {
    await dropTenantDatabases(api, ["mailclinic", "nomailclinic"]);
    await smtp.stop();
    await api.close();
  });

  it("a client with SMTP secrets but no tenant database gets 409 `No tenant connection for <code>`, nothing queued", async () => {
    const noDb = await onboardTenant(api, "nodbclinic", {
      client: { name: "No DB Clinic" },
      secrets: { smtpHost: "smtp.example.com", smtpPort: 587, smtpFrom: "desk@nodbclinic.com" },
      datasource: false,
    });
    keys.nodbclinic = noDb.apiKey;
    const response = await post("nodbclinic", { to: "a@b.example", subject: "Hi", text: "x" });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({
      code: "ECODRIX_TENANT_NO_CONNECTION",
      message: "No tenant connection for nodbclinic",
    });
    expect(await emailJobs("nodbclinic")).toBe(0);
  });

  const post = (clientCode: string, payload: unknown) =>
    api.app.inject({
      method: "POST",
      url: "/api/saas/email/messages",
      headers: tenantHeaders(clientCode, keys[clientCode] ?? ""),
      payload: payload as Record<string, unknown>,
    });
  const emailJobs = (clientCode: string) =>
    api.db.collection("jobs").countDocuments({ type: "send_email", clientCode });

  it("queues a send_email job (202 { jobId }) that the worker's handler delivers through the client's server", async () => {
    const response = await post("mailclinic", {
      to: "asha@patients.example",
      subject: "Your appointment",
      text: "See you on 2 March at 10:00.",
      html: "<p>See you on <b>2 March</b> at 10:00.</p>",
    });
    expect(response.statusCode, response.body).toBe(202);
    const { jobId } = response.json();
    expect(Object.keys(response.json())).toEqual(["jobId"]);
    const job = (await api.queue.get(jobId)) as JobDocument;
    expect(job).toMatchObject({ type: "send_email", clientCode: "mailclinic", status: "pending" });
    expect(job.payload).toEqual({
      to: "asha@patients.example",
      subject: "Your appointment",
      text: "See you on 2 March at 10:00.",
      html: "<p>See you on <b>2 March</b> at 10:00.</p>",
    });

    const smtpTransports = createSmtpTransports({ logger: createLogger({ level: "silent", name: "t" }) });
    try {
      const registry = createJobRegistry([sendEmailJob], {
        config: { outboundAllowPrivateNetworks: true, sandboxSmtp: undefined },
        tenancy: api.tenancy,
        queue: api.queue,
        smtpTransports,
        clock: () => new Date(),
      });
      const result = await registry.get("send_email")?.handler({
        job,
        log: createLogger({ level: "silent", name: "t" }),
        signal: new AbortController().signal,
        progress: async () => true,
      });
      expect(result).toMatchObject({ messageId: `<${jobId}@mailclinic.example>`, status: "accepted" });
    } finally {
      await smtpTransports.close();
    }
    const [mail] = smtp.messages.filter((message) => message.messageId === `<${jobId}@mailclinic.example>`);
    expect(mail?.subject).toBe("Your appointment");
    expect(mail?.html).toContain("<b>2 March</b>");
    const entry = await api.tenancy.tenantConnections.withDb("mailclinic", (db) =>
      messageLogOf(db).find(jobId),
    );
    expect(entry).toMatchObject({ channel: "email", status: "accepted", to: "asha@patients.example" });

    // Another tenant cannot see the job.
    const other = await api.app.inject({
      method: "GET",
      url: `/api/saas/jobs/${jobId}`,
      headers: tenantHeaders("nomailclinic", keys.nomailclinic ?? ""),
    });
    expect(other.statusCode).toBe(404);
    expect(other.body).not.toContain("asha@patients.example");
    const own = await api.app.inject({
      method: "GET",
      url: `/api/saas/jobs/${jobId}`,
      headers: tenantHeaders("mailclinic", keys.mailclinic ?? ""),
    });
    expect(own.statusCode).toBe(200);
    expect(own.body).not.toContain(SMTP_PASS);
  });

  it.each([
    [{ to: "not an address", subject: "Hi", text: "x" }, 'body/to must match format "email"'],
    [{ to: "a@b.example, c@d.example", subject: "Hi", text: "x" }, 'body/to must match format "email"'],
    [
      { to: "a@b.example", subject: "Hi\r\nBcc: victim@example.com", text: "x" },
      "body/subject must be one line of text (no tabs or line breaks)",
    ],
    [{ to: "a@b.example", subject: "Hi\nthere", text: "x" }, "body/subject must be one line of text"],
    [{ to: "a@b.example", text: "x" }, "body/subject is required"],
    [{ subject: "Hi", text: "x" }, "body/to is required"],
    [{ to: "a@b.example", subject: "Hi" }, "body/text or body/html is required"],
    [{ to: "a@b.example", subject: "Hi", text: "" }, "body/text or body/html is required"],
    [{ to: "a@b.example", subject: "Hi", text: "x", bcc: "c@d.example" }, "body/bcc is not an allowed field"],
    [{ to: "a@b.example", subject: "Hi", text: 5 }, "body/text must be string"],
  ])("bad input %j → 400 naming the field, nothing queued", async (payload, message) => {
    const before = await emailJobs("mailclinic");
    const response = await post("mailclinic", payload);
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json()).toMatchObject({ statusCode: 400, error: "Bad Request" });
    expect(response.json().message).toContain(message);
    expect(await emailJobs("mailclinic")).toBe(before);
  });

  it("a client whose SMTP secrets are incomplete gets 409 naming the missing fields, and nothing is queued", async () => {
    const response = await post("nomailclinic", { to: "a@b.example", subject: "Hi", text: "x" });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toEqual({
      statusCode: 409,
      error: "Conflict",
      code: "ECODRIX_EMAIL_NOT_CONFIGURED",
      message:
        "E-mail is not configured for nomailclinic: set smtpPort, smtpFrom, smtpPass (runbook §1 step 2)",
    });
    expect(await emailJobs("nomailclinic")).toBe(0);
  });

  it("smtpSecure is a boolean secret: true/false accepted, a string refused naming it, never echoed", async () => {
    const bad = await api.app.inject({
      method: "POST",
      url: "/api/clients/mailclinic/secrets",
      headers: admin,
      payload: { smtpSecure: "yes" },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toContain("body/smtpSecure must be boolean");
    const good = await api.app.inject({
      method: "POST",
      url: "/api/clients/mailclinic/secrets",
      headers: admin,
      payload: { smtpSecure: false },
    });
    expect(good.statusCode).toBe(200);
    expect(good.json().secretsSet).toContain("smtpSecure");
    expect((await api.tenancy.clients.getSecrets("mailclinic")).smtpSecure).toBe(false);
  });
});
