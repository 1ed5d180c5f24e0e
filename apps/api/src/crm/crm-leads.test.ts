import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CrmTestEnv, startCrmTestEnv } from "../../test/crm-test-env.js";

/** Leads through the API, without a worker: what the API writes and enqueues. */
describe("CRM leads", () => {
  let env: CrmTestEnv;
  const as = (code: string) => env.tenants[code]?.headers ?? {};

  beforeAll(async () => {
    env = await startCrmTestEnv({
      tenants: ["leadclinic", "ukclinic"],
      countries: { ukclinic: "GB" },
      worker: false,
    });
  });
  afterAll(async () => env.close());

  async function createLead(code: string, payload: Record<string, unknown>) {
    return env.api.app.inject({ method: "POST", url: "/api/crm/leads", headers: as(code), payload });
  }

  it("creates a lead: 201 bare with a string id, phone in E.164 (local numbers read as India), defaults", async () => {
    const response = await createLead("leadclinic", { name: "Asha Rao", phone: "098123 45678" });
    expect(response.statusCode, response.body).toBe(201);
    const lead = response.json();
    expect(lead).toMatchObject({
      name: "Asha Rao",
      phone: "+919812345678",
      stage: "new",
      tags: [],
      whatsappOptIn: true,
      score: 0,
      email: null,
      source: null,
    });
    expect(lead.id).toMatch(/^[0-9a-f]{24}$/);
    expect(lead).not.toHaveProperty("nameLower");
    const stored = await env.tenants.leadclinic?.db?.collection("leads").findOne({ phone: "+919812345678" });
    expect(String(stored?._id)).toBe(lead.id);
  });

  it("reads local numbers in the client's defaultCountry, and an international number as given", async () => {
    const uk = await createLead("ukclinic", { name: "Tom", phone: "020 7946 0958" });
    expect(uk.json().phone).toBe("+442079460958");
    const abroad = await createLead("ukclinic", { name: "Ravi", phone: "+91 98123 45679" });
    expect(abroad.json().phone).toBe("+919812345679");
  });

  it("defaultCountry is a client setting: validated, shown, changed by PATCH (null: back to IN)", async () => {
    const admin = { "x-core-api-key": (await import("../../test/test-app.js")).ADMIN_TOKEN };
    const bad = await env.api.app.inject({
      method: "PATCH",
      url: "/api/clients/leadclinic",
      headers: admin,
      payload: { defaultCountry: "XX" },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/^body\/defaultCountry XX is not a supported/);
    const lower = await env.api.app.inject({
      method: "PATCH",
      url: "/api/clients/leadclinic",
      headers: admin,
      payload: { defaultCountry: "gb" },
    });
    expect(lower.statusCode).toBe(400);
    const uk = await env.api.app.inject({
      method: "PATCH",
      url: "/api/clients/leadclinic",
      headers: admin,
      payload: { defaultCountry: "GB" },
    });
    expect(uk.json().defaultCountry).toBe("GB");
    expect((await createLead("leadclinic", { name: "London", phone: "07911 123499" })).json().phone).toBe(
      "+447911123499",
    );
    const cleared = await env.api.app.inject({
      method: "PATCH",
      url: "/api/clients/leadclinic",
      headers: admin,
      payload: { defaultCountry: null },
    });
    expect(cleared.json().defaultCountry).toBeNull();
    expect((await createLead("leadclinic", { name: "Mumbai", phone: "98123 45611" })).json().phone).toBe(
      "+919812345611",
    );
  });

  it("an unparseable phone is a 400 naming phone, and nothing is stored", async () => {
    const before = await env.tenants.leadclinic?.db?.collection("leads").countDocuments();
    for (const phone of ["not a phone", "12", "+1"]) {
      const response = await createLead("leadclinic", { name: "X", phone });
      expect(response.statusCode).toBe(400);
      expect(response.json().message).toMatch(/^body\/phone is not a valid phone number/);
      expect(response.json().code).toBe("ECODRIX_CRM_INVALID_PHONE");
    }
    expect(await env.tenants.leadclinic?.db?.collection("leads").countDocuments()).toBe(before);
  });

  it("a phone already used by another lead is a 409 naming that lead, with existingLeadId (create and PATCH)", async () => {
    const first = (await createLead("leadclinic", { name: "Meera", phone: "+919800000001" })).json();
    const again = await createLead("leadclinic", { name: "Meera again", phone: "98000 00001" });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({
      statusCode: 409,
      error: "Conflict",
      code: "ECODRIX_CRM_DUPLICATE_PHONE",
      existingLeadId: first.id,
    });
    expect(again.json().message).toContain(first.id);

    const other = (await createLead("leadclinic", { name: "Nisha", phone: "+919800000002" })).json();
    const patched = await env.api.app.inject({
      method: "PATCH",
      url: `/api/crm/leads/${other.id}`,
      headers: as("leadclinic"),
      payload: { phone: "+91 98000 00001" },
    });
    expect(patched.statusCode).toBe(409);
    expect(patched.json().existingLeadId).toBe(first.id);
    // The same phone in another tenant is another lead.
    expect((await createLead("ukclinic", { name: "Meera", phone: "+919800000001" })).statusCode).toBe(201);
  });

  it("validates the body: stage length, unknown fields, customFields values", async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ name: "A", phone: "+919800000010", stage: "" }, /^body\/stage /],
      [{ name: "A", phone: "+919800000010", stage: "x".repeat(41) }, /^body\/stage /],
      [{ name: "A", phone: "+919800000010", colour: "red" }, /^body\/colour is not an allowed field$/],
      [
        { name: "A", phone: "+919800000010", customFields: { a: { nested: true } } },
        /^body\/customFields\/a /,
      ],
      [{ phone: "+919800000010" }, /^body\/name is required$/],
    ];
    for (const [payload, message] of cases) {
      const response = await createLead("leadclinic", payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().message).toMatch(message);
    }
  });

  it("creating a lead enqueues one automation_event per event (dedupe key = event id) and writes the timeline", async () => {
    const lead = (
      await createLead("leadclinic", { name: "Kiran", phone: "+919800000020", tags: ["vip"] })
    ).json();
    const events = (await env.jobs("automation_event", "leadclinic")).filter(
      (job) => job.payload.leadId === lead.id,
    );
    expect(events.map((job) => job.payload.type).sort()).toEqual(["lead_created", "tag_added"]);
    for (const job of events) {
      expect(job.dedupeKey).toBe(job.payload.eventId);
      expect(String(job._id)).toBe(job.payload.eventId);
    }
    const timeline = await env.tenants.leadclinic?.db
      ?.collection("lead_events")
      .find({ leadId: { $exists: true } })
      .toArray();
    const own = timeline?.filter((event) => String(event.leadId) === lead.id) ?? [];
    expect(own.map((event) => event.type).sort()).toEqual(["lead_created", "tag_added"]);
  });

  it("a change that fires no event (name, custom fields) enqueues lead_score_recalculation at once, coalesced per lead", async () => {
    const lead = (await createLead("leadclinic", { name: "Score", phone: "+919800000021" })).json();
    for (const customFields of [{ plan: "gold" }, { plan: "silver" }]) {
      const response = await env.api.app.inject({
        method: "PATCH",
        url: `/api/crm/leads/${lead.id}`,
        headers: as("leadclinic"),
        payload: { customFields },
      });
      expect(response.statusCode).toBe(200);
    }
    const scoring = (await env.jobs("lead_score_recalculation", "leadclinic")).filter(
      (job) => job.payload.leadId === lead.id,
    );
    expect(scoring).toHaveLength(1);
    expect(scoring[0]).toMatchObject({
      dedupeKey: `score:${lead.id}`,
      status: "pending",
      payload: { leadId: lead.id },
    });
  });

  it("PATCH: a new stage fires stage_changed (from, to), new tags fire tag_added, custom fields merge", async () => {
    const lead = (
      await createLead("leadclinic", {
        name: "Priya",
        phone: "+919800000030",
        tags: ["a"],
        customFields: { city: "Pune", plan: "basic" },
      })
    ).json();
    const response = await env.api.app.inject({
      method: "PATCH",
      url: `/api/crm/leads/${lead.id}`,
      headers: as("leadclinic"),
      payload: { stage: "contacted", addTags: ["b", "a"], customFields: { plan: "gold", city: null } },
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({
      stage: "contacted",
      tags: ["a", "b"],
      customFields: { plan: "gold" },
    });
    const timeline = await env.api.app.inject({
      method: "GET",
      url: `/api/crm/leads/${lead.id}/events`,
      headers: as("leadclinic"),
    });
    const types = (timeline.json().events as { type: string; data: Record<string, unknown> }[]).map(
      (event) => [event.type, event.data],
    );
    expect(types).toContainEqual(["stage_changed", { from: "new", to: "contacted" }]);
    expect(types).toContainEqual(["tag_added", { tag: "b" }]);
    expect(types.filter(([type]) => type === "tag_added")).toHaveLength(2); // "a" at creation, "b" now
    const jobs = (await env.jobs("automation_event", "leadclinic")).filter(
      (job) => job.payload.leadId === lead.id,
    );
    expect(jobs.find((job) => job.payload.type === "lead_stage_changed")?.payload.data).toEqual({
      from: "new",
      to: "contacted",
    });
    // A PATCH that changes nothing a trigger cares about fires nothing.
    const count = jobs.length;
    await env.api.app.inject({
      method: "PATCH",
      url: `/api/crm/leads/${lead.id}`,
      headers: as("leadclinic"),
      payload: { name: "Priya S", stage: "contacted" },
    });
    expect(
      (await env.jobs("automation_event", "leadclinic")).filter((job) => job.payload.leadId === lead.id),
    ).toHaveLength(count);
  });

  it("lists with stage, tag, q (name / phone / e-mail prefix), minScore; limit over 200 is a 400", async () => {
    const code = "ukclinic";
    expect(
      (
        await createLead(code, {
          name: "Zara Khan",
          phone: "+447911123401",
          email: "Zara@Example.com",
          stage: "qualified",
          tags: ["x"],
        })
      ).statusCode,
    ).toBe(201);
    expect(
      (await createLead(code, { name: "Zubin Shah", phone: "+447911123402", stage: "qualified" })).statusCode,
    ).toBe(201);
    expect(
      (await createLead(code, { name: "Amir", phone: "+447911123403", email: "zed@example.org" })).statusCode,
    ).toBe(201);
    await env.tenants[code]?.db
      ?.collection("leads")
      .updateOne({ phone: "+447911123402" }, { $set: { score: 42 } });
    const list = async (query: string) => {
      const response = await env.api.app.inject({
        method: "GET",
        url: `/api/crm/leads?${query}`,
        headers: as(code),
      });
      expect(response.statusCode, response.body).toBe(200);
      return (response.json().leads as { name: string }[]).map((lead) => lead.name).sort();
    };
    expect(await list("stage=qualified")).toEqual(["Zara Khan", "Zubin Shah"]);
    expect(await list("tag=x")).toEqual(["Zara Khan"]);
    expect(await list("q=zu")).toEqual(["Zubin Shah"]);
    expect(await list("q=ZA")).toEqual(["Zara Khan"]);
    expect(await list("q=zed")).toEqual(["Amir"]);
    expect(await list("q=%2B4479111234")).toEqual(["Amir", "Zara Khan", "Zubin Shah"]);
    expect(await list("q=447911123402")).toEqual(["Zubin Shah"]);
    expect(await list("minScore=40")).toEqual(["Zubin Shah"]);
    expect(await list("q=.*")).toEqual([]);
    const tooMany = await env.api.app.inject({
      method: "GET",
      url: "/api/crm/leads?limit=201",
      headers: as(code),
    });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().message).toMatch(/^querystring\/limit /);
  });

  it("cursor pagination is stable: leads created while paging neither repeat nor shift a page", async () => {
    const code = "leadclinic";
    for (let index = 0; index < 7; index++) {
      await createLead(code, { name: `Page ${index}`, phone: `+9198100000${10 + index}`, source: "paging" });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url = `/api/crm/leads?limit=3${cursor ? `&cursor=${cursor}` : ""}`;
      const response = await env.api.app.inject({ method: "GET", url, headers: as(code) });
      const body = response.json() as {
        leads: { id: string; source: string | null }[];
        nextCursor: string | null;
      };
      seen.push(...body.leads.map((lead) => lead.id));
      cursor = body.nextCursor;
      if (pages === 0) await createLead(code, { name: "Late", phone: "+919810000099" });
      pages += 1;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    const all = await env.tenants[code]?.db?.collection("leads").countDocuments();
    expect(seen.length).toBe((all ?? 0) - 1); // everything but the lead created after the first page
    const bad = await env.api.app.inject({
      method: "GET",
      url: "/api/crm/leads?cursor=bm9wZQ",
      headers: as(code),
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toBe("querystring/cursor is not a valid cursor");
  });

  it("the timeline is newest first and paginated", async () => {
    const lead = (await createLead("leadclinic", { name: "Timeline", phone: "+919800000040" })).json();
    for (const stage of ["contacted", "qualified", "booked"]) {
      await env.api.app.inject({
        method: "PATCH",
        url: `/api/crm/leads/${lead.id}`,
        headers: as("leadclinic"),
        payload: { stage },
      });
    }
    const first = (
      await env.api.app.inject({
        method: "GET",
        url: `/api/crm/leads/${lead.id}/events?limit=2`,
        headers: as("leadclinic"),
      })
    ).json();
    expect(first.events.map((event: { data: { to?: string } }) => event.data.to)).toEqual([
      "booked",
      "qualified",
    ]);
    const second = (
      await env.api.app.inject({
        method: "GET",
        url: `/api/crm/leads/${lead.id}/events?limit=2&cursor=${first.nextCursor}`,
        headers: as("leadclinic"),
      })
    ).json();
    expect(second.events.map((event: { type: string }) => event.type)).toEqual([
      "stage_changed",
      "lead_created",
    ]);
    expect(second.nextCursor).toBeNull();
  });

  it("GET, DELETE, and a deleted or unknown lead is a 404", async () => {
    const lead = (await createLead("leadclinic", { name: "Gone", phone: "+919800000050" })).json();
    const got = await env.api.app.inject({
      method: "GET",
      url: `/api/crm/leads/${lead.id}`,
      headers: as("leadclinic"),
    });
    expect(got.json()).toEqual(lead);
    const deleted = await env.api.app.inject({
      method: "DELETE",
      url: `/api/crm/leads/${lead.id}`,
      headers: as("leadclinic"),
    });
    expect(deleted.statusCode).toBe(200);
    expect(deleted.json()).toMatchObject({ id: lead.id, deleted: true, eventsDeleted: 1 });
    for (const method of ["GET", "PATCH", "DELETE"] as const) {
      const response = await env.api.app.inject({
        method,
        url: `/api/crm/leads/${lead.id}`,
        headers: as("leadclinic"),
        ...(method === "PATCH" ? { payload: { stage: "lost" } } : {}),
      });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({
        message: `Lead ${lead.id} not found`,
        code: "ECODRIX_CRM_LEAD_NOT_FOUND",
      });
    }
    const malformed = await env.api.app.inject({
      method: "GET",
      url: "/api/crm/leads/nope",
      headers: as("leadclinic"),
    });
    expect(malformed.statusCode).toBe(400);
  });
});
