import { createGoogleTokenRepository } from "@ecodrix/integrations";
import { type GoogleFake, startGoogleFake } from "@ecodrix/test-kit/fakes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CrmTestEnv, startCrmTestEnv } from "../../test/crm-test-env.js";

/**
 * Google Meet links end to end: the CRM enqueues `create_meet`, the Google integration's real handler
 * creates the event on the fake Google Calendar and reports `meet_created`, the CRM stores the URL.
 */
describe("CRM and Google Meet (fake Google)", () => {
  let env: CrmTestEnv;
  let fake: GoogleFake;
  const code = "meetclinic";
  const as = () => env.tenants[code]?.headers ?? {};

  beforeAll(async () => {
    fake = await startGoogleFake();
    env = await startCrmTestEnv({ tenants: [code], workerEnv: fake.settings });
    // Runbook §1 step 4, as its callback stores it: the clinic's Google account is connected.
    const email = "doctor@meetclinic.example";
    const refreshToken = fake.issueRefreshToken(email, [
      "https://www.googleapis.com/auth/calendar.events",
      "https://www.googleapis.com/auth/userinfo.email",
    ]);
    await createGoogleTokenRepository({ db: env.api.db, crypto: env.api.tenancy.crypto }).save(code, {
      email,
      refreshToken,
      scopes: ["https://www.googleapis.com/auth/calendar.events"],
    });
  });
  afterAll(async () => {
    await env.close();
    await fake.stop();
  });

  async function call(method: "POST" | "PATCH" | "GET", url: string, payload?: Record<string, unknown>) {
    const response = await env.api.app.inject({
      method,
      url,
      headers: as(),
      ...(payload ? { payload } : {}),
    });
    expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    return response.json();
  }

  it("createMeet: true → a Calendar event with a Meet link; its URL lands on the appointment", async () => {
    const lead = await call("POST", "/api/crm/leads", {
      name: "Asha Rao",
      phone: "+919860000001",
      email: "asha@patient.example",
    });
    const appointment = await call("POST", "/api/crm/appointments", {
      leadId: lead.id,
      startsAt: "2031-03-02T05:00:00Z",
      durationMinutes: 20,
      title: "Video consultation",
      createMeet: true,
    });
    expect(appointment.meetStatus).toBe("requested");
    const stored = await env.until("the Meet URL on the appointment", async () => {
      const current = await call("GET", `/api/crm/appointments/${appointment.id}`);
      return current.meetUrl ? current : null;
    });
    const [event] = fake.events.filter((entry) => entry.summary === "Video consultation");
    expect(event?.meetUrl).toBeTruthy();
    expect(stored).toMatchObject({ meetUrl: event?.meetUrl, meetStatus: "created" });
    expect(event?.attendees).toEqual(["asha@patient.example"]);
  });

  it("a create_meet action of an automation: the meeting's URL on the appointment, `created` on the run's step", async () => {
    const automation = await call("POST", "/api/crm/automations", {
      name: "Meet on confirmation",
      trigger: "appointment_confirmed",
      actions: [{ type: "create_meet", config: { title: "Consultation with {{lead.name}}" } }],
    });
    const lead = await call("POST", "/api/crm/leads", { name: "Vikram", phone: "+919860000002" });
    const appointment = await call("POST", "/api/crm/appointments", {
      leadId: lead.id,
      startsAt: "2031-03-03T05:00:00Z",
    });
    await call("PATCH", `/api/crm/appointments/${appointment.id}`, { status: "confirmed" });
    const run = await env.until("the run's step outcome", async () => {
      const runs = await call("GET", `/api/crm/automations/${automation.id}/runs`);
      const found = runs.runs.find((entry: { leadId: string }) => entry.leadId === lead.id);
      return found?.steps[0]?.outcome === "created" ? found : null;
    });
    expect(run.steps[0]).toMatchObject({ action: "create_meet", jobType: "create_meet", status: "created" });
    const [event] = fake.events.filter((entry) => entry.summary === "Consultation with Vikram");
    expect(event?.meetUrl).toBeTruthy();
    expect((await call("GET", `/api/crm/appointments/${appointment.id}`)).meetUrl).toBe(event?.meetUrl);
  });
});
