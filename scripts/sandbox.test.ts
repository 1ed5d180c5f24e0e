import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { createMeetContract } from "@ecodrix/integrations";
import { createQueue, enqueueJob } from "@ecodrix/queue";
import { MongoClient } from "mongodb";
import { afterAll, describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/** The browser's side: a local address as the test reaches it (the API listens on IPv4). */
const viaLoopback = (url: string) => url.replace("//localhost:", "//127.0.0.1:");

describe("ECODRIX_SANDBOX=true npm start: runbook §1 steps 4, 5 and 8 and §5 end to end through the fakes", () => {
  let child: ChildProcess | undefined;
  const dataDir = mkdtempSync(path.join(tmpdir(), "ecodrix-sandbox-"));
  afterAll(() => {
    try {
      if (child?.pid) process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("connects Google Calendar through the fake consent, creates a Meet, and shows it in the outbox", async () => {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ECODRIX_SANDBOX: "true",
      PORT: String(port),
      ECODRIX_DATA_DIR: dataDir,
      LOG_LEVEL: "warn",
    };
    for (const name of [
      "MONGODB_URI",
      "CORE_API_TOKEN",
      "ENCRYPTION_KEY",
      "GOOGLE_CLIENT_ID",
      "GOOGLE_CLIENT_SECRET",
    ]) {
      delete env[name];
    }
    let output = "";
    child = spawn(process.execPath, ["--import", "tsx", path.join(root, "scripts/start.ts")], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      "the API",
      async () => ((await fetch(`${base}/api/saas/health`)).ok ? true : undefined),
      90_000,
    );

    // What the start command tells a newcomer.
    expect(output).toContain("sandbox mode: every provider is a local fake");
    expect(output).toMatch(/Google OAuth \+ Calendar fake at http:\/\/127\.0\.0\.1:\d+/);
    expect(output).toContain(
      `curl http://localhost:${port}/api/sandbox/outbox -H "x-core-api-key: $ADMIN_KEY"`,
    );
    const fakeUrl = /Google OAuth \+ Calendar fake at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? "";

    const adminKey =
      /CORE_API_TOKEN=(\S+)/.exec(readFileSync(path.join(dataDir, "dev.env"), "utf8"))?.[1] ?? "";
    const adminHeaders = { "x-core-api-key": adminKey, "content-type": "application/json" };

    // Step 1 — create the client.
    const created = await fetch(`${base}/api/clients`, {
      method: "POST",
      headers: adminHeaders,
      body: JSON.stringify({ name: "Dr. Sharma Clinic", email: "contact@sharmaclinic.com" }),
    });
    expect(created.status).toBe(201);
    const { clientCode, apiKey } = (await created.json()) as { clientCode: string; apiKey: string };
    expect(clientCode).toBe("sharmaclinic");

    // Step 4 — a connect link, opened as a browser would: the API, the fake's consent, the callback.
    const linkRes = await fetch(`${base}/api/clients/${clientCode}/google/connect-link`, {
      method: "POST",
      headers: { "x-core-api-key": adminKey },
    });
    expect(linkRes.status).toBe(201);
    const link = (await linkRes.json()) as { url: string; expiresAt: string };
    expect(link.url).toMatch(
      new RegExp(`^http://localhost:${port}/api/auth/google/connect\\?clientCode=sharmaclinic&token=`),
    );

    const toConsent = await fetch(viaLoopback(link.url), { redirect: "manual" });
    expect(toConsent.status).toBe(302);
    const consentUrl = String(toConsent.headers.get("location"));
    expect(consentUrl.startsWith(`${fakeUrl}/o/oauth2/v2/auth?`)).toBe(true);
    const toCallback = await fetch(consentUrl, { redirect: "manual" });
    expect(toCallback.status).toBe(302);
    const callbackUrl = String(toCallback.headers.get("location"));
    expect(callbackUrl.startsWith(`http://localhost:${port}/api/auth/google/callback?`)).toBe(true);
    const connected = await fetch(viaLoopback(callbackUrl));
    expect(connected.status).toBe(200);
    expect(await connected.text()).toContain(
      "Google Calendar connected for Dr. Sharma Clinic (sharmaclinic)",
    );

    const tenant = { "x-api-key": apiKey, "x-client-code": clientCode };
    const status = (await (await fetch(`${base}/api/saas/google`, { headers: tenant })).json()) as Record<
      string,
      unknown
    >;
    expect(status).toMatchObject({
      connected: true,
      email: "calendar@sandbox.example",
      reconnectRequired: false,
    });

    // A Meet created by the worker lands on the fake's calendar (enqueued as the CRM would).
    const mongoUri = /embedded MongoDB at (mongodb:\/\/\S+)/.exec(output)?.[1] ?? "";
    const mongo = new MongoClient(mongoUri);
    let jobId: string;
    try {
      await mongo.connect();
      const job = await enqueueJob(createQueue({ db: mongo.db("services") }), createMeetContract, {
        clientCode,
        payload: {
          title: "Sandbox consultation",
          startsAt: "2026-03-02T10:30:00+05:30",
          durationMinutes: 20,
        },
      });
      jobId = String(job._id);
    } finally {
      await mongo.close();
    }
    const done = await waitFor(
      "the create_meet job",
      async () => {
        const job = (await (
          await fetch(`${base}/api/admin/jobs/${jobId}`, { headers: adminHeaders })
        ).json()) as {
          status: string;
          lastError: string | null;
          result?: { eventId: string; meetUrl: string };
        };
        if (job.status === "failed") throw new Error(`create_meet failed: ${job.lastError}`);
        return job.status === "completed" ? job : undefined;
      },
      30_000,
    );
    expect(done.result?.meetUrl).toMatch(/^https:\/\/meet\.google\.com\//);

    const outboxRes = await fetch(`${base}/api/sandbox/outbox`, { headers: { "x-core-api-key": adminKey } });
    expect(outboxRes.status).toBe(200);
    const outbox = (await outboxRes.json()) as {
      messages: Array<{ service: string; kind: string; summary: string; data: { hangoutLink?: string } }>;
      nextCursor: string | null;
    };
    expect(outbox.messages).toHaveLength(1);
    expect(outbox.messages[0]).toMatchObject({ service: "google", kind: "calendar.event" });
    expect(outbox.messages[0]?.summary).toContain("Sandbox consultation");
    expect(outbox.messages[0]?.data.hangoutLink).toBe(done.result?.meetUrl);
    expect((await fetch(`${base}/api/sandbox/outbox`)).status).toBe(401);

    // Steps 2, 3 and 5, and §5: WhatsApp secrets (any values work with the fake), the tenant database,
    // a template sync, a send, and Meta's status webhooks back through the signed inbound route.
    const waFakeUrl = /WhatsApp Graph API fake at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? "";
    expect(waFakeUrl).not.toBe("");
    const secrets = await fetch(`${base}/api/clients/${clientCode}/secrets`, {
      method: "POST",
      headers: adminHeaders,
      body: JSON.stringify({
        whatsappToken: "sandbox-token",
        whatsappBusinessId: "waba-1",
        whatsappPhoneNumberId: "pn-1",
        whatsappWebhookToken: "verify-me",
        whatsappAppSecret: "sandbox-app-secret",
      }),
    });
    expect(secrets.status).toBe(200);
    const datasource = await fetch(`${base}/api/clients/${clientCode}/datasource`, {
      method: "POST",
      headers: adminHeaders,
      body: JSON.stringify({ dbUri: `${mongoUri}/sharmaclinic` }),
    });
    expect(datasource.status).toBe(200);
    const tenantJson = { ...tenant, "content-type": "application/json" };
    const jobDone = (id: string, what: string) =>
      waitFor(
        what,
        async () => {
          const job = (await (await fetch(`${base}/api/saas/jobs/${id}`, { headers: tenant })).json()) as {
            status: string;
            lastError: string | null;
            result?: Record<string, unknown>;
          };
          if (job.status === "failed") throw new Error(`${what} failed: ${job.lastError}`);
          return job.status === "completed" ? job : undefined;
        },
        30_000,
      );
    const sync = await fetch(`${base}/api/saas/chat/templates/sync`, { method: "POST", headers: tenant });
    expect(sync.status).toBe(202);
    const synced = await jobDone(((await sync.json()) as { jobId: string }).jobId, "the template sync");
    expect(synced.result).toEqual({ added: 4, updated: 0, removed: 0, total: 4 });
    const approved = (await (
      await fetch(`${base}/api/saas/chat/templates?status=APPROVED`, { headers: tenant })
    ).json()) as { templates: { name: string }[] };
    expect(approved.templates.map((template) => template.name)).toEqual([
      "appointment_confirmed",
      "appointment_reminder",
      "hello_world",
    ]);
    const handshake = await fetch(
      `${base}/api/webhooks/whatsapp/${clientCode}?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=42`,
    );
    expect(await handshake.text()).toBe("42");
    const subscribed = await fetch(`${waFakeUrl}/_fake/webhooks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        url: `${base}/api/webhooks/whatsapp/${clientCode}`,
        appSecret: "sandbox-app-secret",
      }),
    });
    expect(subscribed.status).toBe(201);
    const send = await fetch(`${base}/api/saas/chat/messages`, {
      method: "POST",
      headers: tenantJson,
      body: JSON.stringify({
        to: "+919812345678",
        templateName: "appointment_confirmed",
        language: "en_US",
        bodyParams: ["Asha", "2 March"],
      }),
    });
    expect(send.status).toBe(202);
    const sent = await jobDone(((await send.json()) as { jobId: string }).jobId, "the send");
    const delivered = await waitFor(
      "the delivered status",
      async () => {
        const log = (await (await fetch(`${base}/api/saas/chat/messages`, { headers: tenant })).json()) as {
          messages: { wamid: string; status: string }[];
        };
        return log.messages[0]?.status === "delivered" ? log.messages[0] : undefined;
      },
      30_000,
    );
    expect(delivered.wamid).toBe(sent.result?.wamid);
    const waOutbox = (await (
      await fetch(`${base}/api/sandbox/outbox?service=whatsapp`, { headers: { "x-core-api-key": adminKey } })
    ).json()) as { messages: { kind: string; to: string[]; data: { wamid: string } }[] };
    expect(waOutbox.messages).toHaveLength(1);
    expect(waOutbox.messages[0]).toMatchObject({ kind: "whatsapp.message", to: ["+919812345678"] });
    expect(waOutbox.messages[0]?.data.wamid).toBe(sent.result?.wamid);

    // Runbook §1 step 2's SMTP secrets, unchanged: in sandbox mode the e-mail lands in the SMTP fake.
    expect(output).toMatch(/SMTP server fake at smtp:\/\/127\.0\.0\.1:\d+/);
    const smtpSecrets = await fetch(`${base}/api/clients/${clientCode}/secrets`, {
      method: "POST",
      headers: adminHeaders,
      body: JSON.stringify({
        smtpHost: "smtp.gmail.com",
        smtpPort: 465,
        smtpUser: "clinic@gmail.com",
        smtpPass: "sandbox-smtp-pass",
        smtpFrom: "Dr. Sharma Clinic <clinic@gmail.com>",
      }),
    });
    expect(smtpSecrets.status).toBe(200);
    const mail = await fetch(`${base}/api/saas/email/messages`, {
      method: "POST",
      headers: tenantJson,
      body: JSON.stringify({
        to: "asha@example.com",
        subject: "Your appointment on 2 March",
        text: "See you at 10:30.",
      }),
    });
    expect(mail.status).toBe(202);
    const mailJobId = ((await mail.json()) as { jobId: string }).jobId;
    const mailed = await jobDone(mailJobId, "the e-mail");
    expect(mailed.result).toMatchObject({ messageId: `<${mailJobId}@gmail.com>`, status: "accepted" });
    const smtpOutbox = (await (
      await fetch(`${base}/api/sandbox/outbox?service=smtp`, { headers: { "x-core-api-key": adminKey } })
    ).json()) as { messages: { kind: string; to: string[]; data: { messageId: string; subject: string } }[] };
    expect(smtpOutbox.messages).toHaveLength(1);
    expect(smtpOutbox.messages[0]).toMatchObject({ kind: "email", to: ["asha@example.com"] });
    expect(smtpOutbox.messages[0]?.data).toMatchObject({
      messageId: `<${mailJobId}@gmail.com>`,
      subject: "Your appointment on 2 March",
    });

    // Step 8 — signed webhooks: the receiver fake verifies with the automationWebhookSecret the secrets
    // write generated; a webhook.test delivery shows in the outbox as verified.
    const webhookSecret = ((await secrets.json()) as { automationWebhookSecret?: string })
      .automationWebhookSecret;
    expect(webhookSecret).toMatch(/^[0-9a-f]{64}$/);
    const receiverUrl = /Webhook receiver at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? "";
    const endpoint = (await (
      await fetch(`${receiverUrl}/_fake/endpoints`, {
        method: "POST",
        body: JSON.stringify({ secret: webhookSecret }),
      })
    ).json()) as { url: string };
    const subscription = await fetch(`${base}/api/saas/webhooks`, {
      method: "POST",
      headers: tenantJson,
      body: JSON.stringify({ url: endpoint.url, events: ["automation.action"] }),
    });
    expect(subscription.status).toBe(201);
    const hookId = ((await subscription.json()) as { id: string }).id;
    const test = await fetch(`${base}/api/saas/webhooks/${hookId}/test`, { method: "POST", headers: tenant });
    expect(test.status).toBe(202);
    const testJobId = ((await test.json()) as { jobId: string }).jobId;
    await jobDone(testJobId, "the webhook.test delivery");
    const hookOutbox = (await (
      await fetch(`${base}/api/sandbox/outbox?service=webhooks`, { headers: { "x-core-api-key": adminKey } })
    ).json()) as { messages: { kind: string; summary: string }[] };
    expect(hookOutbox.messages).toHaveLength(1);
    expect(hookOutbox.messages[0]).toMatchObject({
      kind: "webhook.delivery",
      summary: `webhook.test ${testJobId} → 200 (signature verified)`,
    });

    // Ctrl-C stops the fakes with everything else.
    const exited = new Promise<number | null>((resolve) => child?.once("exit", (code) => resolve(code)));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    await expect(fetch(`${fakeUrl}/v1/userinfo`)).rejects.toThrow();
  }, 240_000);
});
