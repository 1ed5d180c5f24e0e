import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { MAX_WEBHOOK_SUBSCRIPTIONS, WEBHOOK_SUBSCRIPTIONS_COLLECTION } from "@ecodrix/integrations";
// biome-ignore lint/style/noRestrictedImports: the test runs the worker's own handler on the job the route queued
import { deliverWebhookJob } from "@ecodrix/integrations/webhooks";
import { createLogger } from "@ecodrix/platform";
import { createJobRegistry, createWorkerRunner, type JobDocument } from "@ecodrix/queue";
import { startWebhookReceiverFake, type WebhookReceiverFake } from "@ecodrix/test-kit/fakes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropTenantDatabases, onboardTenant, startTestApi, type TestApi } from "../test/test-app.js";

const HOOK = "https://hooks.example.com/ecodrix";

/** A client with a tenant database; with `secrets`, a secrets write (which generates automationWebhookSecret). */
async function onboard(api: TestApi, clientCode: string, secrets: Record<string, string> | null) {
  const tenant = await onboardTenant(api, clientCode, secrets ? { secrets } : {});
  const webhookSecret: string = secrets
    ? (secrets.automationWebhookSecret ?? tenant.secretsResponse?.json().automationWebhookSecret)
    : "";
  return { headers: tenant.headers, webhookSecret };
}

describe("webhook subscription routes", () => {
  let api: TestApi;
  let alpha: Awaited<ReturnType<typeof onboard>>;
  let beta: Awaited<ReturnType<typeof onboard>>;
  let bare: Awaited<ReturnType<typeof onboard>>;

  beforeAll(async () => {
    api = await startTestApi();
    alpha = await onboard(api, "alphahooks", { smtpHost: "smtp.example.com" });
    beta = await onboard(api, "betahooks", { smtpHost: "smtp.example.com" });
    bare = await onboard(api, "barehooks", null);
  });
  afterAll(async () => {
    await dropTenantDatabases(api, ["alphahooks", "betahooks", "barehooks"]);
    await api.close();
  });

  const stored = (code: string) =>
    api.mongo.client.db(`${api.mongo.dbName}_${code}`).collection(WEBHOOK_SUBSCRIPTIONS_COLLECTION);

  it("creates a subscription: 201 with the subscription itself and a string id, never the secret", async () => {
    const response = await api.app.inject({
      method: "POST",
      url: "/api/saas/webhooks",
      headers: alpha.headers,
      payload: { url: HOOK, events: ["automation.action", "message.status"] },
    });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body).toMatchObject({
      url: HOOK,
      events: ["automation.action", "message.status"],
      enabled: true,
      disabledAt: null,
      disabledReason: null,
    });
    expect(body.id).toMatch(/^[0-9a-f]{24}$/);
    expect(Number.isNaN(Date.parse(body.createdAt))).toBe(false);
    expect(response.body).not.toContain(alpha.webhookSecret);
    expect(alpha.webhookSecret).toMatch(/^[0-9a-f]{64}$/);

    const read = await api.app.inject({
      method: "GET",
      url: `/api/saas/webhooks/${body.id}`,
      headers: alpha.headers,
    });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual(body);
    await stored("alphahooks").deleteMany({});
  });

  it("bad input is a 400 naming the field, and writes nothing", async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ events: ["a.b"] }, /^body\/url is required$/],
      [{ url: HOOK }, /^body\/events is required$/],
      [{ url: "http://hooks.example.com/x", events: ["a.b"] }, /^body\/url must be an https URL/],
      [{ url: "ftp://hooks.example.com/x", events: ["a.b"] }, /^body\/url must be an https URL/],
      [{ url: "not a url", events: ["a.b"] }, /^body\/url is not a valid absolute URL$/],
      [
        { url: "https://user:pw@hooks.example.com/x", events: ["a.b"] },
        /^body\/url must not contain credentials/,
      ],
      [
        { url: "https://hooks.example.com/x#frag", events: ["a.b"] },
        /^body\/url must not contain a fragment/,
      ],
      [
        { url: `https://hooks.example.com/${"a".repeat(2100)}`, events: ["a.b"] },
        /^body\/url must NOT have more than 2048 characters$/,
      ],
      [
        { url: "https://127.0.0.1/x", events: ["a.b"] },
        /^body\/url points to a loopback, private or link-local address/,
      ],
      [{ url: "https://10.1.2.3/x", events: ["a.b"] }, /^body\/url points to a loopback/],
      [{ url: "https://[::1]:8443/x", events: ["a.b"] }, /^body\/url points to a loopback/],
      [{ url: "https://169.254.169.254/latest", events: ["a.b"] }, /^body\/url points to a loopback/],
      [{ url: "https://localhost/x", events: ["a.b"] }, /^body\/url points to a loopback/],
      [{ url: "https://[::ffff:127.0.0.1]/x", events: ["a.b"] }, /^body\/url points to a loopback/],
      [{ url: "https://2130706433/x", events: ["a.b"] }, /^body\/url points to a loopback/],
      [{ url: HOOK, events: [] }, /^body\/events must NOT have fewer than 1 items$/],
      [{ url: HOOK, events: ["a.b", "a.b"] }, /^body\/events must NOT have duplicate items/],
      [{ url: HOOK, events: ["Not An Event"] }, /^body\/events\/0 must match pattern/],
      [{ url: HOOK, events: ["$where"] }, /^body\/events\/0 must match pattern/],
      [{ url: HOOK, events: "a.b" }, /^body\/events must be array$/],
      [{ url: HOOK, events: ["a.b"], secret: "x" }, /^body\/secret is not an allowed field$/],
    ];
    for (const [payload, message] of cases) {
      const response = await api.app.inject({
        method: "POST",
        url: "/api/saas/webhooks",
        headers: alpha.headers,
        payload,
      });
      expect(response.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(400);
      expect(response.json().message, JSON.stringify(payload).slice(0, 80)).toMatch(message);
      expect(response.json()).toHaveProperty("code");
    }
    expect(await stored("alphahooks").countDocuments()).toBe(0);
  });

  it("a client without automationWebhookSecret gets a 409 saying what to do, and nothing is written", async () => {
    const response = await api.app.inject({
      method: "POST",
      url: "/api/saas/webhooks",
      headers: bare.headers,
      payload: { url: HOOK, events: ["automation.action"] },
    });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({ code: "ECODRIX_WEBHOOKS_NO_SECRET" });
    expect(response.json().message).toMatch(/^barehooks has no automationWebhookSecret: .*runbook §1 step 2/);
    expect(await stored("barehooks").countDocuments()).toBe(0);
    // A subscription written before the secret went away cannot be tested either.
    const { insertedId } = await stored("barehooks").insertOne({
      url: HOOK,
      events: ["a.b"],
      enabled: true,
      ownerCreatedAt: new Date(),
      createdAt: new Date(),
      updatedAt: new Date(),
      disabledAt: null,
      disabledReason: null,
    });
    const test = await api.app.inject({
      method: "POST",
      url: `/api/saas/webhooks/${insertedId}/test`,
      headers: bare.headers,
    });
    expect(test.statusCode).toBe(409);
  });

  it("lists as { webhooks, nextCursor }, oldest first, in pages", async () => {
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const created = await api.app.inject({
        method: "POST",
        url: "/api/saas/webhooks",
        headers: alpha.headers,
        payload: { url: `${HOOK}/${n}`, events: ["automation.action"] },
      });
      ids.push(created.json().id);
    }
    const all = await api.app.inject({ method: "GET", url: "/api/saas/webhooks", headers: alpha.headers });
    expect(all.json().nextCursor).toBeNull();
    expect(all.json().webhooks.map((hook: { id: string }) => hook.id)).toEqual(ids);
    const first = await api.app.inject({
      method: "GET",
      url: "/api/saas/webhooks?limit=2",
      headers: alpha.headers,
    });
    expect(first.json().webhooks).toHaveLength(2);
    const rest = await api.app.inject({
      method: "GET",
      url: `/api/saas/webhooks?limit=2&cursor=${first.json().nextCursor}`,
      headers: alpha.headers,
    });
    expect(rest.json()).toEqual({ webhooks: [all.json().webhooks[2]], nextCursor: null });
    const bad = await api.app.inject({
      method: "GET",
      url: "/api/saas/webhooks?cursor=zz",
      headers: alpha.headers,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/^querystring\/cursor must match pattern/);
    await stored("alphahooks").deleteMany({});
  });

  it(`at most ${MAX_WEBHOOK_SUBSCRIPTIONS} subscriptions per client: the next one is a 409`, async () => {
    for (let n = 0; n < MAX_WEBHOOK_SUBSCRIPTIONS; n++) {
      const created = await api.app.inject({
        method: "POST",
        url: "/api/saas/webhooks",
        headers: beta.headers,
        payload: { url: `${HOOK}/${n}`, events: ["automation.action"] },
      });
      expect(created.statusCode).toBe(201);
    }
    const over = await api.app.inject({
      method: "POST",
      url: "/api/saas/webhooks",
      headers: beta.headers,
      payload: { url: `${HOOK}/over`, events: ["automation.action"] },
    });
    expect(over.statusCode).toBe(409);
    expect(over.json()).toMatchObject({ code: "ECODRIX_WEBHOOKS_LIMIT" });
    expect(await stored("betahooks").countDocuments()).toBe(MAX_WEBHOOK_SUBSCRIPTIONS);
    await stored("betahooks").deleteMany({});
  });

  it("the limit holds when creates race: 6 at once with 2 places left → two 201s, four 409s; a freed place is reused", async () => {
    const create = (n: number | string) =>
      api.app.inject({
        method: "POST",
        url: "/api/saas/webhooks",
        headers: beta.headers,
        payload: { url: `${HOOK}/race-${n}`, events: ["automation.action"] },
      });
    for (let n = 0; n < MAX_WEBHOOK_SUBSCRIPTIONS - 2; n++) expect((await create(n)).statusCode).toBe(201);
    const raced = await Promise.all(Array.from({ length: 6 }, (_unused, n) => create(`at-once-${n}`)));
    expect(raced.map((res) => res.statusCode).sort()).toEqual([201, 201, 409, 409, 409, 409]);
    expect(await stored("betahooks").countDocuments()).toBe(MAX_WEBHOOK_SUBSCRIPTIONS);
    const first = raced.find((res) => res.statusCode === 201)?.json() as { id: string };
    const deleted = await api.app.inject({
      method: "DELETE",
      url: `/api/saas/webhooks/${first.id}`,
      headers: beta.headers,
    });
    expect(deleted.statusCode).toBe(200);
    expect((await create("after-delete")).statusCode).toBe(201);
    expect((await create("over-again")).statusCode).toBe(409);
    await stored("betahooks").deleteMany({});
  });

  it("isolation: another tenant's subscription ids are 404 on get, delete and test, and never listed", async () => {
    const created = await api.app.inject({
      method: "POST",
      url: "/api/saas/webhooks",
      headers: alpha.headers,
      payload: { url: `${HOOK}/alpha-only`, events: ["automation.action"] },
    });
    const id = created.json().id as string;
    for (const [method, url] of [
      ["GET", `/api/saas/webhooks/${id}`],
      ["DELETE", `/api/saas/webhooks/${id}`],
      ["POST", `/api/saas/webhooks/${id}/test`],
    ] as const) {
      const response = await api.app.inject({ method, url, headers: beta.headers });
      expect(response.statusCode, `${method} ${url}`).toBe(404);
      expect(response.json().message).toBe(`Webhook subscription ${id} not found`);
    }
    const list = await api.app.inject({ method: "GET", url: "/api/saas/webhooks", headers: beta.headers });
    expect(list.json()).toEqual({ webhooks: [], nextCursor: null });
    expect(list.body).not.toContain("alpha-only");
    // Still there for its owner; no delivery was queued by the other tenant's test.
    const own = await api.app.inject({
      method: "GET",
      url: `/api/saas/webhooks/${id}`,
      headers: alpha.headers,
    });
    expect(own.statusCode).toBe(200);
    expect(await api.db.collection("jobs").countDocuments({ type: "deliver_webhook" })).toBe(0);
    await stored("alphahooks").deleteMany({});
  });

  it("test → 202 { jobId } of a webhook.test delivery whatever the events; delete → then get and test are 404", async () => {
    const created = await api.app.inject({
      method: "POST",
      url: "/api/saas/webhooks",
      headers: alpha.headers,
      payload: { url: HOOK, events: ["message.status"] },
    });
    const id = created.json().id as string;
    const test = await api.app.inject({
      method: "POST",
      url: `/api/saas/webhooks/${id}/test`,
      headers: alpha.headers,
    });
    expect(test.statusCode).toBe(202);
    const job = (await api.queue.get(test.json().jobId)) as JobDocument;
    expect(job).toMatchObject({ type: "deliver_webhook", clientCode: "alphahooks", status: "pending" });
    expect(job.payload).toMatchObject({ subscriptionId: id, type: "webhook.test" });
    await api.queue.cancel(job._id);

    const removed = await api.app.inject({
      method: "DELETE",
      url: `/api/saas/webhooks/${id}`,
      headers: alpha.headers,
    });
    expect(removed.statusCode).toBe(200);
    expect(removed.json()).toEqual({ id, deleted: true });
    for (const [method, url] of [
      ["GET", `/api/saas/webhooks/${id}`],
      ["DELETE", `/api/saas/webhooks/${id}`],
      ["POST", `/api/saas/webhooks/${id}/test`],
    ] as const) {
      const response = await api.app.inject({ method, url, headers: alpha.headers });
      expect(response.statusCode, `${method} ${url}`).toBe(404);
    }
    const badId = await api.app.inject({
      method: "GET",
      url: "/api/saas/webhooks/nope",
      headers: alpha.headers,
    });
    expect(badId.statusCode).toBe(400);
    expect(badId.json().message).toMatch(/^params\/id must match pattern/);
  });
});

describe("webhooks end to end with private networks allowed (the sandbox's setting)", () => {
  let api: TestApi;
  let receiver: WebhookReceiverFake;
  let clinic: Awaited<ReturnType<typeof onboard>>;

  beforeAll(async () => {
    api = await startTestApi({ config: { outboundAllowPrivateNetworks: true } });
    receiver = await startWebhookReceiverFake();
    clinic = await onboard(api, "gammahooks", { automationWebhookSecret: randomBytes(24).toString("hex") });
  });
  afterAll(async () => {
    await receiver.stop();
    await dropTenantDatabases(api, ["gammahooks"]);
    await api.close();
  });

  /** Runs the worker's deliver_webhook handler until the job finishes. */
  async function runDelivery(jobId: string): Promise<JobDocument> {
    const runner = createWorkerRunner({
      queue: api.queue,
      jobs: createJobRegistry([deliverWebhookJob], {
        config: { outboundAllowPrivateNetworks: true },
        tenancy: api.tenancy,
        queue: api.queue,
        clock: () => new Date(),
      }),
      logger: createLogger({ level: "silent", name: "t" }),
      concurrency: 1,
      leaseMs: 20_000,
      pollMinMs: 10,
      pollMaxMs: 50,
      jobTimeoutMs: 30_000,
      shutdownTimeoutMs: 3_000,
    });
    runner.start();
    try {
      for (;;) {
        const job = (await api.queue.get(jobId)) as JobDocument;
        if (job.status === "completed" || job.status === "failed") return job;
        await sleep(25);
      }
    } finally {
      await runner.stop();
    }
  }

  it("an http receiver is accepted; the test delivery verifies with the client's secret, a wrong one is `HMAC mismatch`", async () => {
    const good = receiver.addEndpoint({ secret: clinic.webhookSecret });
    const created = await api.app.inject({
      method: "POST",
      url: "/api/saas/webhooks",
      headers: clinic.headers,
      payload: { url: good.url, events: ["automation.action"] },
    });
    expect(created.statusCode).toBe(201);
    const test = await api.app.inject({
      method: "POST",
      url: `/api/saas/webhooks/${created.json().id}/test`,
      headers: clinic.headers,
    });
    const done = await runDelivery(test.json().jobId);
    expect(done.status).toBe("completed");
    const [received] = receiver.deliveriesTo(good.id);
    expect(received?.verified).toBe(true);
    expect(received?.webhookId).toBe(test.json().jobId);
    expect(received?.payload).toMatchObject({
      type: "webhook.test",
      data: { subscriptionId: created.json().id },
    });

    const wrong = receiver.addEndpoint({ secret: randomBytes(24).toString("hex") });
    const other = await api.app.inject({
      method: "POST",
      url: "/api/saas/webhooks",
      headers: clinic.headers,
      payload: { url: wrong.url, events: ["automation.action"] },
    });
    const wrongTest = await api.app.inject({
      method: "POST",
      url: `/api/saas/webhooks/${other.json().id}/test`,
      headers: clinic.headers,
    });
    await runDelivery(wrongTest.json().jobId);
    const seen = await api.app.inject({
      method: "GET",
      url: `/api/saas/jobs/${wrongTest.json().jobId}`,
      headers: clinic.headers,
    });
    expect(seen.json()).toMatchObject({
      status: "failed",
      lastError: "Webhook endpoint answered HTTP 401: HMAC mismatch",
    });
  });
});
