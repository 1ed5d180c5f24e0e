import { createHmac, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { TenancyServices } from "@ecodrix/domain";
import type { Config } from "@ecodrix/platform";
import { createJobRegistry, enqueueJob, type JobDocument, type Queue } from "@ecodrix/queue";
import type { TestMongo } from "@ecodrix/test-kit";
import {
  startWebhookReceiverFake,
  type WebhookReceiverAnswer,
  type WebhookReceiverFake,
} from "@ecodrix/test-kit/fakes";
import { ObjectId } from "mongodb";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type IntegrationTestEnv, startIntegrationTestEnv } from "../../test/integration-test-env.js";
import { deliverWebhookJob } from "./deliver-webhook-job.js";
import { webhookEventJob } from "./webhook-event-job.js";
import { postWebhook } from "./webhook-sender.js";
import { WEBHOOK_TEST_EVENT, webhookSubscriptionsOf } from "./webhook-subscriptions.js";
import { deliverWebhookContract, webhookEventContract } from "./webhooks-contracts.js";
import type { WebhooksJobDeps } from "./webhooks-job-deps.js";

describe("webhook jobs against a receiver that verifies with standardwebhooks", () => {
  let env: IntegrationTestEnv;
  let mongo: TestMongo;
  let receiver: WebhookReceiverFake;
  let queue: Queue;
  let tenancy: TenancyServices;
  let config: Config;

  beforeAll(async () => {
    env = await startIntegrationTestEnv({
      name: "webhooks",
      env: { OUTBOUND_ALLOW_PRIVATE_NETWORKS: "true" },
    });
    ({ mongo, queue, tenancy, config } = env);
    receiver = await startWebhookReceiverFake();
  });

  afterEach(async () => {
    await env.stopWorker();
  });

  afterAll(async () => {
    await receiver.stop();
    await env.close();
  });

  /** A client with a signing secret and a tenant database. */
  async function clinic(options: { secret?: string | null } = {}) {
    const secret = options.secret === undefined ? randomBytes(32).toString("hex") : options.secret;
    const clientCode = await env.createClient(
      secret === null ? {} : { secrets: { automationWebhookSecret: secret } },
    );
    const ownerCreatedAt = new Date((await tenancy.clients.get(clientCode)).createdAt);
    return { clientCode, secret: secret ?? "", ownerCreatedAt };
  }

  /** A subscription stored as the API stores it (URLs the API would refuse are written here directly). */
  async function subscribe(
    client: { clientCode: string; ownerCreatedAt: Date },
    url: string,
    events: string[] = ["automation.action"],
  ): Promise<string> {
    const doc = await tenancy.tenantConnections.withDb(client.clientCode, (db) =>
      webhookSubscriptionsOf(db).create({
        url,
        events,
        ownerCreatedAt: client.ownerCreatedAt,
        now: new Date(),
      }),
    );
    return String(doc._id);
  }

  function deps(overrides: Partial<Config> = {}): WebhooksJobDeps {
    return { config: { ...config, ...overrides }, tenancy, queue, clock: () => new Date() };
  }

  function startWorker(overrides: Partial<Config> = {}): void {
    env.startWorker(createJobRegistry([webhookEventJob, deliverWebhookJob], deps(overrides)), {
      concurrency: 4,
      leaseMs: 20_000,
      jobTimeoutMs: 30_000,
      shutdownTimeoutMs: 3_000,
    });
  }

  const until = (id: ObjectId | string, done: (job: JobDocument) => boolean, timeoutMs?: number) =>
    env.until(id, done, timeoutMs);
  const settled = (id: ObjectId | string, timeoutMs?: number) => env.settled(id, timeoutMs);

  const deliver = (clientCode: string, subscriptionId: string, type = "automation.action") =>
    enqueueJob(queue, deliverWebhookContract, {
      clientCode,
      payload: { subscriptionId, type, timestamp: new Date().toISOString(), data: { leadId: "L1" } },
    });

  function endpoint(secret: string, answers: WebhookReceiverAnswer[] = [], always?: WebhookReceiverAnswer) {
    return receiver.addEndpoint({ secret, answers, ...(always ? { always } : {}) });
  }

  it("webhook_event fans out to the enabled subscriptions of its type only; standardwebhooks verifies each delivery", async () => {
    const client = await clinic();
    const wanted = endpoint(client.secret);
    const otherType = endpoint(client.secret);
    const disabled = endpoint(client.secret);
    const wantedId = await subscribe(client, wanted.url, ["automation.action", "message.status"]);
    await subscribe(client, otherType.url, ["message.status"]);
    const disabledId = await subscribe(client, disabled.url, ["automation.action"]);
    await tenancy.tenantConnections.withDb(client.clientCode, (db) =>
      webhookSubscriptionsOf(db).disable(new ObjectId(disabledId), "test", new Date()),
    );
    startWorker();
    const event = await enqueueJob(queue, webhookEventContract, {
      clientCode: client.clientCode,
      payload: { type: "automation.action", data: { lead: { id: "L1", name: "Asha" } } },
    });
    const fanOut = await settled(event._id);
    expect(fanOut.status).toBe("completed");
    const { deliveries } = fanOut.result as { deliveries: { subscriptionId: string; jobId: string }[] };
    expect(deliveries.map((entry) => entry.subscriptionId)).toEqual([wantedId]);
    const delivery = await settled(deliveries[0]?.jobId ?? "");
    expect(delivery.status).toBe("completed");
    expect(delivery.result).toMatchObject({ delivered: true, status: 200, webhookId: String(delivery._id) });

    expect(receiver.deliveriesTo(otherType.id)).toEqual([]);
    expect(receiver.deliveriesTo(disabled.id)).toEqual([]);
    const [received] = receiver.deliveriesTo(wanted.id);
    expect(received?.verified).toBe(true);
    expect(received?.answered).toBe(200);
    expect(received?.webhookId).toBe(String(delivery._id));
    expect(Math.abs(Number(received?.webhookTimestamp) - Date.now() / 1000)).toBeLessThan(30);
    expect(received?.payload).toEqual({
      type: "automation.action",
      timestamp: event.createdAt.toISOString(),
      data: { lead: { id: "L1", name: "Asha" } },
    });
    // The header's exact form, recomputed here with node:crypto over the raw body.
    const expected = createHmac("sha256", Buffer.from(client.secret, "utf8"))
      .update(`${received?.webhookId}.${received?.webhookTimestamp}.${received?.body}`)
      .digest("base64");
    expect(received?.webhookSignature).toBe(`v1,${expected}`);
  });

  it("a retried fan-out finds its deliveries (even finished ones) and delivers nothing twice", async () => {
    const client = await clinic();
    const target = endpoint(client.secret);
    await subscribe(client, target.url);
    await subscribe(client, endpoint(client.secret).url);
    startWorker();
    const event = await enqueueJob(queue, webhookEventContract, {
      clientCode: client.clientCode,
      payload: { type: "automation.action", data: { n: 1 } },
    });
    const first = (await settled(event._id)).result as { deliveries: { jobId: string }[] };
    for (const { jobId } of first.deliveries) expect((await settled(jobId)).status).toBe("completed");

    // The same fan-out job run again (a worker that crashed before recording its completion).
    const again = (await env.runHandler(
      createJobRegistry([webhookEventJob], deps()),
      (await queue.get(event._id)) as JobDocument,
    )) as { deliveries: { jobId: string }[] };
    expect(again.deliveries.map((entry) => entry.jobId).sort()).toEqual(
      first.deliveries.map((entry) => entry.jobId).sort(),
    );
    await sleep(300);
    const jobs = await mongo.db
      .collection("jobs")
      .countDocuments({ type: "deliver_webhook", clientCode: client.clientCode });
    expect(jobs).toBe(2);
    expect(receiver.deliveriesTo(target.id)).toHaveLength(1);
  });

  it("a wrong secret: the receiver's `HMAC mismatch` is the job's lastError, a permanent failure", async () => {
    const client = await clinic();
    const target = endpoint(randomBytes(32).toString("hex"));
    const id = await subscribe(client, target.url);
    startWorker();
    const job = await settled((await deliver(client.clientCode, id))._id);
    expect(job.status).toBe("failed");
    expect(job.retries).toBe(0);
    expect(job.lastError).toBe("Webhook endpoint answered HTTP 401: HMAC mismatch");
    expect(receiver.deliveriesTo(target.id)).toHaveLength(1);
    expect(receiver.deliveriesTo(target.id)[0]?.verified).toBe(false);
  });

  it("410 Gone disables the subscription (later events skip it); other 4xx keep the answer's first 200 bytes", async () => {
    const client = await clinic();
    const gone = endpoint(client.secret, [], { status: 410 });
    const goneId = await subscribe(client, gone.url);
    const refusing = endpoint(client.secret, [{ status: 422, body: `bad payload ${"x".repeat(400)}` }]);
    const refusingId = await subscribe(client, refusing.url, ["other.event"]);
    startWorker();
    const first = await settled((await deliver(client.clientCode, goneId))._id);
    expect(first.status).toBe("failed");
    expect(first.retries).toBe(0);
    expect(first.lastError).toMatch(
      /^Webhook endpoint answered HTTP 410: endpoint removed; subscription .* disabled/,
    );
    const stored = await tenancy.tenantConnections.withDb(client.clientCode, (db) =>
      webhookSubscriptionsOf(db).get(goneId, client.ownerCreatedAt),
    );
    expect(stored?.enabled).toBe(false);
    expect(stored?.disabledReason).toContain("410");

    const event = await enqueueJob(queue, webhookEventContract, {
      clientCode: client.clientCode,
      payload: { type: "automation.action", data: {} },
    });
    expect((await settled(event._id)).result).toEqual({ deliveries: [] });
    expect(receiver.deliveriesTo(gone.id)).toHaveLength(1);

    const rejected = await settled((await deliver(client.clientCode, refusingId, "other.event"))._id);
    expect(rejected.status).toBe("failed");
    expect(rejected.retries).toBe(0);
    const prefix = "Webhook endpoint answered HTTP 422: ";
    expect(rejected.lastError?.startsWith(`${prefix}bad payload xxx`)).toBe(true);
    expect(rejected.lastError?.length).toBe(prefix.length + 200);
  });

  it("500 is retried: the retry carries the same webhook-id and is delivered", async () => {
    const client = await clinic();
    const flaky = endpoint(client.secret, [{ status: 500 }, { status: 503 }]);
    const id = await subscribe(client, flaky.url);
    startWorker();
    const job = await settled((await deliver(client.clientCode, id))._id);
    expect(job.status).toBe("completed");
    expect(job.retries).toBe(2);
    expect(job.errors.map((entry) => entry.message)).toEqual([
      "Webhook endpoint answered HTTP 500: failed",
      "Webhook endpoint answered HTTP 503: failed",
    ]);
    const received = receiver.deliveriesTo(flaky.id);
    expect(received.map((entry) => entry.answered)).toEqual([500, 503, 200]);
    expect(new Set(received.map((entry) => entry.webhookId))).toEqual(new Set([String(job._id)]));
    expect(received.every((entry) => entry.verified)).toBe(true);
  });

  it("a receiver slower than 10 s: the attempt times out and the retry (same webhook-id) is delivered", async () => {
    const client = await clinic();
    const slow = endpoint(client.secret, [{ delayMs: 12_000 }]);
    const id = await subscribe(client, slow.url);
    startWorker();
    const started = Date.now();
    const job = await settled((await deliver(client.clientCode, id))._id, 40_000);
    expect(job.status).toBe("completed");
    expect(Date.now() - started).toBeGreaterThanOrEqual(10_000);
    expect(job.errors[0]?.message).toMatch(/^Webhook endpoint 127\.0\.0\.1:\d+ did not answer within 10 s$/);
    const received = receiver.deliveriesTo(slow.id);
    expect(received).toHaveLength(2);
    expect(received[0]?.webhookId).toBe(String(job._id));
    expect(received[1]?.webhookId).toBe(String(job._id));
  }, 60_000);

  it("a redirect is not followed: the target receives nothing and the attempt is retried", async () => {
    const client = await clinic();
    const target = endpoint(client.secret);
    const redirecting = endpoint(client.secret, [], { redirectTo: target.url, status: 307 });
    const id = await subscribe(client, redirecting.url);
    startWorker();
    const { _id } = await deliver(client.clientCode, id);
    const job = await until(_id, (found) => found.retries >= 1);
    expect(job.status).not.toBe("completed");
    expect(job.lastError).toBe(
      `Webhook endpoint answered HTTP 307 (redirect to ${target.url}, not followed: subscribe the final URL)`,
    );
    await env.stopWorker();
    await queue.cancel(_id).catch(() => undefined);
    expect(receiver.deliveriesTo(redirecting.id).length).toBeGreaterThanOrEqual(1);
    expect(receiver.deliveriesTo(target.id)).toEqual([]);
  });

  it("without OUTBOUND_ALLOW_PRIVATE_NETWORKS: http and loopback addresses (by name or literal) are refused, nothing sent", async () => {
    const client = await clinic();
    const target = endpoint(client.secret);
    const port = new URL(target.url).port;
    const path = new URL(target.url).pathname;
    const httpId = await subscribe(client, target.url);
    const literalId = await subscribe(client, `https://127.0.0.1:${port}${path}`);
    const namedId = await subscribe(client, `https://localhost:${port}${path}`);
    const mappedId = await subscribe(client, `https://[::ffff:127.0.0.1]:${port}${path}`);
    startWorker({ outboundAllowPrivateNetworks: false });
    const http = await settled((await deliver(client.clientCode, httpId))._id);
    expect(http.status).toBe("failed");
    expect(http.retries).toBe(0);
    expect(http.lastError).toMatch(/is not https; refused/);
    for (const id of [literalId, namedId, mappedId]) {
      const job = await settled((await deliver(client.clientCode, id))._id);
      expect(job.status).toBe("failed");
      expect(job.retries).toBe(0);
      expect(job.lastError).toMatch(/resolves to a loopback, private or link-local address; refused/);
    }
    expect(receiver.deliveriesTo(target.id)).toEqual([]);

    // The same http URL with private networks allowed (tests, sandbox) is delivered.
    await env.stopWorker();
    startWorker({ outboundAllowPrivateNetworks: true });
    expect((await settled((await deliver(client.clientCode, httpId))._id)).status).toBe("completed");
    expect(receiver.deliveriesTo(target.id)).toHaveLength(1);
  });

  it("webhook.test goes to its subscription whatever its events, even disabled; deleted ones and missing secrets", async () => {
    const client = await clinic();
    const target = endpoint(client.secret);
    const id = await subscribe(client, target.url, ["message.status"]);
    await tenancy.tenantConnections.withDb(client.clientCode, (db) =>
      webhookSubscriptionsOf(db).disable(new ObjectId(id), "test", new Date()),
    );
    startWorker();
    const test = await settled((await deliver(client.clientCode, id, WEBHOOK_TEST_EVENT))._id);
    expect(test.status).toBe("completed");
    expect(receiver.deliveriesTo(target.id)[0]?.payload?.type).toBe(WEBHOOK_TEST_EVENT);
    // A fan-out of webhook.test broadcasts nothing.
    const broadcast = await enqueueJob(queue, webhookEventContract, {
      clientCode: client.clientCode,
      payload: { type: WEBHOOK_TEST_EVENT, data: {} },
    });
    expect((await settled(broadcast._id)).result).toEqual({ deliveries: [] });

    await tenancy.tenantConnections.withDb(client.clientCode, (db) =>
      webhookSubscriptionsOf(db).delete(id, client.ownerCreatedAt),
    );
    const afterDelete = await settled((await deliver(client.clientCode, id, WEBHOOK_TEST_EVENT))._id);
    expect(afterDelete.result).toEqual({ delivered: false, skipped: "subscription_deleted" });
    expect(receiver.deliveriesTo(target.id)).toHaveLength(1);

    const noSecret = await clinic({ secret: null });
    const unsigned = await subscribe(noSecret, endpoint("x".repeat(32)).url);
    const failed = await settled((await deliver(noSecret.clientCode, unsigned))._id);
    expect(failed.status).toBe("failed");
    expect(failed.lastError).toMatch(/has no automationWebhookSecret/);
  });

  it("the sender connects to the address that was checked, never resolving the name again; Host stays the URL's", async () => {
    const seen: { host: string | undefined; body: string }[] = [];
    const server = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on("end", () => {
        seen.push({ host: request.headers.host, body });
        response.writeHead(202).end("x".repeat(5_000));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      // A name no resolver knows: only the pinned address can have been used.
      const answer = await postWebhook({
        url: new URL(`http://receiver.invalid:${port}/hook`),
        address: { address: "127.0.0.1", family: 4 },
        headers: { "content-type": "application/json" },
        body: "{}",
        signal: AbortSignal.timeout(5_000),
      });
      expect(answer.status).toBe(202);
      expect(answer.bodyStart).toBe("x".repeat(200));
      expect(seen).toEqual([{ host: `receiver.invalid:${port}`, body: "{}" }]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
