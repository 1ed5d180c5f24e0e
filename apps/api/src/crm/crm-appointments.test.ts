import { APPOINTMENT_STATUSES, canTransition } from "@ecodrix/crm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CrmTestEnv, startCrmTestEnv } from "../../test/crm-test-env.js";

/** Appointments: the transition table, reschedules, Meet links (with the worker for meet_created). */
describe("CRM appointments", () => {
  let env: CrmTestEnv;
  const code = "apptclinic";
  const as = () => env.tenants[code]?.headers ?? {};
  let leadId = "";
  let phone = 0;

  async function book(extra: Record<string, unknown> = {}, lead = leadId) {
    const response = await env.api.app.inject({
      method: "POST",
      url: "/api/crm/appointments",
      headers: as(),
      payload: { leadId: lead, startsAt: "2031-03-01T09:00:00.000Z", ...extra },
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json();
  }
  const setStatus = (id: string, status: string) =>
    env.api.app.inject({
      method: "PATCH",
      url: `/api/crm/appointments/${id}`,
      headers: as(),
      payload: { status },
    });

  beforeAll(async () => {
    env = await startCrmTestEnv({ tenants: [code] });
    const lead = await env.api.app.inject({
      method: "POST",
      url: "/api/crm/leads",
      headers: as(),
      payload: { name: "Dev Patel", phone: "+919840000001", email: "dev@example.com" },
    });
    leadId = lead.json().id;
  });
  afterAll(async () => env.close());

  it("books with status booked, a default duration of 30 minutes, and fires appointment_booked", async () => {
    const appointment = await book({ title: "Consultation" });
    expect(appointment).toMatchObject({
      leadId,
      startsAt: "2031-03-01T09:00:00.000Z",
      durationMinutes: 30,
      status: "booked",
      title: "Consultation",
      meetUrl: null,
      meetStatus: null,
      rescheduleCount: 0,
    });
    const jobs = (await env.jobs("automation_event", code)).filter(
      (job) => job.payload.appointmentId === appointment.id,
    );
    expect(jobs.map((job) => job.payload.type)).toEqual(["appointment_booked"]);
  });

  it("allows exactly the transition table; anything else is a 409 naming both statuses and changes nothing", async () => {
    const allowed: Record<string, string[]> = {
      booked: ["confirmed", "cancelled", "no_show"],
      confirmed: ["completed", "cancelled", "no_show"],
      cancelled: [],
      completed: [],
      no_show: [],
    };
    const paths: Record<string, string[]> = {
      booked: [],
      confirmed: ["confirmed"],
      cancelled: ["cancelled"],
      completed: ["confirmed", "completed"],
      no_show: ["no_show"],
    };
    for (const from of APPOINTMENT_STATUSES) {
      for (const to of APPOINTMENT_STATUSES) {
        const appointment = await book();
        for (const step of paths[from] ?? [])
          expect((await setStatus(appointment.id, step)).statusCode).toBe(200);
        const response = await setStatus(appointment.id, to);
        const ok = allowed[from]?.includes(to) ?? false;
        expect(canTransition(from, to)).toBe(ok);
        if (ok) {
          expect(response.statusCode, `${from} → ${to}`).toBe(200);
          expect(response.json().status).toBe(to);
        } else {
          expect(response.statusCode, `${from} → ${to}`).toBe(409);
          expect(response.json()).toMatchObject({
            message: `Cannot change appointment status from ${from} to ${to}`,
            code: "ECODRIX_CRM_INVALID_TRANSITION",
          });
          const unchanged = await env.api.app.inject({
            method: "GET",
            url: `/api/crm/appointments/${appointment.id}`,
            headers: as(),
          });
          expect(unchanged.json().status).toBe(from);
        }
      }
    }
  });

  it("each transition fires its trigger once, with from and to", async () => {
    const appointment = await book();
    await setStatus(appointment.id, "confirmed");
    await setStatus(appointment.id, "completed");
    const types = (await env.jobs("automation_event", code))
      .filter((job) => job.payload.appointmentId === appointment.id)
      .map((job) => [job.payload.type, job.payload.data]);
    expect(types).toEqual([
      ["appointment_booked", { startsAt: "2031-03-01T09:00:00.000Z" }],
      ["appointment_confirmed", { from: "booked", to: "confirmed", startsAt: "2031-03-01T09:00:00.000Z" }],
      ["appointment_completed", { from: "confirmed", to: "completed", startsAt: "2031-03-01T09:00:00.000Z" }],
    ]);
  });

  it("reschedules booked and confirmed appointments; a completed one cannot move", async () => {
    const appointment = await book();
    const moved = await env.api.app.inject({
      method: "PATCH",
      url: `/api/crm/appointments/${appointment.id}`,
      headers: as(),
      payload: { startsAt: "2031-03-02T11:00:00Z", notes: "moved by phone", durationMinutes: 45 },
    });
    expect(moved.json()).toMatchObject({
      startsAt: "2031-03-02T11:00:00.000Z",
      rescheduleCount: 1,
      notes: "moved by phone",
      durationMinutes: 45,
    });
    await setStatus(appointment.id, "confirmed");
    await setStatus(appointment.id, "completed");
    const late = await env.api.app.inject({
      method: "PATCH",
      url: `/api/crm/appointments/${appointment.id}`,
      headers: as(),
      payload: { startsAt: "2031-03-03T11:00:00Z" },
    });
    expect(late.statusCode).toBe(409);
    expect(late.json().message).toBe(
      "Cannot reschedule a completed appointment (only booked or confirmed ones move)",
    );
  });

  it("validates: unknown lead → 404, bad date or status → 400 naming the field", async () => {
    const unknown = await env.api.app.inject({
      method: "POST",
      url: "/api/crm/appointments",
      headers: as(),
      payload: { leadId: "0123456789abcdef01234567", startsAt: "2031-03-01T09:00:00Z" },
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().message).toBe("Lead 0123456789abcdef01234567 not found");
    const badDate = await env.api.app.inject({
      method: "POST",
      url: "/api/crm/appointments",
      headers: as(),
      payload: { leadId, startsAt: "tomorrow" },
    });
    expect(badDate.statusCode).toBe(400);
    expect(badDate.json().message).toMatch(/^body\/startsAt /);
    const appointment = await book();
    const badStatus = await setStatus(appointment.id, "done");
    expect(badStatus.statusCode).toBe(400);
    expect(badStatus.json().message).toMatch(/^body\/status /);
  });

  it("lists by start time with leadId, status, from, to and a cursor", async () => {
    const other = await env.api.app.inject({
      method: "POST",
      url: "/api/crm/leads",
      headers: as(),
      payload: { name: "Calendar", phone: `+9198400001${String(++phone).padStart(2, "0")}` },
    });
    const lead = other.json().id;
    for (const day of [5, 3, 4, 6]) {
      await book({ startsAt: `2032-01-0${day}T08:00:00.000Z` }, lead);
    }
    const list = async (query: string) => {
      const response = await env.api.app.inject({
        method: "GET",
        url: `/api/crm/appointments?${query}`,
        headers: as(),
      });
      expect(response.statusCode, response.body).toBe(200);
      return response.json() as { appointments: { startsAt: string }[]; nextCursor: string | null };
    };
    const page = await list(`leadId=${lead}&limit=3`);
    expect(page.appointments.map((item) => item.startsAt.slice(8, 10))).toEqual(["03", "04", "05"]);
    const rest = await list(`leadId=${lead}&limit=3&cursor=${page.nextCursor}`);
    expect(rest.appointments.map((item) => item.startsAt.slice(8, 10))).toEqual(["06"]);
    expect(rest.nextCursor).toBeNull();
    const range = await list(`leadId=${lead}&from=2032-01-04T00:00:00Z&to=2032-01-06T00:00:00Z`);
    expect(range.appointments.map((item) => item.startsAt.slice(8, 10))).toEqual(["04", "05"]);
    expect((await list(`leadId=${lead}&status=confirmed`)).appointments).toEqual([]);
  });

  it("createMeet: true enqueues create_meet; meet_created from the integration stores the Meet URL", async () => {
    const appointment = await book({ createMeet: true, title: "Video consult", durationMinutes: 20 });
    expect(appointment.meetStatus).toBe("requested");
    const [meetJob] = (await env.jobs("create_meet", code)).filter(
      (job) => (job.payload.context as { appointmentId?: string }).appointmentId === appointment.id,
    );
    expect(meetJob?.payload).toEqual({
      title: "Video consult",
      startsAt: "2031-03-01T09:00:00.000Z",
      durationMinutes: 20,
      attendees: ["dev@example.com"],
      context: { leadId, appointmentId: appointment.id },
    });
    // What the Google integration enqueues once the Calendar event exists.
    await env.api.queue.enqueue({
      type: "meet_created",
      clientCode: code,
      dedupeKey: `meet:${meetJob?._id}`,
      payload: {
        eventId: "evt_123",
        meetUrl: "https://meet.google.com/abc-defg-hij",
        context: meetJob?.payload.context as Record<string, unknown>,
      },
    });
    const stored = await env.until("the Meet URL", async () => {
      const response = await env.api.app.inject({
        method: "GET",
        url: `/api/crm/appointments/${appointment.id}`,
        headers: as(),
      });
      return response.json().meetUrl ? response.json() : null;
    });
    expect(stored).toMatchObject({ meetUrl: "https://meet.google.com/abc-defg-hij", meetStatus: "created" });
  });
});
