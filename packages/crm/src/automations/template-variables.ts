import type { AppointmentDocument } from "../appointments/appointment-types.js";
import type { LeadDocument } from "../leads/lead-types.js";
import { hasAppointment, type Trigger } from "./automation-triggers.js";

/**
 * `{{lead.name}}`-style variables in action configs, filled when the action is scheduled (for a
 * reminder: again whenever the appointment moves) from the lead and appointment as they are then.
 */
const VARIABLE = /\{\{\s*([^{}]*?)\s*\}\}/g;

const LEAD_VARIABLES = [
  "lead.id",
  "lead.name",
  "lead.firstName",
  "lead.phone",
  "lead.email",
  "lead.stage",
  "lead.source",
  "lead.score",
  "lead.tags",
];
const APPOINTMENT_VARIABLES = [
  "appointment.id",
  "appointment.startsAt",
  "appointment.durationMinutes",
  "appointment.title",
  "appointment.notes",
  "appointment.status",
  "appointment.meetUrl",
];
const EVENT_VARIABLES: Partial<Record<Trigger, string[]>> = {
  lead_stage_changed: ["event.from", "event.to"],
  tag_added: ["event.tag"],
  lead_score_reached: ["event.score", "event.previousScore"],
  custom_event: ["event.name"],
};
const FIELD_KEY = /^[A-Za-z0-9_-]{1,64}$/;

/** The variables an automation with this trigger may use (prefix forms end in `<key>`). */
export function variablesFor(trigger: Trigger): string[] {
  return [
    ...LEAD_VARIABLES,
    "lead.customFields.<key>",
    ...(hasAppointment(trigger) ? APPOINTMENT_VARIABLES : []),
    ...(EVENT_VARIABLES[trigger] ?? []),
    ...(trigger === "custom_event" ? ["event.data.<key>"] : []),
  ];
}

function isKnown(name: string, trigger: Trigger): boolean {
  if (variablesFor(trigger).includes(name)) return true;
  if (name.startsWith("lead.customFields.")) return FIELD_KEY.test(name.slice("lead.customFields.".length));
  if (trigger === "custom_event" && name.startsWith("event.data.")) {
    return FIELD_KEY.test(name.slice("event.data.".length));
  }
  return false;
}

/** null when every `{{…}}` in `text` is a variable of this trigger, else a message naming `path`. */
export function variableProblem(text: string, trigger: Trigger, path: string): string | null {
  for (const match of text.matchAll(VARIABLE)) {
    const name = match[1] ?? "";
    if (!isKnown(name, trigger)) {
      return `${path}: unknown variable {{${name}}} for trigger ${trigger} (known: ${variablesFor(trigger)
        .map((variable) => `{{${variable}}}`)
        .join(", ")})`;
    }
  }
  return null;
}

export interface VariableContext {
  lead: LeadDocument;
  appointment: AppointmentDocument | null;
  event: Record<string, unknown>;
}

const text = (value: unknown): string => {
  if (value === undefined || value === null) return "";
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(text).join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
};

function variableValue(name: string, context: VariableContext): unknown {
  const { lead, appointment, event } = context;
  if (name.startsWith("lead.customFields.")) return lead.customFields?.[name.slice(18)];
  if (name.startsWith("event.data.")) {
    const data = event.data;
    return data && typeof data === "object" ? (data as Record<string, unknown>)[name.slice(11)] : undefined;
  }
  switch (name) {
    case "lead.id":
      return String(lead._id);
    case "lead.firstName":
      return lead.name.trim().split(/\s+/)[0];
    case "appointment.id":
      return appointment ? String(appointment._id) : undefined;
  }
  const [scope, field] = name.split(".", 2) as [string, string];
  if (scope === "lead") return (lead as unknown as Record<string, unknown>)[field];
  if (scope === "appointment")
    return appointment ? (appointment as unknown as Record<string, unknown>)[field] : undefined;
  if (scope === "event") return event[field];
  return undefined;
}

/**
 * `template` with every variable replaced (a missing value becomes the empty string). `escape` is
 * applied to the values only (HTML e-mail bodies: a lead's name must not become markup).
 */
export function renderText(
  template: string,
  context: VariableContext,
  escapeValue: (value: string) => string = (value) => value,
): string {
  return template.replace(VARIABLE, (_match, name: string) =>
    escapeValue(text(variableValue(name.trim(), context))),
  );
}

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}
