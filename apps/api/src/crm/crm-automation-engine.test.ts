import type { JobDocument } from "@ecodrix/queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CrmTestEnv, startCrmTestEnv, syncedTemplates } from "../../test/crm-test-env.js";

/**
 * The automation engine end to end: API → automation_event → worker → action jobs, with the
 * product's worker (buildWorker and its job definitions) on the real queue. The test worker leaves
 * `send_whatsapp` out (test/crm-test-env.ts), so those jobs stay pending: the tests assert on those real
 * jobs' payloads, run times and statuses (what the WhatsApp integration will receive).
 */
describe("automation engine", () => {
  let env: CrmTestEnv;
  const code = "engineclinic";
  const as = () => env.tenants[code]?.headers ?? {};
  let phoneSeq = 0;

  beforeAll(async () => {
    env = await startCrmTestEnv({ tenants: [code] });
    const db = env.tenants[code]?.db;
    if (!db) throw new Error("no tenant db");
    await syncedTemplates(db, [
      { name: "appointment_confirmed", language: "en_US" },
      { name: "appointment_reminder", language: "en_US" },
      { name: "cancelled_notice", language: "en_US" },
      { name: "welcome", language: "en_US" },
    ]);
  });
  afterAll(async () => env.close());

  async function post(url: string, payload: Record<string, unknown>) {
    const response = await env.api.app.inject({ method: "POST", url, headers: as(), payload });
    expect(response.statusCode, `${url}: ${response.body}`).toBe(201);
    return response.json();
  }
  async function patch(url: string, payload: Record<string, unknown>) {
    const response = await env.api.app.inject({ method: "PATCH", url, headers: as(), payload });
    expect(response.statusCode, `${url}: ${response.body}`).toBe(200);
    return response.json();
  }
  async function get(url: string) {
    const response = await env.api.app.inject({ method: "GET", url, headers: as() });
    expect(response.statusCode, `${url}: ${response.body}`).toBe(200);
    return response.json();
  }
  const newLead = (extra: Record<string, unknown> = {}) => {
    phoneSeq += 1;
    return post("/api/crm/leads", {
      name: "Asha Rao",
      phone: `+9198200${String(phoneSeq).padStart(5, "0")}`,
      ...extra,
    });
  };
  const whatsappJobsFor = async (leadId: string) =>
    (await env.jobs("send_whatsapp", code)).filter(
      (job) => (job.payload.context as { leadId?: string } | undefined)?.leadId === leadId,
    );
  /** Every automation_event of the lead has been processed by the worker. */
  const eventsDone = (leadId: string) =>
    env.until(`automation events of ${leadId}`, async () => {
      const jobs = (await env.jobs("automation_event", code)).filter((job) => job.payload.leadId === leadId);
      return jobs.length > 0 && jobs.every((job) => job.status === "completed") ? jobs : null;
    });
  const disable = (id: string) => patch(`/api/crm/automations/${id}`, { enabled: false });

  it("runbook step 7: the automation as written, then a confirmed appointment → exactly one appointment_confirmed send to the lead", async () => {
    const automation = await post("/api/crm/automations", {
      name: "Appointment Confirmed WA",
      trigger: "appointment_confirmed",
      triggerConfig: {},
      actions: [
        {
          type: "send_whatsapp",
          delayMinutes: 0,
          config: { templateName: "appointment_confirmed", language: "en_US" },
        },
      ],
    });
    expect(automation).toMatchObject({ enabled: true, trigger: "appointment_confirmed" });
    expect(typeof automation.id).toBe("string");

    const lead = await newLead();
    const appointment = await post("/api/crm/appointments", {
      leadId: lead.id,
      startsAt: new Date(Date.now() + 86_400_000).toISOString(),
    });
    expect(appointment.status).toBe("booked");
    await patch(`/api/crm/appointments/${appointment.id}`, { status: "confirmed" });
    await eventsDone(lead.id);

    const sends = await whatsappJobsFor(lead.id);
    expect(sends).toHaveLength(1);
    const [send] = sends as [JobDocument];
    expect(send).toMatchObject({ clientCode: code, status: "pending" });
    expect(send.payload).toEqual({
      to: lead.phone,
      templateName: "appointment_confirmed",
      language: "en_US",
      context: {
        leadId: lead.id,
        appointmentId: appointment.id,
        automationId: automation.id,
        runId: expect.any(String),
        step: 0,
      },
    });

    const runs = await get(`/api/crm/automations/${automation.id}/runs`);
    expect(runs.runs).toHaveLength(1);
    expect(runs.runs[0]).toMatchObject({
      automationId: automation.id,
      trigger: "appointment_confirmed",
      leadId: lead.id,
      appointmentId: appointment.id,
      status: "running",
      steps: [
        {
          step: 0,
          action: "send_whatsapp",
          jobType: "send_whatsapp",
          jobId: String(send._id),
          status: "pending",
          lastError: null,
        },
      ],
    });
    expect(send.dedupeKey).toBe(`${runs.runs[0].id}:0`);
    // The events changed the lead's timeline: score recalculations keyed score:<leadId>, so at most one
    // is waiting at a time (the worker runs them; a finished one frees the key for the next change).
    const scoring = (await env.jobs("lead_score_recalculation", code)).filter(
      (job) => job.payload.leadId === lead.id,
    );
    expect(scoring.length).toBeGreaterThanOrEqual(1);
    for (const job of scoring) expect(job.dedupeKey ?? job.finishedDedupeKey).toBe(`score:${lead.id}`);
    expect(
      scoring.filter((job) => job.status === "pending" || job.status === "processing").length,
    ).toBeLessThanOrEqual(1);
    await disable(automation.id);
  });

  it("bodyParams are filled from the lead and the appointment when the action is scheduled", async () => {
    const automation = await post("/api/crm/automations", {
      name: "Confirmed with details",
      trigger: "appointment_confirmed",
      actions: [
        {
          type: "send_whatsapp",
          config: {
            templateName: "appointment_confirmed",
            language: "en_US",
            bodyParams: ["{{lead.name}}", "{{appointment.startsAt}}", "Dr. {{ lead.customFields.doctor }}"],
          },
        },
      ],
    });
    const lead = await newLead({ name: "Vikram Sethi", customFields: { doctor: "Sharma" } });
    const startsAt = "2030-01-15T10:30:00.000Z";
    const appointment = await post("/api/crm/appointments", { leadId: lead.id, startsAt });
    await patch(`/api/crm/appointments/${appointment.id}`, { status: "confirmed" });
    await eventsDone(lead.id);
    const sends = await whatsappJobsFor(lead.id);
    expect(sends).toHaveLength(1);
    expect(sends[0]?.payload.bodyParams).toEqual(["Vikram Sethi", startsAt, "Dr. Sharma"]);
    expect(sends[0]?.payload.templateName).toBe("appointment_confirmed");
    expect(sends[0]?.payload.to).toBe(lead.phone);
    await disable(automation.id);
  });

  it("a lead with whatsappOptIn: false gets no WhatsApp action, and the step says why", async () => {
    const automation = await post("/api/crm/automations", {
      name: "Welcome",
      trigger: "lead_created",
      actions: [{ type: "send_whatsapp", config: { templateName: "welcome", language: "en_US" } }],
    });
    const lead = await newLead({ whatsappOptIn: false });
    await eventsDone(lead.id);
    expect(await whatsappJobsFor(lead.id)).toHaveLength(0);
    const runs = await get(`/api/crm/automations/${automation.id}/runs`);
    const run = runs.runs.find((entry: { leadId: string }) => entry.leadId === lead.id);
    expect(run.steps[0]).toMatchObject({
      status: "skipped",
      jobId: null,
      reason: "The lead opted out of WhatsApp (whatsappOptIn: false)",
    });
    const timeline = await get(`/api/crm/leads/${lead.id}/events?type=automation_step`);
    expect(timeline.events[0].data).toMatchObject({ status: "skipped", action: "send_whatsapp" });
    await disable(automation.id);
  });

  it("opting out later cancels the lead's pending WhatsApp steps (and only those)", async () => {
    const automation = await post("/api/crm/automations", {
      name: "Welcome tomorrow",
      trigger: "lead_created",
      actions: [
        { type: "send_whatsapp", delayMinutes: 1440, config: { templateName: "welcome", language: "en_US" } },
        { type: "update_lead", delayMinutes: 1440, config: { addTags: ["welcomed"] } },
      ],
    });
    const lead = await newLead();
    await eventsDone(lead.id);
    const [send] = await whatsappJobsFor(lead.id);
    const [update] = (await env.jobs("update_lead", code)).filter((job) => job.payload.leadId === lead.id);
    expect(send?.status).toBe("pending");
    await patch(`/api/crm/leads/${lead.id}`, { whatsappOptIn: false });
    expect((await env.api.queue.get(send?._id ?? ""))?.status).toBe("cancelled");
    expect((await env.api.queue.get(update?._id ?? ""))?.status).toBe("pending");
    // Deleting the automation cancels what its runs still have pending.
    const deleted = await env.api.app.inject({
      method: "DELETE",
      url: `/api/crm/automations/${automation.id}`,
      headers: as(),
    });
    expect(deleted.json()).toEqual({ id: automation.id, deleted: true, pendingJobsCancelled: 1 });
    expect((await env.api.queue.get(update?._id ?? ""))?.status).toBe("cancelled");
  });

  it("a delayed action is due at event time + delay and runs only then", async () => {
    const automation = await post("/api/crm/automations", {
      name: "Follow up in 3 s",
      trigger: "tag_added",
      triggerConfig: { tag: "follow-up" },
      actions: [
        { type: "update_lead", delayMinutes: 0.05, config: { stage: "contacted" } },
        { type: "send_whatsapp", delayMinutes: 0.05, config: { templateName: "welcome", language: "en_US" } },
      ],
    });
    const lead = await newLead();
    const tagged = Date.now();
    await patch(`/api/crm/leads/${lead.id}`, { addTags: ["follow-up"] });
    const [event] = (await eventsDone(lead.id)).filter((job) => job.payload.type === "tag_added");
    const eventAt = (event as JobDocument).createdAt.getTime();
    const [update] = (await env.jobs("update_lead", code)).filter((job) => job.payload.leadId === lead.id);
    const [send] = await whatsappJobsFor(lead.id);
    expect(update?.runAt.getTime()).toBe(eventAt + 3_000);
    expect(send?.runAt.getTime()).toBe(eventAt + 3_000);
    // Before the delay: not run, the lead unchanged.
    if (Date.now() < eventAt + 2_500) {
      expect((await get(`/api/crm/leads/${lead.id}`)).stage).toBe("new");
      expect((await env.api.queue.get(update?._id ?? ""))?.status).toBe("pending");
    }
    const done = await env.until("the delayed update_lead", async () => {
      const job = await env.api.queue.get(update?._id ?? "");
      return job?.status === "completed" ? job : null;
    });
    expect(done.completedAt?.getTime()).toBeGreaterThanOrEqual(eventAt + 3_000);
    expect(Date.now() - tagged).toBeGreaterThanOrEqual(3_000);
    expect((await get(`/api/crm/leads/${lead.id}`)).stage).toBe("contacted");
    await disable(automation.id);
  });

  it("a reminder is scheduled at startsAt − minutesBefore, moved by a reschedule, and cancelled by a cancellation (but not the cancellation's own message)", async () => {
    const reminder = await post("/api/crm/automations", {
      name: "Reminder 2 h before",
      trigger: "appointment_reminder",
      triggerConfig: { minutesBefore: 120 },
      actions: [
        {
          type: "send_whatsapp",
          config: {
            templateName: "appointment_reminder",
            language: "en_US",
            bodyParams: ["{{appointment.startsAt}}"],
          },
        },
      ],
    });
    const onCancel = await post("/api/crm/automations", {
      name: "Sorry to see you cancel",
      trigger: "appointment_cancelled",
      actions: [
        {
          type: "send_whatsapp",
          delayMinutes: 30,
          config: { templateName: "cancelled_notice", language: "en_US" },
        },
      ],
    });
    const lead = await newLead();
    const first = new Date(Date.now() + 2 * 86_400_000);
    first.setUTCMilliseconds(0);
    const appointment = await post("/api/crm/appointments", {
      leadId: lead.id,
      startsAt: first.toISOString(),
    });
    await eventsDone(lead.id);
    const [scheduled] = await whatsappJobsFor(lead.id);
    expect(scheduled?.payload.templateName).toBe("appointment_reminder");
    expect(scheduled?.runAt.getTime()).toBe(first.getTime() - 120 * 60_000);
    expect(scheduled?.payload.bodyParams).toEqual([first.toISOString()]);

    const moved = new Date(first.getTime() + 3 * 3_600_000);
    const rescheduled = await patch(`/api/crm/appointments/${appointment.id}`, {
      startsAt: moved.toISOString(),
    });
    expect(rescheduled.rescheduleCount).toBe(1);
    const afterMove = await whatsappJobsFor(lead.id);
    expect(afterMove).toHaveLength(2);
    expect(afterMove.find((job) => String(job._id) === String(scheduled?._id))?.status).toBe("cancelled");
    const current = afterMove.find((job) => job.status === "pending");
    expect(current?.runAt.getTime()).toBe(moved.getTime() - 120 * 60_000);
    expect(current?.payload.bodyParams).toEqual([moved.toISOString()]);
    const runs = await get(`/api/crm/automations/${reminder.id}/runs`);
    expect(runs.runs[0].steps[0]).toMatchObject({ jobId: String(current?._id), status: "pending" });

    await patch(`/api/crm/appointments/${appointment.id}`, { status: "cancelled" });
    expect((await env.api.queue.get(current?._id ?? ""))?.status).toBe("cancelled");
    await eventsDone(lead.id);
    const notices = (await whatsappJobsFor(lead.id)).filter(
      (job) => job.payload.templateName === "cancelled_notice",
    );
    expect(notices).toHaveLength(1);
    expect(notices[0]?.status).toBe("pending");
    const cancelledRuns = await get(`/api/crm/automations/${reminder.id}/runs`);
    expect(cancelledRuns.runs[0].steps[0].status).toBe("cancelled");
    // A cancelled appointment does not move.
    const again = await env.api.app.inject({
      method: "PATCH",
      url: `/api/crm/appointments/${appointment.id}`,
      headers: as(),
      payload: { startsAt: first.toISOString() },
    });
    expect(again.statusCode).toBe(409);
    await disable(reminder.id);
    await disable(onCancel.id);
  });

  it("a reminder whose time has already passed at booking is skipped with the reason", async () => {
    const reminder = await post("/api/crm/automations", {
      name: "Day-before reminder",
      trigger: "appointment_reminder",
      triggerConfig: { minutesBefore: 1440 },
      actions: [
        { type: "send_whatsapp", config: { templateName: "appointment_reminder", language: "en_US" } },
      ],
    });
    const lead = await newLead();
    await post("/api/crm/appointments", {
      leadId: lead.id,
      startsAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    await eventsDone(lead.id);
    expect(await whatsappJobsFor(lead.id)).toHaveLength(0);
    const run = (await get(`/api/crm/automations/${reminder.id}/runs`)).runs.find(
      (entry: { leadId: string }) => entry.leadId === lead.id,
    );
    expect(run.steps[0].status).toBe("skipped");
    expect(run.steps[0].reason).toMatch(/^The reminder time .* has already passed$/);
    await disable(reminder.id);
  });

  it("a retried automation_event (requeued, or enqueued again after it finished) never doubles an action", async () => {
    const automation = await post("/api/crm/automations", {
      name: "Confirmed (retry)",
      trigger: "appointment_confirmed",
      actions: [
        { type: "send_whatsapp", config: { templateName: "appointment_confirmed", language: "en_US" } },
        { type: "update_lead", config: { addTags: ["confirmed"] } },
      ],
    });
    const lead = await newLead();
    const appointment = await post("/api/crm/appointments", {
      leadId: lead.id,
      startsAt: new Date(Date.now() + 86_400_000).toISOString(),
    });
    await patch(`/api/crm/appointments/${appointment.id}`, { status: "confirmed" });
    const events = await eventsDone(lead.id);
    const confirmed = events.find((job) => job.payload.type === "appointment_confirmed") as JobDocument;
    await env.until("the update_lead step", async () => {
      const jobs = (await env.jobs("update_lead", code)).filter((job) => job.payload.leadId === lead.id);
      return jobs.length === 1 && jobs[0]?.status === "completed";
    });

    // 1. The admin requeues the finished event job (runbook §2, forced: it is completed): it runs again.
    await env.api.queue.requeue(confirmed._id, { force: true });
    await env.until("the requeued event", async () => {
      const job = await env.api.queue.get(confirmed._id);
      return job?.status === "completed" && job.attempts > confirmed.attempts;
    });
    // 2. A producer that retries after the first job finished enqueues a new job for the same event.
    const second = await env.api.queue.enqueue({
      type: "automation_event",
      clientCode: code,
      payload: { ...confirmed.payload },
    });
    await env.until(
      "the second event job",
      async () => (await env.api.queue.get(second._id))?.status === "completed",
    );

    expect(await whatsappJobsFor(lead.id)).toHaveLength(1);
    expect(
      (await env.jobs("update_lead", code)).filter((job) => job.payload.leadId === lead.id),
    ).toHaveLength(1);
    expect(
      (await get(`/api/crm/automations/${automation.id}/runs`)).runs.filter(
        (run: { leadId: string }) => run.leadId === lead.id,
      ),
    ).toHaveLength(1);
    await disable(automation.id);
  });

  it("chains stop at depth 5, and the stop is recorded", async () => {
    const ping = await post("/api/crm/automations", {
      name: "ping",
      trigger: "lead_stage_changed",
      triggerConfig: { to: "ping" },
      actions: [{ type: "update_lead", config: { stage: "pong" } }],
    });
    const pong = await post("/api/crm/automations", {
      name: "pong",
      trigger: "lead_stage_changed",
      triggerConfig: { to: "pong" },
      actions: [{ type: "update_lead", config: { stage: "ping" } }],
    });
    const lead = await newLead();
    await patch(`/api/crm/leads/${lead.id}`, { stage: "ping" });
    const runsOf = async () => {
      const all = [
        ...(await get(`/api/crm/automations/${ping.id}/runs`)).runs,
        ...(await get(`/api/crm/automations/${pong.id}/runs`)).runs,
      ] as { leadId: string; depth: number; status: string; reason: string | null }[];
      return all.filter((run) => run.leadId === lead.id).sort((a, b) => a.depth - b.depth);
    };
    const runs = await env.until("the stopped run", async () => {
      const all = await runsOf();
      return all.some((run) => run.status === "stopped") ? all : null;
    });
    await eventsDone(lead.id);
    const settled = await runsOf();
    expect(settled.map((run) => run.depth)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(settled.slice(0, 5).every((run) => run.status === "completed")).toBe(true);
    expect(settled[5]).toMatchObject({ depth: 5, status: "stopped" });
    expect(settled[5]?.reason).toMatch(/^Chain depth limit reached/);
    expect(runs.length).toBeGreaterThanOrEqual(6);
    expect(
      (await env.jobs("update_lead", code)).filter((job) => job.payload.leadId === lead.id),
    ).toHaveLength(5);
    const timeline = await get(`/api/crm/leads/${lead.id}/events?type=automation_step&limit=200`);
    expect(
      timeline.events.some((event: { data: { status: string } }) => event.data.status === "stopped"),
    ).toBe(true);
    await disable(ping.id);
    await disable(pong.id);
  });

  it("custom events fire custom_event automations of that name only", async () => {
    const automation = await post("/api/crm/automations", {
      name: "Payment received",
      trigger: "custom_event",
      triggerConfig: { name: "payment_received" },
      actions: [
        {
          type: "send_whatsapp",
          config: {
            templateName: "welcome",
            language: "en_US",
            bodyParams: ["{{event.data.amount}}", "{{event.name}}"],
          },
        },
      ],
    });
    const lead = await newLead();
    const event = await post("/api/crm/events", {
      name: "payment_received",
      leadId: lead.id,
      data: { amount: 1500 },
    });
    expect(event).toMatchObject({
      leadId: lead.id,
      type: "custom_event",
      data: { name: "payment_received", data: { amount: 1500 } },
    });
    await post("/api/crm/events", { name: "something_else", leadId: lead.id });
    await eventsDone(lead.id);
    const sends = await whatsappJobsFor(lead.id);
    expect(sends.map((job) => job.payload.bodyParams)).toEqual([["1500", "payment_received"]]);
    await disable(automation.id);
  });

  it("message status changes reported by the integration land on the timeline and on the run's step", async () => {
    const automation = await post("/api/crm/automations", {
      name: "Welcome (status)",
      trigger: "lead_created",
      actions: [{ type: "send_whatsapp", config: { templateName: "welcome", language: "en_US" } }],
    });
    const lead = await newLead();
    await eventsDone(lead.id);
    const [send] = await whatsappJobsFor(lead.id);
    const context = send?.payload.context as Record<string, unknown>;
    // What the WhatsApp integration enqueues when Meta's status webhooks arrive (read before delivered).
    for (const status of ["sent", "read", "delivered"] as const) {
      await env.api.queue.enqueue({
        type: "message_status_changed",
        clientCode: code,
        dedupeKey: `msg:wamid.TEST:${status}`,
        payload: {
          channel: "whatsapp",
          messageId: "wamid.TEST",
          status,
          at: new Date().toISOString(),
          context,
        },
      });
    }
    await env.until("the status jobs", async () => {
      const jobs = await env.jobs("message_status_changed", code);
      return jobs.length === 3 && jobs.every((job) => job.status === "completed");
    });
    const timeline = await get(`/api/crm/leads/${lead.id}/events`);
    const types = timeline.events.map((event: { type: string }) => event.type);
    for (const type of ["message_sent", "message_delivered", "message_read"]) expect(types).toContain(type);
    const run = (await get(`/api/crm/automations/${automation.id}/runs`)).runs.find(
      (entry: { leadId: string }) => entry.leadId === lead.id,
    );
    expect(run.steps[0]).toMatchObject({ status: "read", outcome: "read" });
    await disable(automation.id);
  });

  it("offboarding the client cancels its pending automation jobs", async () => {
    const local = await startCrmTestEnv({ tenants: ["byeclinic"], worker: true });
    try {
      const tenant = local.tenants.byeclinic;
      if (!tenant?.db) throw new Error("no tenant db");
      await syncedTemplates(tenant.db, [{ name: "welcome", language: "en_US" }]);
      const created = await local.api.app.inject({
        method: "POST",
        url: "/api/crm/automations",
        headers: tenant.headers,
        payload: {
          name: "Welcome later",
          trigger: "lead_created",
          actions: [{ type: "update_lead", delayMinutes: 60, config: { stage: "contacted" } }],
        },
      });
      expect(created.statusCode).toBe(201);
      const lead = await local.api.app.inject({
        method: "POST",
        url: "/api/crm/leads",
        headers: tenant.headers,
        payload: { name: "Leaving", phone: "+919830000001" },
      });
      const pending = await local.until("the delayed action", async () => {
        const jobs = await local.jobs("update_lead", "byeclinic");
        return jobs.length === 1 && jobs[0]?.status === "pending" ? jobs[0] : null;
      });
      expect(pending.payload.leadId).toBe(lead.json().id);
      const deleted = await local.api.app.inject({
        method: "DELETE",
        url: "/api/clients/byeclinic",
        headers: { "x-core-api-key": (await import("../../test/test-app.js")).ADMIN_TOKEN },
      });
      expect(deleted.statusCode).toBe(200);
      expect(deleted.json().pendingJobsCancelled).toBeGreaterThanOrEqual(1);
      expect((await local.api.queue.get(pending._id))?.status).toBe("cancelled");
    } finally {
      await local.close();
    }
  });
});
