import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, startTestApi, type TestApi, tenantHeaders } from "../test/test-app.js";

/** Every tenant route, tried with the wrong tenant's credentials and on the other tenant's data. */
describe("tenant isolation", () => {
  let api: TestApi;
  const keys: Record<string, string> = {};
  let jobOfA = "";
  let jobOfB = "";

  async function create(name: string, email: string): Promise<string> {
    const response = await api.app.inject({
      method: "POST",
      url: "/api/clients",
      headers: admin,
      payload: { name, email },
    });
    expect(response.statusCode).toBe(201);
    const { clientCode, apiKey } = response.json() as { clientCode: string; apiKey: string };
    keys[clientCode] = apiKey;
    return clientCode;
  }
  const as = (code: string, key: string) => tenantHeaders(code, key);

  /** Every route of the tenant scope, as Fastify registered it (its onRoute hook). */
  const registered: { method: string; url: string }[] = [];

  beforeAll(async () => {
    api = await startTestApi({ onTenantRoute: (route) => registered.push(route) });
    await create("Alpha Clinic", "hi@alphaclinic.com");
    await create("Beta Clinic", "hi@betaclinic.com");
    for (const code of ["alphaclinic", "betaclinic"]) {
      await api.app.inject({
        method: "POST",
        url: `/api/clients/${code}/datasource`,
        headers: admin,
        payload: { dbUri: `${api.mongo.uri}/${api.mongo.dbName}_${code}` },
      });
      await api.app.inject({
        method: "POST",
        url: "/api/saas/cors",
        headers: as(code, keys[code] ?? ""),
        payload: { url: `https://${code}.com` },
      });
    }
    jobOfA = String(
      (await api.queue.enqueue({ type: "send_email", clientCode: "alphaclinic", payload: { to: "a@x" } }))
        ._id,
    );
    jobOfB = String(
      (await api.queue.enqueue({ type: "send_email", clientCode: "betaclinic", payload: { to: "b@x" } }))._id,
    );
  });
  afterAll(async () => {
    for (const code of ["alphaclinic", "betaclinic"]) {
      await api.mongo.client.db(`${api.mongo.dbName}_${code}`).dropDatabase();
    }
    await api.close();
  });

  const tenantRoutes = () => [
    { method: "POST" as const, url: "/api/saas/cors", payload: { url: "https://evil.example" } },
    { method: "GET" as const, url: "/api/saas/cors" },
    { method: "DELETE" as const, url: "/api/saas/cors?url=https://alphaclinic.com" },
    { method: "GET" as const, url: `/api/saas/jobs/${jobOfA}` },
    { method: "GET" as const, url: "/api/saas/tenant/health" },
    { method: "GET" as const, url: "/api/crm/scoring/rules" },
    { method: "PUT" as const, url: "/api/crm/scoring/rules", payload: { rules: [] } },
    { method: "POST" as const, url: "/api/crm/scoring/recalculate" },
    { method: "POST" as const, url: "/api/crm/scoring/0123456789abcdef01234567/recalculate" },
    { method: "POST" as const, url: "/api/saas/google/connect-link" },
    { method: "GET" as const, url: "/api/saas/google" },
    { method: "DELETE" as const, url: "/api/saas/google" },
    { method: "POST" as const, url: "/api/saas/chat/templates/sync" },
    { method: "GET" as const, url: "/api/saas/chat/templates" },
    {
      method: "POST" as const,
      url: "/api/saas/chat/messages",
      payload: { to: "+919812345678", templateName: "appointment_confirmed", language: "en_US" },
    },
    { method: "GET" as const, url: "/api/saas/chat/messages" },
    {
      method: "POST" as const,
      url: "/api/saas/email/messages",
      payload: { to: "eve@example.com", subject: "x", text: "y" },
    },
    {
      method: "POST" as const,
      url: "/api/saas/webhooks",
      payload: { url: "https://evil.example/hook", events: ["automation.action"] },
    },
    { method: "GET" as const, url: "/api/saas/webhooks" },
    { method: "GET" as const, url: `/api/saas/webhooks/${someId}` },
    { method: "DELETE" as const, url: `/api/saas/webhooks/${someId}` },
    { method: "POST" as const, url: `/api/saas/webhooks/${someId}/test` },
    // The CRM: its isolation on real data (one tenant's ids in another's hands) is in crm/crm-isolation.test.ts.
    ...crmRoutes(),
  ];
  const someId = "0123456789abcdef01234567";
  const crmRoutes = () => [
    { method: "POST" as const, url: "/api/crm/leads", payload: { name: "Eve", phone: "+919800000000" } },
    { method: "GET" as const, url: "/api/crm/leads" },
    { method: "GET" as const, url: `/api/crm/leads/${someId}` },
    { method: "PATCH" as const, url: `/api/crm/leads/${someId}`, payload: { stage: "lost" } },
    { method: "DELETE" as const, url: `/api/crm/leads/${someId}` },
    { method: "GET" as const, url: `/api/crm/leads/${someId}/events` },
    {
      method: "POST" as const,
      url: "/api/crm/appointments",
      payload: { leadId: someId, startsAt: "2031-01-01T10:00:00Z" },
    },
    { method: "GET" as const, url: "/api/crm/appointments" },
    { method: "GET" as const, url: `/api/crm/appointments/${someId}` },
    { method: "PATCH" as const, url: `/api/crm/appointments/${someId}`, payload: { status: "cancelled" } },
    {
      method: "POST" as const,
      url: "/api/crm/automations",
      payload: {
        name: "x",
        trigger: "lead_created",
        actions: [{ type: "update_lead", config: { stage: "a" } }],
      },
    },
    { method: "GET" as const, url: "/api/crm/automations" },
    { method: "POST" as const, url: "/api/crm/automations/disable-all" },
    { method: "GET" as const, url: `/api/crm/automations/${someId}` },
    { method: "PATCH" as const, url: `/api/crm/automations/${someId}`, payload: { enabled: false } },
    { method: "DELETE" as const, url: `/api/crm/automations/${someId}` },
    { method: "GET" as const, url: `/api/crm/automations/${someId}/runs` },
    { method: "POST" as const, url: "/api/crm/events", payload: { name: "ping", leadId: someId } },
  ];

  it("every tenant route has a case here (a new route cannot be forgotten)", () => {
    expect(registered.length).toBeGreaterThan(0);
    const cases = tenantRoutes().map((route) => ({
      method: route.method,
      path: route.url.split("?")[0] ?? "",
    }));
    const missing = registered.filter((route) => {
      const pattern = new RegExp(`^${route.url.replace(/:[A-Za-z]+/g, "[^/]+")}$`);
      return !cases.some((test) => test.method === route.method && pattern.test(test.path));
    });
    expect(missing, "tenant routes without an isolation case in tenantRoutes()").toEqual([]);
  });

  it("a re-used client code cannot read the earlier client's jobs; offboarding empties their payloads and results", async () => {
    const first = await create("Delta Dental", "hi@deltadental.com");
    const oldKey = keys[first] ?? "";
    const done = await api.queue.enqueue({
      type: "send_email",
      clientCode: first,
      payload: { to: "patient@example.com", subject: "Your results" },
    });
    const [claimed] = await api.queue.claimBatch({
      workerId: "w",
      leaseMs: 10_000,
      limit: 1,
      exclude: { onlyClientCodes: [first] },
    });
    expect(await api.queue.complete(claimed!, { messageId: "<secret-result@x>" })).toBe(true);
    expect(String(claimed!._id)).toBe(String(done._id));
    const pending = await api.queue.enqueue({ type: "send_email", clientCode: first, delayMs: 60_000 });
    const seen = await api.app.inject({
      method: "GET",
      url: `/api/saas/jobs/${done._id}`,
      headers: as(first, oldKey),
    });
    expect(seen.statusCode).toBe(200);

    const removed = await api.app.inject({ method: "DELETE", url: `/api/clients/${first}`, headers: admin });
    expect(removed.json()).toMatchObject({ pendingJobsCancelled: 1, finishedJobsAnonymized: 2 });
    for (const id of [done._id, pending._id]) {
      const job = await api.queue.get(id);
      expect(job?.payload).toEqual({});
      expect(job).not.toHaveProperty("result");
    }

    const again = await create("Delta Dental", "hi@deltadental.com");
    expect(again).toBe(first);
    const newKey = keys[again] ?? "";
    const old = await api.app.inject({
      method: "GET",
      url: `/api/saas/jobs/${done._id}`,
      headers: as(again, newKey),
    });
    expect(old.statusCode).toBe(404);
    expect(old.body).not.toContain("secret-result");
    const own = await api.queue.enqueue({ type: "send_email", clientCode: again });
    const mine = await api.app.inject({
      method: "GET",
      url: `/api/saas/jobs/${own._id}`,
      headers: as(again, newKey),
    });
    expect(mine.statusCode).toBe(200);
  });

  it("B's key with A's code is `Invalid API key` on every tenant route, and changes nothing", async () => {
    for (const route of tenantRoutes()) {
      const response = await api.app.inject({ ...route, headers: as("alphaclinic", keys.betaclinic ?? "") });
      expect(response.statusCode, `${route.method} ${route.url}`).toBe(401);
      expect(response.json().message).toBe("Invalid API key");
    }
    expect(await api.tenancy.corsOrigins.list("alphaclinic")).toEqual(["https://alphaclinic.com"]);
  });

  it("no key, or no code, is refused on every tenant route", async () => {
    for (const route of tenantRoutes()) {
      const noKey = await api.app.inject({ ...route, headers: { "x-client-code": "alphaclinic" } });
      expect(noKey.statusCode).toBe(401);
      expect(noKey.json().message).toBe("Missing x-api-key header");
      const noCode = await api.app.inject({ ...route, headers: { "x-api-key": keys.alphaclinic ?? "" } });
      expect(noCode.statusCode).toBe(401);
      expect(noCode.json().message).toBe("Missing x-client-code header");
    }
  });

  it("WhatsApp: A's templates and message log never show B's; A's sends and syncs are A's jobs", async () => {
    await api.tenancy.tenantConnections.withDb("betaclinic", async (db) => {
      await db.collection("whatsapp_templates").insertOne({
        name: "beta_secret_template",
        language: "en_US",
        status: "APPROVED",
        category: "UTILITY",
        components: [],
        id: "b1",
        syncedAt: new Date(),
      });
      await db.collection("message_log").insertOne({
        jobId: "beta-job",
        channel: "whatsapp",
        to: "+919800000001",
        templateName: "beta_secret_template",
        language: "en_US",
        providerMessageId: "wamid.BETA",
        status: "delivered",
        statusAt: new Date(),
        sendingUntil: null,
        errors: [],
        createdAt: new Date(),
      });
    });
    const headers = as("alphaclinic", keys.alphaclinic ?? "");
    for (const url of [
      "/api/saas/chat/templates",
      "/api/saas/chat/messages",
      "/api/saas/chat/messages?to=%2B919800000001",
    ]) {
      const response = await api.app.inject({ method: "GET", url, headers });
      expect(response.statusCode, url).toBe(200);
      expect(response.body).not.toContain("beta");
      expect(response.body).not.toContain("BETA");
    }
    const beta = await api.app.inject({
      method: "GET",
      url: "/api/saas/chat/messages",
      headers: as("betaclinic", keys.betaclinic ?? ""),
    });
    expect(beta.json().messages.map((message: { wamid: string }) => message.wamid)).toEqual(["wamid.BETA"]);
    for (const [url, payload] of [
      ["/api/saas/chat/templates/sync", undefined],
      [
        "/api/saas/chat/messages",
        { to: "+919812345678", templateName: "beta_secret_template", language: "en_US" },
      ],
    ] as const) {
      const response = await api.app.inject({
        method: "POST",
        url,
        headers,
        ...(payload ? { payload } : {}),
      });
      expect(response.statusCode).toBe(202);
      expect((await api.queue.get(response.json().jobId))?.clientCode).toBe("alphaclinic");
    }
  });

  it("jobs: A reads its own job; B's job is the same 404 as an unknown id", async () => {
    const own = await api.app.inject({
      method: "GET",
      url: `/api/saas/jobs/${jobOfA}`,
      headers: as("alphaclinic", keys.alphaclinic ?? ""),
    });
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({ id: jobOfA, type: "send_email", status: "pending", lastError: null });
    for (const hidden of ["payload", "lockedBy", "lockedUntil", "errors", "clientCode"])
      expect(own.json()).not.toHaveProperty(hidden);

    const foreign = await api.app.inject({
      method: "GET",
      url: `/api/saas/jobs/${jobOfB}`,
      headers: as("alphaclinic", keys.alphaclinic ?? ""),
    });
    const unknown = await api.app.inject({
      method: "GET",
      url: "/api/saas/jobs/0123456789abcdef01234567",
      headers: as("alphaclinic", keys.alphaclinic ?? ""),
    });
    expect(foreign.statusCode).toBe(404);
    expect(unknown.statusCode).toBe(404);
    expect(foreign.json().message.replace(jobOfB, "ID")).toBe(
      unknown.json().message.replace("0123456789abcdef01234567", "ID"),
    );
    expect(foreign.body).not.toContain("send_email");
  });

  it("CORS: A lists only its own origins and cannot delete B's", async () => {
    const list = await api.app.inject({
      method: "GET",
      url: "/api/saas/cors",
      headers: as("alphaclinic", keys.alphaclinic ?? ""),
    });
    expect(list.json().origins).toEqual(["https://alphaclinic.com"]);
    const removeB = await api.app.inject({
      method: "DELETE",
      url: "/api/saas/cors?url=https://betaclinic.com",
      headers: as("alphaclinic", keys.alphaclinic ?? ""),
    });
    expect(removeB.statusCode).toBe(404);
    expect(removeB.json().message).toBe("Origin https://betaclinic.com is not registered for alphaclinic");
    expect(await api.tenancy.corsOrigins.list("betaclinic")).toEqual(["https://betaclinic.com"]);
    // A registering B's origin gives A its own entry; removing it later leaves B's untouched.
    await api.app.inject({
      method: "POST",
      url: "/api/saas/cors",
      headers: as("alphaclinic", keys.alphaclinic ?? ""),
      payload: { url: "https://betaclinic.com" },
    });
    await api.app.inject({
      method: "DELETE",
      url: "/api/saas/cors?url=https://betaclinic.com",
      headers: as("alphaclinic", keys.alphaclinic ?? ""),
    });
    expect(await api.tenancy.corsOrigins.list("betaclinic")).toEqual(["https://betaclinic.com"]);
  });

  it("tenant database: each tenant reaches only its own database", async () => {
    const a = await api.app.inject({
      method: "GET",
      url: "/api/saas/tenant/health",
      headers: as("alphaclinic", keys.alphaclinic ?? ""),
    });
    const b = await api.app.inject({
      method: "GET",
      url: "/api/saas/tenant/health",
      headers: as("betaclinic", keys.betaclinic ?? ""),
    });
    expect(a.json().dbName).toBe(`${api.mongo.dbName}_alphaclinic`);
    expect(b.json().dbName).toBe(`${api.mongo.dbName}_betaclinic`);
  });

  it("a suspended client's key stops working at once and works again when reactivated", async () => {
    const suspend = await api.app.inject({
      method: "PATCH",
      url: "/api/clients/betaclinic",
      headers: admin,
      payload: { status: "suspended" },
    });
    expect(suspend.json().status).toBe("suspended");
    const refused = await api.app.inject({
      method: "GET",
      url: "/api/saas/cors",
      headers: as("betaclinic", keys.betaclinic ?? ""),
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().message).toBe("Client is suspended");
    // A wrong key still gets `Invalid API key`: the suspension is not revealed to key guessers.
    const guess = await api.app.inject({
      method: "GET",
      url: "/api/saas/cors",
      headers: as("betaclinic", keys.alphaclinic ?? ""),
    });
    expect(guess.json().message).toBe("Invalid API key");
    await api.app.inject({
      method: "PATCH",
      url: "/api/clients/betaclinic",
      headers: admin,
      payload: { status: "active" },
    });
    expect(
      (
        await api.app.inject({
          method: "GET",
          url: "/api/saas/cors",
          headers: as("betaclinic", keys.betaclinic ?? ""),
        })
      ).statusCode,
    ).toBe(200);
  });

  it("admin routes refuse tenant credentials", async () => {
    const response = await api.app.inject({
      method: "GET",
      url: "/api/clients",
      headers: as("alphaclinic", keys.alphaclinic ?? ""),
    });
    expect(response.statusCode).toBe(401);
  });
});

describe("key rotation across two API processes (no cache)", () => {
  it("once rotate-key has returned on one process, the other refuses the old key on its next request", async () => {
    const first = await startTestApi();
    const second = await startTestApi({ shareDatabaseOf: first, keys: first.keys });
    try {
      const created = (
        await first.app.inject({
          method: "POST",
          url: "/api/clients",
          headers: admin,
          payload: { name: "Gamma", email: "a@gamma.org" },
        })
      ).json() as { clientCode: string; apiKey: string };
      const oldKey = created.apiKey;
      const ok = await second.app.inject({
        method: "GET",
        url: "/api/saas/cors",
        headers: tenantHeaders("gamma", oldKey),
      });
      expect(ok.statusCode).toBe(200);
      const rotated = await first.app.inject({
        method: "POST",
        url: "/api/clients/gamma/rotate-key",
        headers: admin,
      });
      const newKey = rotated.json().apiKey as string;
      const stale = await second.app.inject({
        method: "GET",
        url: "/api/saas/cors",
        headers: tenantHeaders("gamma", oldKey),
      });
      expect(stale.statusCode).toBe(401);
      expect(stale.json().message).toBe("Invalid API key");
      expect(
        (
          await second.app.inject({
            method: "GET",
            url: "/api/saas/cors",
            headers: tenantHeaders("gamma", newKey),
          })
        ).statusCode,
      ).toBe(200);
    } finally {
      await second.close();
      await first.close();
    }
  });
});
