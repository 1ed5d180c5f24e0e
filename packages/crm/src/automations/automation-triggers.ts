import type { LeadEventType } from "../events/lead-event-types.js";

export const TRIGGERS = [
  "lead_created",
  "lead_stage_changed",
  "tag_added",
  "appointment_booked",
  "appointment_confirmed",
  "appointment_cancelled",
  "appointment_completed",
  "appointment_no_show",
  "appointment_reminder",
  "lead_score_reached",
  "custom_event",
] as const;

export type Trigger = (typeof TRIGGERS)[number];

/** What an `automation_event` job carries: every trigger but the reminder (scheduled from bookings). */
export const EVENT_TYPES = TRIGGERS.filter((trigger) => trigger !== "appointment_reminder") as Exclude<
  Trigger,
  "appointment_reminder"
>[];
export type AutomationEventType = (typeof EVENT_TYPES)[number];

export const APPOINTMENT_TRIGGERS: readonly Trigger[] = [
  "appointment_booked",
  "appointment_confirmed",
  "appointment_cancelled",
  "appointment_completed",
  "appointment_no_show",
  "appointment_reminder",
];

export const isTrigger = (value: string): value is Trigger => (TRIGGERS as readonly string[]).includes(value);

export const hasAppointment = (trigger: Trigger): boolean => APPOINTMENT_TRIGGERS.includes(trigger);

/** The timeline entry each event type writes (lead_score_reached: lead scoring writes score_changed). */
export const LEAD_EVENT_OF: Record<AutomationEventType, LeadEventType | null> = {
  lead_created: "lead_created",
  lead_stage_changed: "stage_changed",
  tag_added: "tag_added",
  appointment_booked: "appointment_booked",
  appointment_confirmed: "appointment_confirmed",
  appointment_cancelled: "appointment_cancelled",
  appointment_completed: "appointment_completed",
  appointment_no_show: "appointment_no_show",
  lead_score_reached: null,
  custom_event: "custom_event",
};

/** The automations an event may start: a booking also schedules the reminders. */
export function triggersOf(type: AutomationEventType): Trigger[] {
  return type === "appointment_booked" ? ["appointment_booked", "appointment_reminder"] : [type];
}

type Config = Record<string, unknown>;

interface TriggerSpec {
  /** Allowed keys and their checks; each returns a problem or null. */
  fields: Record<string, (value: unknown) => string | null>;
  required?: string[];
  /** Does an event's data satisfy this automation's config? */
  matches(config: Config, data: Config): boolean;
}

const text = (max: number) => (value: unknown) =>
  typeof value === "string" && value.trim().length > 0 && value.length <= max
    ? null
    : `must be a non-empty string of at most ${max} characters`;
const integer = (min: number, max: number) => (value: unknown) =>
  typeof value === "number" && Number.isInteger(value) && value >= min && value <= max
    ? null
    : `must be an integer from ${min} to ${max}`;
const finite = (value: unknown) =>
  typeof value === "number" && Number.isFinite(value) ? null : "must be a number";

const always = () => true;
const none: TriggerSpec = { fields: {}, matches: always };

export const TRIGGER_SPECS: Record<Trigger, TriggerSpec> = {
  lead_created: none,
  lead_stage_changed: {
    fields: { to: text(40), from: text(40) },
    matches: (config, data) =>
      (config.to === undefined || config.to === data.to) &&
      (config.from === undefined || config.from === data.from),
  },
  tag_added: {
    fields: { tag: text(60) },
    matches: (config, data) => config.tag === undefined || config.tag === data.tag,
  },
  appointment_booked: none,
  appointment_confirmed: none,
  appointment_cancelled: none,
  appointment_completed: none,
  appointment_no_show: none,
  appointment_reminder: {
    fields: { minutesBefore: integer(0, 60 * 24 * 60) },
    required: ["minutesBefore"],
    matches: always,
  },
  lead_score_reached: {
    fields: { threshold: finite },
    required: ["threshold"],
    // Crossing upwards only: from below the threshold to at or above it.
    matches: (config, data) =>
      typeof config.threshold === "number" &&
      typeof data.score === "number" &&
      data.score >= config.threshold &&
      (typeof data.previousScore !== "number" || data.previousScore < config.threshold),
  },
  custom_event: {
    fields: { name: text(100) },
    required: ["name"],
    matches: (config, data) => config.name === data.name,
  },
};

/** null when the config is valid for the trigger, else a message naming the field. */
export function triggerConfigProblem(trigger: Trigger, config: Config, path: string): string | null {
  const spec = TRIGGER_SPECS[trigger];
  for (const key of Object.keys(config)) {
    if (!(key in spec.fields)) {
      const allowed = Object.keys(spec.fields);
      return `${path}/${key} is not allowed for trigger ${trigger}${allowed.length ? ` (allowed: ${allowed.join(", ")})` : " (it takes no configuration)"}`;
    }
  }
  for (const key of spec.required ?? []) {
    if (config[key] === undefined) return `${path}/${key} is required for trigger ${trigger}`;
  }
  for (const [key, check] of Object.entries(spec.fields)) {
    if (config[key] === undefined) continue;
    const problem = check(config[key]);
    if (problem) return `${path}/${key} ${problem}`;
  }
  return null;
}
