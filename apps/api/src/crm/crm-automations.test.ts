import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CrmTestEnv, startCrmTestEnv, syncedTemplates } from "../../test/crm-test-env.js";

const STEP_7 = {
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
};

/** The automations API: validation, the template check, CRUD, disable-all (no worker). */
describe("CRM automations API", () => {
  let env: CrmTestEnv;
  const code = "autoclinic";
  const as = () => env.tenants[code]?.headers ?? {};
  const create = (payload: unknown) =>
    env.api.app.inject({
      method: "POST",
      url: "/api/crm/automations",
      headers: as(),
      payload: payload as object,
    });

  beforeAll(async () => {
    env = await startCrmTestEnv({ tenants: [code, "unsynced"], worker: false });
    const db = env.tenants[code]?.db;
    if (!db) throw new Error("no tenant db");
    await syncedTemplates(db, [
      { name: "appointment_confirmed", language: "en_US" },
      { name: "promo", language: "en_US", status: "REJECTED" },
    ]);
  });
  afterAll(async () => env.close());

  it("runbook §1 step 7's body as written → 201 with id and enabled: true", async () => {
    const response = await create(STEP_7);
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({
      ...STEP_7,
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      enabled: true,
      description: null,
    });
  });

  it("a send_whatsapp template that is not synced → 422 `Template not found: <name> (<language>)` with a hint; nothing stored", async () => {
    const before = await env.tenants.unsynced?.db?.collection("automations").countDocuments();
    const response = await env.api.app.inject({
      method: "POST",
      url: "/api/crm/automations",
      headers: env.tenants.unsynced?.headers ?? {},
      payload: STEP_7,
    });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({
      statusCode: 422,
      error: "Unprocessable Entity",
      message: "Template not found: appointment_confirmed (en_US)",
      code: "ECODRIX_CRM_TEMPLATE_NOT_FOUND",
    });
    expect(response.json().hint).toMatch(/POST \/api\/saas\/chat\/templates\/sync/);
    expect(await env.tenants.unsynced?.db?.collection("automations").countDocuments()).toBe(before);

    const otherLanguage = await create({
      ...STEP_7,
      actions: [{ type: "send_whatsapp", config: { templateName: "appointment_confirmed", language: "hi" } }],
    });
    expect(otherLanguage.json().message).toBe("Template not found: appointment_confirmed (hi)");
    const rejected = await create({
      ...STEP_7,
      actions: [{ type: "send_whatsapp", config: { templateName: "promo", language: "en_US" } }],
    });
    expect(rejected.statusCode).toBe(422);
    expect(rejected.json().message).toMatch(/^Template promo \(en_US\) is REJECTED, not APPROVED/);
  });

  it("bad input → 400 naming the field: unknown trigger, unknown action, bad configs, unknown variables", async () => {
    const cases: [unknown, string | RegExp][] = [
      [
        { ...STEP_7, trigger: "lead_deleted" },
        /^body\/trigger must be one of lead_created, .* \(got lead_deleted\)$/,
      ],
      [
        { ...STEP_7, actions: [{ type: "send_sms", config: {} }] },
        /^body\/actions\/0\/type must be one of send_whatsapp, send_email, create_meet, webhook, update_lead/,
      ],
      [
        { ...STEP_7, actions: [{ type: "send_whatsapp", config: { language: "en_US" } }] },
        "body/actions/0/config/templateName is required for action send_whatsapp",
      ],
      [
        {
          ...STEP_7,
          actions: [
            {
              type: "send_whatsapp",
              config: { templateName: "appointment_confirmed", language: "en_US", to: "+1" },
            },
          ],
        },
        /^body\/actions\/0\/config\/to is not allowed for action send_whatsapp/,
      ],
      [
        { ...STEP_7, trigger: "appointment_reminder", triggerConfig: {} },
        "body/triggerConfig/minutesBefore is required for trigger appointment_reminder",
      ],
      [
        { ...STEP_7, trigger: "appointment_reminder", triggerConfig: { minutesBefore: -5 } },
        /^body\/triggerConfig\/minutesBefore must be an integer from 0 to/,
      ],
      [
        { ...STEP_7, triggerConfig: { tag: "x" } },
        /^body\/triggerConfig\/tag is not allowed for trigger appointment_confirmed/,
      ],
      [
        {
          ...STEP_7,
          actions: [
            {
              type: "send_whatsapp",
              config: {
                templateName: "appointment_confirmed",
                language: "en_US",
                bodyParams: ["{{lead.name}}", "{{lead.nmae}}"],
              },
            },
          ],
        },
        /^body\/actions\/0\/config\/bodyParams\/1: unknown variable \{\{lead\.nmae\}\} for trigger appointment_confirmed \(known: \{\{lead\.id\}\}/,
      ],
      [
        {
          name: "x",
          trigger: "lead_created",
          actions: [{ type: "send_email", config: { subject: "Hi {{appointment.startsAt}}", text: "t" } }],
        },
        /^body\/actions\/0\/config\/subject: unknown variable \{\{appointment\.startsAt\}\} for trigger lead_created/,
      ],
      [
        { name: "x", trigger: "lead_created", actions: [{ type: "send_email", config: { subject: "Hi" } }] },
        "body/actions/0/config/text or body/actions/0/config/html is required",
      ],
      [
        { name: "x", trigger: "lead_created", actions: [{ type: "update_lead", config: {} }] },
        "body/actions/0/config needs at least one of stage, addTags, removeTags",
      ],
      [
        { name: "x", trigger: "lead_created", actions: [{ type: "create_meet", config: {} }] },
        /^body\/actions\/0\/config: create_meet needs an appointment trigger/,
      ],
      [{ ...STEP_7, actions: [] }, /^body\/actions /],
      [
        { ...STEP_7, actions: [{ ...STEP_7.actions[0], delayMinutes: -1 }] },
        /^body\/actions\/0\/delayMinutes /,
      ],
      [{ ...STEP_7, enabled: "yes" }, /^body\/enabled /],
      [{ ...STEP_7, owner: "me" }, "body/owner is not an allowed field"],
      [
        { name: "x", trigger: "custom_event", actions: STEP_7.actions },
        "body/triggerConfig/name is required for trigger custom_event",
      ],
    ];
    const before = await env.tenants[code]?.db?.collection("automations").countDocuments();
    for (const [payload, message] of cases) {
      const response = await create(payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      if (typeof message === "string") expect(response.json().message).toBe(message);
      else expect(response.json().message).toMatch(message);
    }
    expect(await env.tenants[code]?.db?.collection("automations").countDocuments()).toBe(before);
  });

  it("every trigger and action type with a valid config is accepted", async () => {
    const valid = [
      { trigger: "lead_created" },
      { trigger: "lead_stage_changed", triggerConfig: { to: "qualified", from: "new" } },
      { trigger: "tag_added", triggerConfig: { tag: "vip" } },
      { trigger: "appointment_booked" },
      { trigger: "appointment_cancelled" },
      { trigger: "appointment_completed" },
      { trigger: "appointment_no_show" },
      { trigger: "appointment_reminder", triggerConfig: { minutesBefore: 1440 } },
      { trigger: "lead_score_reached", triggerConfig: { threshold: 50 } },
      { trigger: "custom_event", triggerConfig: { name: "paid" } },
    ];
    for (const entry of valid) {
      const response = await create({
        name: entry.trigger,
        ...entry,
        actions: [
          {
            type: "send_email",
            delayMinutes: 5,
            config: { subject: "Hello {{lead.firstName}}", html: "<b>{{lead.name}}</b>" },
          },
          { type: "webhook", config: { data: { note: "stage {{lead.stage}}" } } },
          { type: "update_lead", config: { addTags: ["touched"], removeTags: ["cold"] } },
        ],
      });
      expect(response.statusCode, `${entry.trigger}: ${response.body}`).toBe(201);
    }
    const meet = await create({
      name: "meet",
      trigger: "appointment_confirmed",
      actions: [
        { type: "create_meet", config: { title: "Consultation with {{lead.name}}", durationMinutes: 20 } },
      ],
    });
    expect(meet.statusCode, meet.body).toBe(201);
  });

  it("GET list / one, PATCH (incl. enabled and revalidation), DELETE, disable-all", async () => {
    const created = (await create({ ...STEP_7, name: "To edit" })).json();
    const list = await env.api.app.inject({
      method: "GET",
      url: "/api/crm/automations?limit=2",
      headers: as(),
    });
    expect(list.statusCode).toBe(200);
    expect(list.json().automations).toHaveLength(2);
    expect(list.json().automations[0].id).toBe(created.id);
    expect(typeof list.json().nextCursor).toBe("string");
    const next = await env.api.app.inject({
      method: "GET",
      url: `/api/crm/automations?limit=200&cursor=${list.json().nextCursor}`,
      headers: as(),
    });
    expect(next.json().automations.map((entry: { id: string }) => entry.id)).not.toContain(created.id);

    const paused = await env.api.app.inject({
      method: "PATCH",
      url: `/api/crm/automations/${created.id}`,
      headers: as(),
      payload: { enabled: false },
    });
    expect(paused.json()).toMatchObject({ enabled: false, name: "To edit" });
    const bad = await env.api.app.inject({
      method: "PATCH",
      url: `/api/crm/automations/${created.id}`,
      headers: as(),
      payload: { trigger: "appointment_reminder" },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toBe(
      "body/triggerConfig/minutesBefore is required for trigger appointment_reminder",
    );
    const retargeted = await env.api.app.inject({
      method: "PATCH",
      url: `/api/crm/automations/${created.id}`,
      headers: as(),
      payload: { trigger: "appointment_reminder", triggerConfig: { minutesBefore: 60 } },
    });
    expect(retargeted.json()).toMatchObject({
      trigger: "appointment_reminder",
      triggerConfig: { minutesBefore: 60 },
    });
    const got = await env.api.app.inject({
      method: "GET",
      url: `/api/crm/automations/${created.id}`,
      headers: as(),
    });
    expect(got.json()).toEqual(retargeted.json());

    const disabled = await env.api.app.inject({
      method: "POST",
      url: "/api/crm/automations/disable-all",
      headers: as(),
    });
    expect(disabled.statusCode).toBe(200);
    expect(disabled.json().disabled).toBeGreaterThan(0);
    expect(await env.tenants[code]?.db?.collection("automations").countDocuments({ enabled: true })).toBe(0);
    const enabledOnly = await env.api.app.inject({
      method: "GET",
      url: "/api/crm/automations?enabled=true",
      headers: as(),
    });
    expect(enabledOnly.json().automations).toEqual([]);

    const deleted = await env.api.app.inject({
      method: "DELETE",
      url: `/api/crm/automations/${created.id}`,
      headers: as(),
    });
    expect(deleted.json()).toEqual({ id: created.id, deleted: true, pendingJobsCancelled: 0 });
    for (const url of [`/api/crm/automations/${created.id}`, `/api/crm/automations/${created.id}/runs`]) {
      const gone = await env.api.app.inject({ method: "GET", url, headers: as() });
      expect(gone.statusCode).toBe(404);
      expect(gone.json().message).toBe(`Automation ${created.id} not found`);
    }
  });
});
