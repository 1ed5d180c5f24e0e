import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { TenancyServices } from "@ecodrix/domain";
import { type Config, createLogger } from "@ecodrix/platform";
import {
  createJobRegistry,
  enqueueJob,
  JOBS_COLLECTION,
  JobDeferral,
  type JobDocument,
  type Queue,
} from "@ecodrix/queue";
import type { TestMongo } from "@ecodrix/test-kit";
import { type SmtpFake, startSmtpFake } from "@ecodrix/test-kit/fakes";
import type { ObjectId } from "mongodb";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type IntegrationTestEnv,
  newClientCode,
  startIntegrationTestEnv,
} from "../../test/integration-test-env.js";
import { messageLogOf } from "../message-log/message-log.js";
import { sendEmailContract } from "./email-contracts.js";
import type { EmailJobDeps } from "./email-job-deps.js";
import { fromDomain, sendEmailJob } from "./send-email-job.js";
import { createSmtpTransports, type SmtpTimeouts, type SmtpTransports } from "./smtp-transports.js";

const TIMEOUTS: SmtpTimeouts = {
  connectionTimeoutMs: 2_000,
  greetingTimeoutMs: 2_000,
  socketTimeoutMs: 3_000,
  idleCloseMs: 60_000,
};

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("send_email against a real SMTP server", () => {
  let env: IntegrationTestEnv;
  let mongo: TestMongo;
  let smtp: SmtpFake;
  let queue: Queue;
  let tenancy: TenancyServices;
  let config: Config;
  let transports: SmtpTransports | undefined;
  const logLines: string[] = [];
  const logger = createLogger({
    level: "debug",
    name: "email-test",
    destination: new Writable({
      write(chunk, _encoding, callback) {
        logLines.push(String(chunk));
        callback();
      },
    }),
  });

  beforeAll(async () => {
    env = await startIntegrationTestEnv({
      name: "email",
      env: { OUTBOUND_ALLOW_PRIVATE_NETWORKS: "true" },
      logger,
    });
    ({ mongo, queue, tenancy, config } = env);
    smtp = await startSmtpFake();
  });

  afterEach(async () => {
    await env.stopWorker();
    await transports?.close();
    transports = undefined;
    smtp.clearFailures();
    smtp.setCredentials(undefined);
  });

  afterAll(async () => {
    await smtp.stop();
    await env.close();
  });

  /** A client whose SMTP secrets point at the fake (which then requires exactly these credentials). */
  async function clinic(secrets: Record<string, string | number | boolean> = {}) {
    const clientCode = newClientCode();
    const user = `${clientCode}@mail.example`;
    const pass = `pass-${randomBytes(8).toString("hex")}`;
    await env.createClient({
      clientCode,
      secrets: {
        smtpHost: "localhost",
        smtpPort: smtp.port,
        smtpUser: user,
        smtpPass: pass,
        smtpFrom: `Clinic ${clientCode} <frontdesk@${clientCode}.example>`,
        ...secrets,
      },
    });
    smtp.setCredentials({ user, pass });
    return { clientCode, user, pass };
  }

  function deps(options: { config?: Config } = {}): EmailJobDeps {
    transports ??= createSmtpTransports({ logger }, TIMEOUTS);
    return {
      config: options.config ?? config,
      tenancy,
      queue,
      smtpTransports: transports,
      smtpTimeouts: TIMEOUTS,
      clock: () => new Date(),
    };
  }

  function startWorker(options: { config?: Config } = {}): void {
    env.startWorker(createJobRegistry([sendEmailJob], deps(options)), {
      concurrency: 4,
      leaseMs: 5_000,
      jobTimeoutMs: 20_000,
      shutdownTimeoutMs: 3_000,
    });
  }

  const settled = (id: ObjectId, timeoutMs?: number) => env.settled(id, timeoutMs);

  const send = (
    clientCode: string,
    payload: Partial<{ to: string; subject: string; text: string; html: string }> = {},
    extra: { context?: { leadId: string } } = {},
  ) =>
    enqueueJob(queue, sendEmailContract, {
      clientCode,
      payload: {
        to: "asha@patients.example",
        subject: "Your appointment on 2 March",
        text: "See you at 10:00.",
        ...payload,
        ...extra,
      },
    });

  const deliveredTo = (to: string) => smtp.messages.filter((message) => message.envelope.to.includes(to));
  const logOf = (clientCode: string, jobId: ObjectId) =>
    tenancy.tenantConnections.withDb(clientCode, (db) => messageLogOf(db).find(String(jobId)));

  it("sends through the client's server: Message-ID <jobId@domain of smtpFrom>, from, to, subject, text and html", async () => {
    const { clientCode, user } = await clinic();
    startWorker();
    const job = await send(clientCode, {
      to: "happy@patients.example",
      html: "<p>See you at <b>10:00</b>.</p>",
    });
    const done = await settled(job._id);
    expect(done.status, String(done.lastError)).toBe("completed");
    const messageId = `<${String(job._id)}@${clientCode}.example>`;
    expect(done.result).toMatchObject({ messageId, status: "accepted", alreadySent: false });
    const [mail] = deliveredTo("happy@patients.example");
    expect(mail).toBeDefined();
    expect(mail?.messageId).toBe(messageId);
    expect(mail?.user).toBe(user);
    expect(mail?.from).toBe(`"Clinic ${clientCode}" <frontdesk@${clientCode}.example>`);
    expect(mail?.envelope.from).toBe(`frontdesk@${clientCode}.example`);
    expect(mail?.to).toEqual(["happy@patients.example"]);
    expect(mail?.subject).toBe("Your appointment on 2 March");
    expect(mail?.text?.trim()).toBe("See you at 10:00.");
    expect(mail?.html).toContain("<p>See you at <b>10:00</b>.</p>");
    const entry = await logOf(clientCode, job._id);
    expect(entry).toMatchObject({
      channel: "email",
      to: "happy@patients.example",
      subject: "Your appointment on 2 March",
      providerMessageId: messageId,
      status: "accepted",
    });
  });

  it("a producer's subject with line breaks cannot add headers or recipients", async () => {
    const { clientCode } = await clinic();
    startWorker();
    const job = await send(clientCode, {
      to: "inject@patients.example",
      subject: "Hello\r\nBcc: victim@elsewhere.example\r\nX-Evil: 1",
    });
    const done = await settled(job._id);
    expect(done.status, String(done.lastError)).toBe("completed");
    const [mail] = deliveredTo("inject@patients.example");
    expect(mail?.envelope.to).toEqual(["inject@patients.example"]);
    expect(mail?.headers.bcc).toBeUndefined();
    expect(mail?.headers["x-evil"]).toBeUndefined();
    expect(mail?.subject).toBe("Hello Bcc: victim@elsewhere.example X-Evil: 1");
    expect(deliveredTo("victim@elsewhere.example")).toHaveLength(0);
  });

  it("SMTP 4xx is retried, and the retry sends the one e-mail", async () => {
    const { clientCode } = await clinic();
    smtp.failRecipient("later@patients.example", { code: 451, message: "4.3.0 Try again later", times: 1 });
    startWorker();
    const job = await send(clientCode, { to: "later@patients.example" });
    const done = await settled(job._id);
    expect(done.status, String(done.lastError)).toBe("completed");
    expect(done.retries).toBe(1);
    expect(done.attempts).toBe(2);
    expect(deliveredTo("later@patients.example")).toHaveLength(1);
    const entry = await logOf(clientCode, job._id);
    expect(entry?.status).toBe("accepted");
    expect(entry?.errors.map((error) => error.code)).toEqual(["451"]);
    expect(entry?.errors[0]?.message).toContain("4.3.0 Try again later");
  });

  it("a 4xx on the last allowed attempt fails the log entry too, and tells the CRM", async () => {
    const { clientCode } = await clinic();
    smtp.failRecipient("busy@patients.example", { code: 452, message: "4.2.2 Mailbox full" });
    startWorker();
    const job = await enqueueJob(queue, sendEmailContract, {
      clientCode,
      maxRetries: 0,
      payload: { to: "busy@patients.example", subject: "Hi", text: "x", context: { leadId: "lead-9" } },
    });
    const done = await settled(job._id);
    expect(done.status).toBe("failed");
    expect(done.lastError).toContain("452 4.2.2 Mailbox full");
    expect((await logOf(clientCode, job._id))?.status).toBe("failed");
    const status = await mongo.db
      .collection(JOBS_COLLECTION)
      .findOne({ type: "message_status_changed", clientCode, dedupeKey: `msg:${String(job._id)}:failed` });
    expect(status?.payload).toMatchObject({
      channel: "email",
      status: "failed",
      context: { leadId: "lead-9" },
    });
    expect(status?.payload.error).toContain("452 4.2.2 Mailbox full");
  });

  it("SMTP 5xx fails for good with the server's reply, and nothing is sent", async () => {
    const { clientCode } = await clinic();
    smtp.failRecipient("nobody@patients.example", { code: 550, message: "5.1.1 Mailbox does not exist" });
    startWorker();
    const job = await send(clientCode, { to: "nobody@patients.example" });
    const done = await settled(job._id);
    expect(done.status).toBe("failed");
    expect(done.attempts).toBe(1);
    expect(done.lastError).toContain("550 5.1.1 Mailbox does not exist");
    expect(deliveredTo("nobody@patients.example")).toHaveLength(0);
    expect((await logOf(clientCode, job._id))?.status).toBe("failed");
  });

  it("a 5xx at the end of the data (message refused after DATA) is permanent too", async () => {
    const { clientCode } = await clinic();
    smtp.failRecipient("spam@patients.example", {
      code: 554,
      message: "5.7.1 Message rejected as spam",
      stage: "data",
    });
    startWorker();
    const done = await settled((await send(clientCode, { to: "spam@patients.example" }))._id);
    expect(done.status).toBe("failed");
    expect(done.lastError).toContain("554 5.7.1 Message rejected as spam");
  });

  it("a refused connection is retried; once the secrets name a live server, the retry sends (transport rebuilt)", async () => {
    const { clientCode } = await clinic({ smtpPort: await closedPort() });
    startWorker();
    const job = await send(clientCode, { to: "refused@patients.example" });
    const deadline = Date.now() + 10_000;
    let entry = await logOf(clientCode, job._id);
    while ((entry?.errors.length ?? 0) === 0 && Date.now() < deadline) {
      await sleep(25);
      entry = await logOf(clientCode, job._id);
    }
    expect(entry?.errors[0]?.code).toBe("network");
    expect(entry?.errors[0]?.message).toMatch(/ECONNREFUSED|ECONNECTION|ESOCKET/);
    await tenancy.clients.setSecrets(clientCode, { smtpPort: smtp.port });
    const done = await settled(job._id);
    expect(done.status, String(done.lastError)).toBe("completed");
    expect(done.attempts).toBeGreaterThanOrEqual(2);
    expect(deliveredTo("refused@patients.example")).toHaveLength(1);
  });

  it("an SMTP host on a loopback address is refused unless OUTBOUND_ALLOW_PRIVATE_NETWORKS is true", async () => {
    const { clientCode } = await clinic({ smtpHost: "127.0.0.1" });
    const strict = { ...config, outboundAllowPrivateNetworks: false };
    startWorker({ config: strict });
    const job = await send(clientCode, { to: "private@patients.example" });
    const done = await settled(job._id);
    expect(done.status).toBe("failed");
    expect(done.attempts).toBe(1);
    expect(done.lastError).toContain(
      "SMTP host 127.0.0.1 resolves to a loopback, private or link-local address",
    );
    expect(deliveredTo("private@patients.example")).toHaveLength(0);
    await env.stopWorker();
    // The same client with the setting on: sent.
    startWorker();
    const allowed = await settled((await send(clientCode, { to: "private@patients.example" }))._id);
    expect(allowed.status, String(allowed.lastError)).toBe("completed");
    expect(deliveredTo("private@patients.example")).toHaveLength(1);
  });

  it("a job run again after its e-mail was accepted sends nothing more", async () => {
    const { clientCode } = await clinic();
    const registry = createJobRegistry([sendEmailJob], deps());
    const job = (await queue.get(
      (
        await send(clientCode, { to: "once@patients.example" })
      )._id,
    )) as JobDocument;
    const run = () => env.runHandler(registry, job);
    const first = await run();
    const second = await run();
    expect(first).toMatchObject({ status: "accepted", alreadySent: false });
    expect(second).toMatchObject({ status: "accepted", alreadySent: true });
    expect(deliveredTo("once@patients.example")).toHaveLength(1);
  });

  it("an earlier attempt still sending makes this one wait; one whose worker died mid-send is 'outcome unknown', nothing sent", async () => {
    const { clientCode } = await clinic();
    const registry = createJobRegistry([sendEmailJob], deps());
    const to = "inflight@patients.example";
    const job = (await queue.get((await send(clientCode, { to }))._id)) as JobDocument;
    const jobId = String(job._id);
    const run = () => env.runHandler(registry, job);
    // Another attempt (another worker) claimed the send a moment ago and has not recorded its outcome.
    const claimedAt = new Date();
    await tenancy.tenantConnections.withDb(clientCode, async (db) => {
      const log = messageLogOf(db);
      await log.open({ jobId, channel: "email", to }, claimedAt);
      await log.claimSend(jobId, claimedAt, new Date(claimedAt.getTime() + 60_000));
    });
    await expect(run()).rejects.toBeInstanceOf(JobDeferral);
    // That attempt's worker died: its claim expired without an outcome.
    await tenancy.tenantConnections.withDb(clientCode, (db) =>
      messageLogOf(db).collection.updateOne({ jobId }, { $set: { sendingUntil: new Date(Date.now() - 1) } }),
    );
    await expect(run()).rejects.toThrow(/may have been delivered/);
    // Final: a later run neither sends nor changes its mind.
    await expect(run()).rejects.toThrow(/may have been delivered/);
    expect(deliveredTo(to)).toHaveLength(0);
    expect((await logOf(clientCode, job._id))?.status).toBe("failed");
  });

  it("a connection lost after the whole message was handed over is 'outcome unknown': failed, never sent again", async () => {
    const { clientCode } = await clinic();
    smtp.dropAfterData("dropped@patients.example", 1);
    startWorker();
    const job = await send(clientCode, { to: "dropped@patients.example" });
    const done = await settled(job._id);
    expect(done.status).toBe("failed");
    expect(done.attempts).toBe(1);
    expect(done.lastError).toContain("may have been delivered");
    await sleep(500);
    // The server had it (captured once); no retry sent a second copy.
    expect(deliveredTo("dropped@patients.example")).toHaveLength(1);
  });

  it("one pooled connection serves two sends; new secrets build a new transport", async () => {
    const { clientCode, user } = await clinic();
    startWorker();
    const first = await settled((await send(clientCode, { to: "pool1@patients.example" }))._id);
    const second = await settled((await send(clientCode, { to: "pool2@patients.example" }))._id);
    expect([first.status, second.status]).toEqual(["completed", "completed"]);
    const [a] = deliveredTo("pool1@patients.example");
    const [b] = deliveredTo("pool2@patients.example");
    expect(a?.sessionId).toBeDefined();
    expect(b?.sessionId).toBe(a?.sessionId);
    expect(transports?.created).toBe(1);

    const newPass = `rotated-${randomBytes(6).toString("hex")}`;
    smtp.setCredentials({ user, pass: newPass });
    await tenancy.clients.setSecrets(clientCode, { smtpPass: newPass });
    const third = await settled((await send(clientCode, { to: "pool3@patients.example" }))._id);
    expect(third.status, String(third.lastError)).toBe("completed");
    const [c] = deliveredTo("pool3@patients.example");
    expect(c?.sessionId).not.toBe(a?.sessionId);
    expect(transports?.created).toBe(2);
    expect(transports?.open).toBe(1);
  });

  it("with a context, the outcome goes back to the CRM as message_status_changed", async () => {
    const { clientCode } = await clinic();
    startWorker();
    const job = await send(clientCode, { to: "crm@patients.example" }, { context: { leadId: "lead-1" } });
    const done = await settled(job._id);
    expect(done.status).toBe("completed");
    const messageId = `<${String(job._id)}@${clientCode}.example>`;
    const found = await mongo.db
      .collection(JOBS_COLLECTION)
      .findOne({ type: "message_status_changed", clientCode, dedupeKey: `msg:${messageId}:sent` });
    expect(found?.payload).toMatchObject({
      channel: "email",
      messageId,
      status: "sent",
      context: { leadId: "lead-1" },
    });
  });

  it("wrong credentials: a permanent failure whose message, the job and the logs never hold the password", async () => {
    const { clientCode, pass } = await clinic();
    smtp.setCredentials({ user: "someone-else", pass: "other" });
    startWorker();
    const done = await settled((await send(clientCode, { to: "auth@patients.example" }))._id);
    expect(done.status).toBe("failed");
    expect(done.lastError).toContain("535");
    expect(JSON.stringify(done)).not.toContain(pass);
    expect(JSON.stringify(await logOf(clientCode, done._id))).not.toContain(pass);
    expect(logLines.join("")).not.toContain(pass);
  });

  it("smtpFrom's domain: the first address's", () => {
    expect(fromDomain("Dr. Sharma Clinic <clinic@Gmail.com>")).toBe("gmail.com");
    expect(fromDomain("clinic@sharmaclinic.com")).toBe("sharmaclinic.com");
    expect(fromDomain("no address here")).toBeUndefined();
  });
});
