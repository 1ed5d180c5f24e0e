import { setTimeout as sleep } from "node:timers/promises";
import type { TenancyServices } from "@ecodrix/domain";
import type { Config } from "@ecodrix/platform";
import {
  type AnyJobDefinition,
  createClusterRateLimiter,
  createJobRegistry,
  enqueueJob,
  type Queue,
} from "@ecodrix/queue";
import type { TestMongo } from "@ecodrix/test-kit";
import { type FakeTemplate, type GraphApiFake, startGraphApiFake } from "@ecodrix/test-kit/fakes";
import type { ObjectId } from "mongodb";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type IntegrationTestEnv,
  newClientCode,
  startIntegrationTestEnv,
} from "../../test/integration-test-env.js";
import { messageLogOf } from "../message-log/message-log.js";
import { sendWhatsappJob } from "./send-whatsapp-job.js";
import { sendWhatsappContract } from "./whatsapp-contracts.js";
import type { WhatsappJobDeps } from "./whatsapp-job-deps.js";
import { whatsappTemplateSyncContract } from "./whatsapp-sync-contracts.js";
import { whatsappTemplateSyncJob } from "./whatsapp-template-sync-job.js";
import { templatesOf } from "./whatsapp-templates.js";

const template = (
  name: string,
  status = "APPROVED",
  body = "Hello {{1}}, see you on {{2}}",
): FakeTemplate => ({
  name,
  language: "en_US",
  status,
  category: "UTILITY",
  id: `id-${name}`,
  components: [{ type: "BODY", text: body }],
});

describe("WhatsApp jobs against the fake Graph API", () => {
  let env: IntegrationTestEnv;
  let mongo: TestMongo;
  let fake: GraphApiFake;
  let queue: Queue;
  let tenancy: TenancyServices;
  let config: Config;

  beforeAll(async () => {
    fake = await startGraphApiFake({ answerDelayMs: 20 });
    env = await startIntegrationTestEnv({ name: "whatsapp", env: fake.settings });
    ({ mongo, queue, tenancy, config } = env);
  });

  afterEach(async () => {
    await env.stopWorker();
    fake.clearFailures();
    fake.answerDelayMs = 20;
  });

  afterAll(async () => {
    await fake.stop();
    await env.close();
  });

  /** A client with WhatsApp secrets, a tenant database and (unless told otherwise) synced templates. */
  async function clinic(templates: FakeTemplate[] = [template("appointment_confirmed")]) {
    const clientCode = newClientCode();
    const token = `token-${clientCode}`;
    const businessId = `waba-${clientCode}`;
    const phoneNumberId = `pn-${clientCode}`;
    await env.createClient({
      clientCode,
      secrets: {
        whatsappToken: token,
        whatsappBusinessId: businessId,
        whatsappPhoneNumberId: phoneNumberId,
      },
    });
    fake.setTemplates(businessId, templates);
    return { clientCode, token, businessId, phoneNumberId };
  }

  function startWorker(
    options: {
      config?: Config;
      definitions?: AnyJobDefinition<WhatsappJobDeps>[];
      jobTimeoutMs?: number;
    } = {},
  ): void {
    const deps: WhatsappJobDeps = {
      config: options.config ?? config,
      tenancy,
      queue,
      rateLimiter: createClusterRateLimiter(mongo.db),
      clock: () => new Date(),
    };
    env.startWorker(
      createJobRegistry(options.definitions ?? [sendWhatsappJob, whatsappTemplateSyncJob], deps),
      {
        concurrency: 8,
        leaseMs: 5_000,
        jobTimeoutMs: options.jobTimeoutMs ?? 10_000,
        shutdownTimeoutMs: 3_000,
      },
    );
  }

  const settled = (id: ObjectId, timeoutMs?: number) => env.settled(id, timeoutMs);

  async function sync(clientCode: string) {
    const job = await enqueueJob(queue, whatsappTemplateSyncContract, { clientCode, payload: {} });
    return settled(job._id);
  }

  const send = (
    clientCode: string,
    payload: Partial<{ to: string; templateName: string; bodyParams: string[] }> = {},
  ) =>
    enqueueJob(queue, sendWhatsappContract, {
      clientCode,
      payload: {
        to: "+919812345678",
        templateName: "appointment_confirmed",
        language: "en_US",
        bodyParams: ["Asha", "2 March"],
        ...payload,
      },
    });

  const sentTo = (phoneNumberId: string) =>
    fake.sent.filter((message) => message.phoneNumberId === phoneNumberId);
  const logOf = (clientCode: string, jobId: ObjectId) =>
    tenancy.tenantConnections.withDb(clientCode, (db) => messageLogOf(db).find(String(jobId)));

  it("template sync follows paging.next, stores every template, and removes the ones Meta dropped", async () => {
    const many = Array.from({ length: 230 }, (_, index) => template(`t_${String(index).padStart(3, "0")}`));
    const { clientCode, businessId } = await clinic(many);
    startWorker();
    const first = await sync(clientCode);
    expect(first.status).toBe("completed");
    expect(first.result).toEqual({ added: 230, updated: 0, removed: 0, total: 230 });
    const pages = fake.requests.filter((request) =>
      request.path.endsWith(`/${businessId}/message_templates`),
    );
    expect(pages.map((request) => request.query.after ?? "0")).toEqual(["0", "100", "200"]);
    expect(pages[0]?.path).toBe(`/v23.0/${businessId}/message_templates`);

    // Meta drops one, changes another's status, adds a new one.
    const next = many
      .slice(1)
      .map((entry) => (entry.name === "t_005" ? { ...entry, status: "PAUSED" } : entry));
    fake.setTemplates(businessId, [...next, template("new_one")]);
    const second = await sync(clientCode);
    expect(second.result).toEqual({ added: 1, updated: 1, removed: 1, total: 230 });
    const stored = await tenancy.tenantConnections.withDb(clientCode, (db) =>
      templatesOf(db)
        .find({}, { projection: { _id: 0 } })
        .toArray(),
    );
    expect(stored).toHaveLength(230);
    expect(stored.find((entry) => entry.name === "t_000")).toBeUndefined();
    expect(stored.find((entry) => entry.name === "t_005")).toMatchObject({
      status: "PAUSED",
      language: "en_US",
      category: "UTILITY",
      id: "id-t_005",
      components: [{ type: "BODY", text: "Hello {{1}}, see you on {{2}}" }],
    });
  });

  it("sends a template message and records Meta's wamid in the message log", async () => {
    const { clientCode, token, phoneNumberId } = await clinic();
    startWorker();
    await sync(clientCode);
    const job = await send(clientCode);
    const done = await settled(job._id);
    expect(done.status).toBe("completed");
    const [message] = sentTo(phoneNumberId);
    expect(sentTo(phoneNumberId)).toHaveLength(1);
    expect(done.result).toEqual({ wamid: message?.wamid, status: "accepted", alreadySent: false });
    expect(message).toMatchObject({
      to: "919812345678",
      templateName: "appointment_confirmed",
      language: "en_US",
      token,
      components: [
        {
          type: "body",
          parameters: [
            { type: "text", text: "Asha" },
            { type: "text", text: "2 March" },
          ],
        },
      ],
    });
    const log = await logOf(clientCode, job._id);
    expect(log).toMatchObject({
      jobId: String(job._id),
      channel: "whatsapp",
      to: "+919812345678",
      templateName: "appointment_confirmed",
      language: "en_US",
      providerMessageId: message?.wamid,
      status: "accepted",
      errors: [],
    });
  });

  it("a missing or unapproved template fails at once with `Template not found: <name> (<language>)`; nothing is sent", async () => {
    const { clientCode, phoneNumberId } = await clinic([
      template("appointment_confirmed"),
      template("promo", "PENDING"),
    ]);
    startWorker();
    await sync(clientCode);
    for (const name of ["no_such_template", "promo"]) {
      const done = await settled((await send(clientCode, { templateName: name }))._id);
      expect(done.status).toBe("failed");
      expect(done.retries).toBe(0);
      expect(done.lastError).toBe(`Template not found: ${name} (en_US)`);
    }
    expect(sentTo(phoneNumberId)).toHaveLength(0);
  });

  it("a parameter count that does not match the template fails permanently, naming both counts", async () => {
    const { clientCode, phoneNumberId } = await clinic();
    startWorker();
    await sync(clientCode);
    const done = await settled((await send(clientCode, { bodyParams: ["Asha"] }))._id);
    expect(done.status).toBe("failed");
    expect(done.lastError).toBe(
      "Template appointment_confirmed (en_US) takes 2 body parameter(s); the message gave 1",
    );
    expect(sentTo(phoneNumberId)).toHaveLength(0);
  });

  it("rate-limit errors (4, 80007, 130429, 131056) are retried after Retry-After, then sent once", async () => {
    const { clientCode, phoneNumberId } = await clinic();
    startWorker();
    await sync(clientCode);
    const codes = [4, 80007, 130429, 131056];
    const jobs = [];
    for (const [index, code] of codes.entries()) {
      const to = `+91981234000${index}`;
      fake.failRecipient(to, { status: 429, code, message: `Throttled ${code}`, retryAfter: 1, times: 1 });
      jobs.push(await send(clientCode, { to }));
    }
    for (const [index, job] of jobs.entries()) {
      const done = await settled(job._id);
      expect(done.status).toBe("completed");
      expect(done.retries).toBe(1);
      expect(done.errors[0]?.message).toBe(`Meta error ${codes[index]}: Throttled ${codes[index]} `.trim());
      // Retry-After: 1 s was honoured (the backoff alone would be 100–200 ms).
      const sentAt = sentTo(phoneNumberId).find(
        (message) => message.to === `91981234000${index}`,
      )?.receivedAt;
      expect((sentAt?.getTime() ?? 0) - (done.errors[0]?.at.getTime() ?? 0)).toBeGreaterThanOrEqual(900);
    }
    expect(sentTo(phoneNumberId)).toHaveLength(4);
  });

  it("error 190 fails permanently, marks the client whatsappStatus invalid_token, and new secrets clear it", async () => {
    const { clientCode, token, phoneNumberId } = await clinic();
    startWorker();
    await sync(clientCode);
    fake.rejectToken(token);
    const done = await settled((await send(clientCode))._id);
    expect(done.status).toBe("failed");
    expect(done.retries).toBe(0);
    expect(done.lastError).toMatch(
      /^Meta error 190\/463: Error validating access token: Session has expired/,
    );
    expect(done.lastError).not.toContain(token);
    expect((await tenancy.clients.get(clientCode)).whatsappStatus).toBe("invalid_token");
    const log = await logOf(clientCode, done._id);
    expect(log?.status).toBe("failed");
    expect(log?.errors[0]).toMatchObject({ code: "190" });

    await tenancy.clients.setSecrets(clientCode, { whatsappToken: "a-fresh-token" });
    expect((await tenancy.clients.get(clientCode)).whatsappStatus).toBeUndefined();
    expect(sentTo(phoneNumberId)).toHaveLength(0);
  });

  it("template errors 132001, 132015, 132016 fail permanently naming the template; 131047 names the 24-hour window", async () => {
    const { clientCode, phoneNumberId } = await clinic();
    startWorker();
    await sync(clientCode);
    for (const code of [132001, 132015, 132016]) {
      fake.failTemplate("appointment_confirmed", {
        status: 400,
        code,
        message: `Template problem ${code}`,
        times: 1,
      });
      const done = await settled((await send(clientCode))._id);
      expect(done.status).toBe("failed");
      expect(done.retries).toBe(0);
      expect(done.lastError).toBe(
        `Template appointment_confirmed (en_US) refused by Meta: Meta error ${code}: Template problem ${code}`,
      );
    }
    fake.failRecipient("+919800000047", { status: 400, code: 131047, message: "Re-engagement message" });
    const outside = await settled((await send(clientCode, { to: "+919800000047" }))._id);
    expect(outside.status).toBe("failed");
    expect(outside.lastError).toBe(
      "Meta error 131047: Re-engagement message; more than 24 hours have passed since the recipient last replied (outside the 24-hour customer service window)",
    );
    expect(sentTo(phoneNumberId)).toHaveLength(0);
  });

  it("a 5xx is retried with backoff and then sent once", async () => {
    const { clientCode, phoneNumberId } = await clinic();
    startWorker();
    await sync(clientCode);
    fake.failRecipient("+919800000500", {
      status: 500,
      code: 1,
      message: "An unknown error occurred",
      times: 2,
    });
    const done = await settled((await send(clientCode, { to: "+919800000500" }))._id);
    expect(done.status).toBe("completed");
    expect(done.retries).toBe(2);
    expect(done.errors.map((error) => error.message)).toEqual([
      "Meta error 1: An unknown error occurred",
      "Meta error 1: An unknown error occurred",
    ]);
    expect(sentTo(phoneNumberId)).toHaveLength(1);
  });

  it("a retryable Meta error on the last allowed attempt fails the log entry too, and tells the CRM", async () => {
    const { clientCode, phoneNumberId } = await clinic();
    startWorker();
    await sync(clientCode);
    fake.failRecipient("+919800000501", {
      status: 500,
      code: 1,
      message: "An unknown error occurred",
      times: 1,
    });
    const job = await enqueueJob(queue, sendWhatsappContract, {
      clientCode,
      maxRetries: 0,
      payload: {
        to: "+919800000501",
        templateName: "appointment_confirmed",
        language: "en_US",
        bodyParams: ["Asha", "2 March"],
        context: { leadId: "lead-501" },
      },
    });
    const done = await settled(job._id);
    expect(done.status).toBe("failed");
    expect(done.lastError).toBe("Meta error 1: An unknown error occurred");
    const log = await logOf(clientCode, job._id);
    expect(log?.status).toBe("failed");
    const status = await queue.jobs.findOne({
      type: "message_status_changed",
      clientCode,
      dedupeKey: `msg:${String(job._id)}:failed`,
    });
    expect(status?.payload).toMatchObject({
      channel: "whatsapp",
      status: "failed",
      context: { leadId: "lead-501" },
    });
    expect(sentTo(phoneNumberId)).toHaveLength(0);
  });

  it("a network error before Meta is reached is retried; the message log goes back to queued", async () => {
    const { clientCode } = await clinic();
    startWorker();
    await sync(clientCode);
    await env.stopWorker();
    // A Graph root where nothing listens: the connection is refused, nothing can have been sent.
    const closed = await startGraphApiFake();
    await closed.stop();
    startWorker({ config: { ...config, whatsapp: { ...config.whatsapp, graphBaseUrl: closed.url } } });
    const job = await send(clientCode);
    const deadline = Date.now() + 10_000;
    let current = await queue.get(job._id);
    while ((current?.retries ?? 0) < 1 && Date.now() < deadline) {
      await sleep(25);
      current = await queue.get(job._id);
    }
    expect(current?.errors[0]?.message).toMatch(/^Graph API unreachable: .*ECONNREFUSED/);
    const log = await logOf(clientCode, job._id);
    expect(log?.status).toBe("queued");
    expect(log?.errors[0]?.code).toBe("network");
    await queue.cancel(job._id).catch(() => {});
  });

  it("a job retried after a timeout sends exactly one message", async () => {
    const { clientCode, phoneNumberId } = await clinic();
    startWorker();
    await sync(clientCode);
    await env.stopWorker();
    // Meta answers after the attempt's timeout: the attempt fails, the answer still arrives and is recorded.
    fake.answerDelayMs = 1_500;
    const shortTimeout = { ...sendWhatsappJob, limits: { ...sendWhatsappJob.limits, timeoutMs: 500 } };
    startWorker({ definitions: [shortTimeout] });
    const job = await send(clientCode);
    const done = await settled(job._id);
    expect(done.status).toBe("completed");
    expect(done.errors[0]?.message).toMatch(/timed out/i);
    expect(sentTo(phoneNumberId)).toHaveLength(1);
    expect(done.result).toEqual({
      wamid: sentTo(phoneNumberId)[0]?.wamid,
      status: "accepted",
      alreadySent: true,
    });
    expect((await logOf(clientCode, job._id))?.providerMessageId).toBe(sentTo(phoneNumberId)[0]?.wamid);

    // Requeued by force after completion: still one message.
    await queue.requeue(job._id, { force: true });
    expect((await settled(job._id)).status).toBe("completed");
    expect(sentTo(phoneNumberId)).toHaveLength(1);
  });

  it("sends respect the cluster-wide limit per phone number id", async () => {
    const { clientCode, phoneNumberId } = await clinic();
    // 2 per second: slots 500 ms apart, wider than the jitter of a busy test host between a worker's slot
    // and the request reaching the fake (what the limit is about: what Meta sees).
    const limited = { ...config, whatsapp: { ...config.whatsapp, messagesPerSecond: 2 } };
    startWorker({ config: limited });
    await sync(clientCode);
    const jobs = [];
    for (let index = 0; index < 8; index++)
      jobs.push(await send(clientCode, { to: `+9198000010${String(index).padStart(2, "0")}` }));
    for (const job of jobs) expect((await settled(job._id)).status).toBe("completed");
    const times = sentTo(phoneNumberId)
      .map((message) => message.receivedAt.getTime())
      .sort((a, b) => a - b);
    expect(times).toHaveLength(8);
    let most = 0;
    for (const start of times)
      most = Math.max(most, times.filter((t) => t >= start && t < start + 1000).length);
    // A window may hold one more only when its edges both fall on slots.
    expect(most).toBeLessThanOrEqual(3);
    expect((times.at(-1) ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(7 * 500 - 250);
  });
});
