import { ObjectId } from "mongodb";
import { describe, expect, it } from "vitest";
import type { AppointmentDocument } from "../appointments/appointment-types.js";
import type { LeadDocument } from "../leads/lead-types.js";
import { TRIGGER_SPECS, triggerConfigProblem } from "./automation-triggers.js";
import { escapeHtml, renderText, variableProblem } from "./template-variables.js";

const lead: LeadDocument = {
  _id: new ObjectId("0123456789abcdef01234567"),
  name: "Asha  Rao",
  nameLower: "asha  rao",
  phone: "+919812345678",
  email: null,
  source: "ads",
  stage: "new",
  tags: ["vip", "pune"],
  customFields: { doctor: "Sharma", visits: 3 },
  whatsappOptIn: true,
  score: 12,
  scoreBreakdown: {},
  scoreUpdatedAt: null,
  createdAt: new Date(),
  updatedAt: new Date(),
};
const appointment = {
  _id: new ObjectId("89abcdef0123456789abcdef"),
  startsAt: new Date("2030-01-15T10:30:00Z"),
  durationMinutes: 30,
  title: null,
} as AppointmentDocument;

describe("template variables", () => {
  it("fills lead, appointment and event values; missing ones become empty", () => {
    const context = { lead, appointment, event: { name: "paid", data: { amount: 1500 } } };
    expect(
      renderText(
        "{{lead.firstName}}|{{ lead.name }}|{{lead.tags}}|{{lead.customFields.visits}}|{{lead.email}}|{{appointment.startsAt}}|{{appointment.title}}|{{event.data.amount}}|{{lead.id}}",
        context,
      ),
    ).toBe("Asha|Asha  Rao|vip, pune|3||2030-01-15T10:30:00.000Z||1500|0123456789abcdef01234567");
    expect(renderText("no variables", context)).toBe("no variables");
  });

  it("escapes values (not the template) for HTML bodies", () => {
    const hostile = { ...lead, name: "<script>x</script>" };
    expect(
      renderText("<b>{{lead.name}}</b>", { lead: hostile, appointment: null, event: {} }, escapeHtml),
    ).toBe("<b>&lt;script&gt;x&lt;/script&gt;</b>");
  });

  it("knows which variables each trigger offers", () => {
    expect(variableProblem("{{lead.name}} {{lead.customFields.doctor}}", "lead_created", "p")).toBeNull();
    expect(variableProblem("{{appointment.startsAt}}", "appointment_reminder", "p")).toBeNull();
    expect(variableProblem("{{appointment.startsAt}}", "lead_created", "p")).toMatch(/^p: unknown variable/);
    expect(variableProblem("{{event.data.amount}}", "custom_event", "p")).toBeNull();
    expect(variableProblem("{{event.data.amount}}", "tag_added", "p")).toMatch(
      /unknown variable \{\{event\.data\.amount\}\}/,
    );
    expect(variableProblem("{{event.to}}", "lead_stage_changed", "p")).toBeNull();
    expect(variableProblem("{{lead.customFields.a.b}}", "lead_created", "p")).toMatch(/unknown variable/);
    expect(variableProblem("{{}}", "lead_created", "p")).toMatch(/unknown variable \{\{\}\}/);
  });
});

describe("trigger configs", () => {
  it("names the field of a bad config", () => {
    expect(triggerConfigProblem("lead_created", {}, "c")).toBeNull();
    expect(triggerConfigProblem("lead_created", { to: "x" }, "c")).toMatch(
      /^c\/to is not allowed for trigger lead_created/,
    );
    expect(triggerConfigProblem("lead_score_reached", { threshold: "50" }, "c")).toBe(
      "c/threshold must be a number",
    );
    expect(triggerConfigProblem("tag_added", { tag: "" }, "c")).toMatch(/^c\/tag must be a non-empty string/);
  });

  it("lead_score_reached matches only an upward crossing of the threshold", () => {
    const { matches } = TRIGGER_SPECS.lead_score_reached;
    expect(matches({ threshold: 50 }, { score: 55, previousScore: 40 })).toBe(true);
    expect(matches({ threshold: 50 }, { score: 50, previousScore: 49 })).toBe(true);
    expect(matches({ threshold: 50 }, { score: 60, previousScore: 55 })).toBe(false);
    expect(matches({ threshold: 50 }, { score: 45, previousScore: 60 })).toBe(false);
  });

  it("lead_stage_changed matches on to and from when given", () => {
    const { matches } = TRIGGER_SPECS.lead_stage_changed;
    expect(matches({}, { from: "new", to: "won" })).toBe(true);
    expect(matches({ to: "won" }, { from: "new", to: "won" })).toBe(true);
    expect(matches({ to: "won", from: "qualified" }, { from: "new", to: "won" })).toBe(false);
  });
});
