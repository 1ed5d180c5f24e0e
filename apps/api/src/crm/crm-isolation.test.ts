import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CrmTestEnv, startCrmTestEnv, syncedTemplates } from "../../test/crm-test-env.js";

type Route = { method: "GET" | "POST" | "PATCH" | "DELETE"; url: string; payload?: Record<string, unknown> };

/**
 * One tenant can never read, change or trigger another's leads, appointments, automations or runs;
 * a client without a datasource gets `No tenant connection for <clientCode>` on every CRM route.
 */
describe("CRM tenant isolation", () => {
  let env: CrmTestEnv;
  const ids = { lead: "", appointment: "", automation: "" };

  beforeAll(async () => {
    env = await startCrmTestEnv({ tenants: ["alpha", "beta"], withoutDatasource: ["nodb"] });
    for (const code of ["alpha", "beta"]) {
      const db = env.tenants[code]?.db;
      if (db) await syncedTemplates(db, [{ name: "welcome", language: "en_US" }]);
    }
    const a = env.tenants.alpha?.headers ?? {};
    const inject = async (route: Route) => {
      const response = await env.api.app.inject({ ...route, headers: a });
      expect(response.statusCode, response.body).toBe(201);
      return response.json().id as string;
    };
    ids.automation = await inject({
      method: "POST",
      url: "/api/crm/automations",
      payload: {
        name: "Alpha custom",
        trigger: "custom_event",
        triggerConfig: { name: "ping" },
        actions: [{ type: "send_whatsapp", config: { templateName: "welcome", language: "en_US" } }],
      },
    });
    ids.lead = await inject({
      method: "POST",
      url: "/api/crm/leads",
      payload: { name: "Alpha lead", phone: "+919850000001" },
    });
    ids.appointment = await inject({
      method: "POST",
      url: "/api/crm/appointments",
      payload: { leadId: ids.lead, startsAt: "2031-05-01T10:00:00Z" },
    });
  });
  afterAll(async () => env.close());

  /** Every CRM route, aimed at alpha's resources. */
  const crmRoutes = (): Route[] => [
    { method: "GET", url: `/api/crm/leads/${ids.lead}` },
    { method: "PATCH", url: `/api/crm/leads/${ids.lead}`, payload: { stage: "stolen" } },
    { method: "DELETE", url: `/api/crm/leads/${ids.lead}` },
    { method: "GET", url: `/api/crm/leads/${ids.lead}/events` },
    { method: "GET", url: `/api/crm/appointments/${ids.appointment}` },
    { method: "PATCH", url: `/api/crm/appointments/${ids.appointment}`, payload: { status: "cancelled" } },
    {
      method: "POST",
      url: "/api/crm/appointments",
      payload: { leadId: ids.lead, startsAt: "2031-05-02T10:00:00Z" },
    },
    { method: "GET", url: `/api/crm/automations/${ids.automation}` },
    { method: "PATCH", url: `/api/crm/automations/${ids.automation}`, payload: { enabled: false } },
    { method: "DELETE", url: `/api/crm/automations/${ids.automation}` },
    { method: "GET", url: `/api/crm/automations/${ids.automation}/runs` },
    { method: "POST", url: "/api/crm/events", payload: { name: "ping", leadId: ids.lead } },
  ];
  const collectionRoutes = (): Route[] => [
    { method: "POST", url: "/api/crm/leads", payload: { name: "N", phone: "+919850000009" } },
    { method: "GET", url: "/api/crm/leads" },
    { method: "GET", url: "/api/crm/appointments" },
    {
      method: "POST",
      url: "/api/crm/automations",
      payload: {
        name: "x",
        trigger: "lead_created",
        actions: [{ type: "update_lead", config: { stage: "a" } }],
      },
    },
    { method: "GET", url: "/api/crm/automations" },
    { method: "POST", url: "/api/crm/automations/disable-all" },
  ];

  it("beta gets the same 404 as for an unknown id on each of alpha's leads, appointments, automations and runs, and changes nothing", async () => {
    for (const route of crmRoutes()) {
      const response = await env.api.app.inject({ ...route, headers: env.tenants.beta?.headers ?? {} });
      expect(response.statusCode, `${route.method} ${route.url}`).toBe(404);
      expect(response.body).not.toContain("Alpha");
    }
    const a = env.tenants.alpha?.headers ?? {};
    const lead = await env.api.app.inject({ method: "GET", url: `/api/crm/leads/${ids.lead}`, headers: a });
    expect(lead.json()).toMatchObject({ stage: "new", name: "Alpha lead" });
    const appointment = await env.api.app.inject({
      method: "GET",
      url: `/api/crm/appointments/${ids.appointment}`,
      headers: a,
    });
    expect(appointment.json().status).toBe("booked");
    const automation = await env.api.app.inject({
      method: "GET",
      url: `/api/crm/automations/${ids.automation}`,
      headers: a,
    });
    expect(automation.json().enabled).toBe(true);
    const lists = await env.api.app.inject({
      method: "GET",
      url: "/api/crm/leads",
      headers: env.tenants.beta?.headers ?? {},
    });
    expect(lists.json().leads).toEqual([]);
  });

  it("beta cannot trigger alpha's automations: its events, even with alpha's names, start nothing of alpha's", async () => {
    const b = env.tenants.beta?.headers ?? {};
    const betaLead = await env.api.app.inject({
      method: "POST",
      url: "/api/crm/leads",
      headers: b,
      payload: { name: "Beta lead", phone: "+919850000001" },
    });
    expect(betaLead.statusCode).toBe(201);
    const fired = await env.api.app.inject({
      method: "POST",
      url: "/api/crm/events",
      headers: b,
      payload: { name: "ping", leadId: betaLead.json().id },
    });
    expect(fired.statusCode).toBe(201);
    await env.until("beta's events", async () => {
      const jobs = await env.jobs("automation_event", "beta");
      return jobs.length > 0 && jobs.every((job) => job.status === "completed");
    });
    expect(await env.jobs("send_whatsapp", "alpha")).toEqual([]);
    expect(await env.jobs("send_whatsapp", "beta")).toEqual([]);
    const runs = await env.api.app.inject({
      method: "GET",
      url: `/api/crm/automations/${ids.automation}/runs`,
      headers: env.tenants.alpha?.headers ?? {},
    });
    expect(runs.json().runs).toEqual([]);

    // Alpha's own event does start alpha's automation.
    const own = await env.api.app.inject({
      method: "POST",
      url: "/api/crm/events",
      headers: env.tenants.alpha?.headers ?? {},
      payload: { name: "ping", leadId: ids.lead },
    });
    expect(own.statusCode).toBe(201);
    const sends = await env.until("alpha's send", async () => {
      const jobs = await env.jobs("send_whatsapp", "alpha");
      return jobs.length === 1 ? jobs : null;
    });
    expect(sends[0]?.payload.to).toBe("+919850000001");
  });

  it("a client without a datasource gets 409 `No tenant connection for nodb` on every CRM route", async () => {
    const routes = [...crmRoutes(), ...collectionRoutes()];
    for (const route of routes) {
      const response = await env.api.app.inject({ ...route, headers: env.tenants.nodb?.headers ?? {} });
      expect(response.statusCode, `${route.method} ${route.url}: ${response.body}`).toBe(409);
      expect(response.json()).toMatchObject({
        message: "No tenant connection for nodb",
        code: "ECODRIX_TENANT_NO_CONNECTION",
      });
    }
  });
});
