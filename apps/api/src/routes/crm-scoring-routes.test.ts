import { setTimeout as sleep } from "node:timers/promises";
import {
  LEAD_EVENTS_COLLECTION,
  LEADS_COLLECTION,
  leadScoreRecalculationJob,
  type ScoringJobDeps,
  scoreRecalculationJob,
} from "@ecodrix/crm";
import { createLogger } from "@ecodrix/platform";
import { createJobRegistry, createWorkerRunner, type WorkerRunner } from "@ecodrix/queue";
import { type Db, ObjectId } from "mongodb";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { admin, startTestApi, type TestApi, tenantHeaders } from "../../test/test-app.js";

const rules = {
  rules: [
    { name: "Ads", when: { field: "source", equals: "google_ads" }, points: 10 },
    { name: "VIP", when: { field: "tags", equals: "vip" }, points: 25 },
    { name: "Insured", when: { field: "customFields.insured", exists: true }, points: 5 },
    { name: "Read", when: { event: "message_read", withinDays: 7, atLeast: 2 }, points: 8 },
    { name: "No-show", when: { event: "appointment_no_show", withinDays: 30 }, points: -20 },
  ],
};

describe("lead scoring routes (API + worker, real database)", () => {
  let api: TestApi;
  const keys: Record<string, string> = {};
  const runners: WorkerRunner[] = [];
  const tenantDb = (code: string): Db => api.mongo.client.db(`${api.mongo.dbName}_${code}`);
  const as = (code: string) => tenantHeaders(code, keys[code] ?? "");

  async function createClient(name: string, email: string, withDatabase: boolean): Promise<string> {
    const response = await api.app.inject({
      method: "POST",
      url: "/api/clients",
      headers: admin,
      payload: { name, email },
    });
    const { clientCode, apiKey } = response.json() as { clientCode: string; apiKey: string };
    keys[clientCode] = apiKey;
    if (withDatabase) {
      const registered = await api.app.inject({
        method: "POST",
        url: `/api/clients/${clientCode}/datasource`,
        headers: admin,
        payload: { dbUri: `${api.mongo.uri}/${api.mongo.dbName}_${clientCode}` },
      });
      expect(registered.statusCode).toBeLessThan(300);
    }
    return clientCode;
  }

  function startWorker(): void {
    const deps: ScoringJobDeps = { tenancy: api.tenancy, queue: api.queue, clock: () => new Date() };
    const runner = createWorkerRunner({
      queue: api.queue,
      jobs: createJobRegistry([scoreRecalculationJob, leadScoreRecalculationJob], deps),
      logger: createLogger({ level: "silent", name: "test-worker" }),
      concurrency: 2,
      leaseMs: 5_000,
      pollMinMs: 10,
      pollMaxMs: 50,
    });
    runner.start();
    runners.push(runner);
  }

  async function finished(code: string, jobId: string) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const response = await api.app.inject({
        method: "GET",
        url: `/api/saas/jobs/${jobId}`,
        headers: as(code),
      });
      const job = response.json();
      if (job.status === "completed" || job.status === "failed") return job;
      if (Date.now() > deadline) throw new Error(`job ${jobId} still ${job.status}`);
      await sleep(25);
    }
  }

  beforeAll(async () => {
    api = await startTestApi();
    await createClient("Alpha Clinic", "hi@alphaclinic.com", true);
    await createClient("Beta Clinic", "hi@betaclinic.com", true);
    await createClient("Gamma Clinic", "hi@gammaclinic.com", false);
  });
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((runner) => runner.stop()));
  });
  afterAll(async () => {
    for (const code of ["alphaclinic", "betaclinic"]) await tenantDb(code).dropDatabase();
    await api.close();
  });

  it("rules: version 0 before the first PUT; PUT stores a new version, returns it and enqueues a recalculation", async () => {
    const empty = await api.app.inject({
      method: "GET",
      url: "/api/crm/scoring/rules",
      headers: as("alphaclinic"),
    });
    expect(empty.statusCode).toBe(200);
    expect(empty.json()).toEqual({ rules: [], version: 0, updatedAt: null });

    const put = await api.app.inject({
      method: "PUT",
      url: "/api/crm/scoring/rules",
      headers: as("alphaclinic"),
      payload: { ...rules, decay: { halfLifeDays: 14 } },
    });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ ...rules, decay: { halfLifeDays: 14 }, version: 1 });
    const job = await api.queue.get(put.json().recalculationJobId);
    expect(job).toMatchObject({ type: "score_recalculation", clientCode: "alphaclinic", status: "pending" });

    const second = await api.app.inject({
      method: "PUT",
      url: "/api/crm/scoring/rules",
      headers: as("alphaclinic"),
      payload: rules,
    });
    expect(second.json()).toMatchObject({ version: 2 });
    expect(second.json()).not.toHaveProperty("decay");
    // The pending recalculation is reused, not doubled.
    expect(second.json().recalculationJobId).toBe(put.json().recalculationJobId);
    const got = await api.app.inject({
      method: "GET",
      url: "/api/crm/scoring/rules",
      headers: as("alphaclinic"),
    });
    expect(got.json()).toEqual({ ...rules, version: 2, updatedAt: expect.any(String) });
    // Another tenant's rules are its own.
    const beta = await api.app.inject({
      method: "GET",
      url: "/api/crm/scoring/rules",
      headers: as("betaclinic"),
    });
    expect(beta.json()).toMatchObject({ rules: [], version: 0 });
    await api.queue.jobs.deleteMany({});
  });

  it("bad rules are a 400 naming the field, and change nothing", async () => {
    const cases: [unknown, string][] = [
      [{}, "body/rules is required"],
      [
        { rules: [{ name: "x", when: { field: "stage", equals: "new" } }] },
        "body/rules/0/points is required",
      ],
      [
        { rules: [{ name: "x", when: { field: "stage", equals: "new" }, points: "5" }] },
        "body/rules/0/points must be number",
      ],
      [
        { rules: [{ name: "x", when: { field: "stage", equal: "new" }, points: 5 }] },
        "body/rules/0/when/equal is not an allowed field",
      ],
      [
        { rules: [{ name: "x", when: { event: "message_read", withinDays: 0 }, points: 5 }] },
        "body/rules/0/when/withinDays must be >= 1",
      ],
      [
        { rules: [{ name: "x", when: { event: "message_raed", withinDays: 3 }, points: 5 }] },
        "body/rules/0/when/event must be one of",
      ],
      [
        { rules: [{ name: "x", when: { field: "phone", exists: true }, points: 5 }] },
        "body/rules/0/when/field must be source, stage, tags or customFields.<key>",
      ],
      [
        { rules: [{ name: "x", when: { field: "stage" }, points: 5 }] },
        "body/rules/0/when must have one of equals, in or exists",
      ],
      [{ rules: [], decay: { halfLifeDays: 0 } }, "body/decay/halfLifeDays must be > 0"],
      [
        { rules: [{ name: "a.b", when: { field: "stage", equals: "x" }, points: 1 }] },
        "body/rules/0/name must start",
      ],
    ];
    for (const [payload, message] of cases) {
      const response = await api.app.inject({
        method: "PUT",
        url: "/api/crm/scoring/rules",
        headers: as("alphaclinic"),
        payload: payload as object,
      });
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json()).toMatchObject({ statusCode: 400, error: "Bad Request" });
      expect(response.json().message, JSON.stringify(payload)).toContain(message);
    }
    const got = await api.app.inject({
      method: "GET",
      url: "/api/crm/scoring/rules",
      headers: as("alphaclinic"),
    });
    expect(got.json().version).toBe(2);
    expect(await api.queue.jobs.countDocuments({})).toBe(0);
  });

  it("one lead: 202 { jobId }, the worker's result is { leadId, score, previousScore }; another tenant's lead is a 404", async () => {
    const leadId = new ObjectId();
    await tenantDb("alphaclinic")
      .collection(LEADS_COLLECTION)
      .insertOne({
        _id: leadId,
        name: "Asha",
        phone: "+919800000001",
        source: "google_ads",
        stage: "new",
        tags: ["vip"],
        customFields: {},
        score: 0,
      });
    await tenantDb("alphaclinic")
      .collection(LEAD_EVENTS_COLLECTION)
      .insertMany([
        { leadId, type: "message_read", at: new Date(Date.now() - 86_400_000), data: {} },
        { leadId, type: "message_read", at: new Date(Date.now() - 2 * 86_400_000), data: {} },
      ]);
    // The runbook's call: no body, no Content-Type.
    const accepted = await api.app.inject({
      method: "POST",
      url: `/api/crm/scoring/${leadId.toHexString()}/recalculate`,
      headers: as("alphaclinic"),
    });
    expect(accepted.statusCode).toBe(202);
    const { jobId } = accepted.json() as { jobId: string };
    // A second request before it ran is coalesced into the same job.
    const again = await api.app.inject({
      method: "POST",
      url: `/api/crm/scoring/${leadId.toHexString()}/recalculate`,
      headers: as("alphaclinic"),
    });
    expect(again.json().jobId).toBe(jobId);
    startWorker();
    const job = await finished("alphaclinic", jobId);
    expect(job).toMatchObject({
      status: "completed",
      result: { leadId: leadId.toHexString(), score: 43, previousScore: 0 },
    });
    expect(await tenantDb("alphaclinic").collection(LEADS_COLLECTION).findOne({ _id: leadId })).toMatchObject(
      {
        score: 43,
        scoreBreakdown: { Ads: 10, VIP: 25, Read: 8 },
      },
    );

    // Beta asks for Alpha's lead: the same 404 as an unknown id, and nothing is enqueued.
    const before = await api.queue.jobs.countDocuments({});
    const foreign = await api.app.inject({
      method: "POST",
      url: `/api/crm/scoring/${leadId.toHexString()}/recalculate`,
      headers: as("betaclinic"),
    });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json()).toMatchObject({
      message: `Lead ${leadId.toHexString()} not found`,
      code: "ECODRIX_LEADS_NOT_FOUND",
    });
    // Nor can Beta read Alpha's job.
    const peek = await api.app.inject({
      method: "GET",
      url: `/api/saas/jobs/${jobId}`,
      headers: as("betaclinic"),
    });
    expect(peek.statusCode).toBe(404);
    expect(await api.queue.jobs.countDocuments({})).toBe(before);
    const malformed = await api.app.inject({
      method: "POST",
      url: "/api/crm/scoring/not-an-id/recalculate",
      headers: as("alphaclinic"),
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().message).toContain("params/leadId");
  });

  it("all leads: 202 { jobId }; the job shows processed / total while it runs and per-tenant figures at the end", async () => {
    const leads = tenantDb("betaclinic").collection(LEADS_COLLECTION);
    await leads.insertMany(
      Array.from({ length: 2_500 }, (_, i) => ({
        name: `Lead ${i}`,
        phone: `+9198${String(i).padStart(8, "0")}`,
        source: i % 2 === 0 ? "google_ads" : "walk_in",
        stage: "new",
        tags: i % 5 === 0 ? ["vip"] : [],
        customFields: {},
        score: 0,
      })),
    );
    await api.app.inject({
      method: "PUT",
      url: "/api/crm/scoring/rules",
      headers: as("betaclinic"),
      payload: rules,
    });
    await api.queue.jobs.deleteMany({ clientCode: "betaclinic" });
    const accepted = await api.app.inject({
      method: "POST",
      url: "/api/crm/scoring/recalculate",
      headers: as("betaclinic"),
    });
    expect(accepted.statusCode).toBe(202);
    const { jobId } = accepted.json() as { jobId: string };
    startWorker();
    const seen: { processed: number; total: number }[] = [];
    for (;;) {
      const job = (
        await api.app.inject({ method: "GET", url: `/api/saas/jobs/${jobId}`, headers: as("betaclinic") })
      ).json();
      if (job.status === "processing" && job.progress) seen.push(job.progress);
      if (job.status === "completed") {
        expect(job.progress).toEqual({ processed: 2_500, total: 2_500 });
        expect(job.result).toMatchObject({
          clientCode: "betaclinic",
          processed: 2_500,
          total: 2_500,
          changed: 1_500,
          failedTenants: 0,
          tenants: [{ clientCode: "betaclinic", status: "done", processed: 2_500, changed: 1_500 }],
        });
        break;
      }
      expect(job.status).not.toBe("failed");
      await sleep(5);
    }
    // Seen mid-run: some leads done, not all (batches of 1,000).
    expect(
      seen.some(
        (progress) => progress.processed > 0 && progress.processed < 2_500 && progress.total === 2_500,
      ),
    ).toBe(true);
    expect(await leads.countDocuments({ score: 35 })).toBe(250);
    expect(await leads.countDocuments({ score: 10 })).toBe(1_000);
    expect(await leads.countDocuments({ score: 25 })).toBe(250);
  });

  it("a client without a tenant database gets 409 `No tenant connection for <clientCode>` on every scoring route", async () => {
    const routes = [
      { method: "GET" as const, url: "/api/crm/scoring/rules" },
      { method: "PUT" as const, url: "/api/crm/scoring/rules", payload: rules },
      { method: "POST" as const, url: "/api/crm/scoring/recalculate" },
      { method: "POST" as const, url: `/api/crm/scoring/${new ObjectId().toHexString()}/recalculate` },
    ];
    for (const route of routes) {
      const response = await api.app.inject({ ...route, headers: as("gammaclinic") });
      expect(response.statusCode, route.url).toBe(409);
      expect(response.json().message).toBe("No tenant connection for gammaclinic");
    }
    expect(await api.queue.jobs.countDocuments({ clientCode: "gammaclinic" })).toBe(0);
  });
});
