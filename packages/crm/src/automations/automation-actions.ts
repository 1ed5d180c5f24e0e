import {
  createMeetContract,
  sendEmailContract,
  sendWhatsappContract,
  webhookEventContract,
} from "@ecodrix/integrations";
import type { JobContract } from "@ecodrix/queue";
import type { AppointmentDocument } from "../appointments/appointment-types.js";
import type { LeadDocument } from "../leads/lead-types.js";
import { hasAppointment, type Trigger } from "./automation-triggers.js";
import type { ActionType, SkipCode } from "./automation-types.js";
import { escapeHtml, renderText, type VariableContext, variableProblem } from "./template-variables.js";
import { updateLeadContract } from "./update-lead-contract.js";

type Config = Record<string, unknown>;

/** Checks one config field: a message naming `path` or null. */
type Check = (value: unknown, path: string, trigger: Trigger) => string | null;

const string =
  (
    min: number,
    max: number,
    options: { pattern?: RegExp; patternText?: string; variables?: boolean } = {},
  ): Check =>
  (value, path, trigger) => {
    if (typeof value !== "string" || value.length < min || value.length > max) {
      return `${path} must be a string of ${min} to ${max} characters`;
    }
    if (options.pattern && !options.pattern.test(value)) return `${path} ${options.patternText}`;
    return options.variables ? variableProblem(value, trigger, path) : null;
  };

const stringList =
  (maxItems: number, item: Check): Check =>
  (value, path, trigger) => {
    if (!Array.isArray(value) || value.length > maxItems)
      return `${path} must be an array of at most ${maxItems} strings`;
    for (const [index, entry] of value.entries()) {
      const problem = item(entry, `${path}/${index}`, trigger);
      if (problem) return problem;
    }
    return null;
  };

const integer =
  (min: number, max: number): Check =>
  (value, path) =>
    typeof value === "number" && Number.isInteger(value) && value >= min && value <= max
      ? null
      : `${path} must be an integer from ${min} to ${max}`;

const stringMap =
  (maxKeys: number, value: Check): Check =>
  (map, path, trigger) => {
    if (typeof map !== "object" || map === null || Array.isArray(map)) return `${path} must be an object`;
    const entries = Object.entries(map);
    if (entries.length > maxKeys) return `${path} must have at most ${maxKeys} keys`;
    for (const [key, entry] of entries) {
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(key))
        return `${path}/${key} is not a valid key (letters, digits, _ or -)`;
      const problem = value(entry, `${path}/${key}`, trigger);
      if (problem) return problem;
    }
    return null;
  };

const tag = string(1, 60);

/** The job an action becomes, or why it is skipped for this lead. */
export type PlannedJob =
  | { contract: JobContract; payload: Record<string, unknown> }
  | { skip: SkipCode; reason: string };

export interface ActionContext extends VariableContext {
  clientCode: string;
  automation: { id: string; name: string };
  trigger: Trigger;
  runId: string;
  step: number;
  eventId: string;
  eventType: string;
  depth: number;
}

interface ActionSpec {
  jobType: string;
  fields: Record<string, Check>;
  required?: string[];
  /** A whole-config rule beyond the fields (e.g. "text or html"). */
  check?(config: Config, path: string, trigger: Trigger): string | null;
  build(config: Config, context: ActionContext): PlannedJob;
}

const jobContext = (context: ActionContext) => ({
  leadId: String(context.lead._id),
  ...(context.appointment ? { appointmentId: String(context.appointment._id) } : {}),
  automationId: context.automation.id,
  runId: context.runId,
  step: context.step,
});

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);

function leadSummary(lead: LeadDocument) {
  return {
    id: String(lead._id),
    name: lead.name,
    phone: lead.phone,
    email: lead.email ?? null,
    stage: lead.stage,
    tags: lead.tags ?? [],
    score: lead.score ?? 0,
  };
}

function appointmentSummary(appointment: AppointmentDocument) {
  return {
    id: String(appointment._id),
    startsAt: appointment.startsAt.toISOString(),
    durationMinutes: appointment.durationMinutes,
    title: appointment.title ?? null,
    status: appointment.status,
    meetUrl: appointment.meetUrl ?? null,
  };
}

const needsAppointment = (action: string) => (_config: Config, path: string, trigger: Trigger) =>
  hasAppointment(trigger)
    ? null
    : `${path}: ${action} needs an appointment trigger (appointment_booked, appointment_confirmed, appointment_reminder, …), not ${trigger}`;

export const ACTION_SPECS: Record<ActionType, ActionSpec> = {
  send_whatsapp: {
    jobType: sendWhatsappContract.type,
    fields: {
      templateName: string(1, 512, {
        pattern: /^[A-Za-z0-9_]+$/,
        patternText: "must be a WhatsApp template name (letters, digits and _)",
      }),
      language: string(2, 20, {
        pattern: /^[a-z]{2,3}(_[A-Za-z0-9]{2,8})?$/,
        patternText: "must be a WhatsApp language code such as en_US or hi",
      }),
      bodyParams: stringList(100, string(0, 1024, { variables: true })),
      headerParams: stringList(10, string(0, 1024, { variables: true })),
    },
    required: ["templateName", "language"],
    build(config, context) {
      if (context.lead.whatsappOptIn === false) {
        return { skip: "whatsapp_opt_out", reason: "The lead opted out of WhatsApp (whatsappOptIn: false)" };
      }
      const render = (list: unknown) => strings(list).map((entry) => renderText(entry, context));
      return {
        contract: sendWhatsappContract,
        payload: {
          to: context.lead.phone,
          templateName: String(config.templateName),
          language: String(config.language),
          ...(config.bodyParams === undefined ? {} : { bodyParams: render(config.bodyParams) }),
          ...(config.headerParams === undefined ? {} : { headerParams: render(config.headerParams) }),
          context: jobContext(context),
        },
      };
    },
  },
  send_email: {
    jobType: sendEmailContract.type,
    fields: {
      subject: string(1, 998, { variables: true }),
      text: string(1, 100_000, { variables: true }),
      html: string(1, 100_000, { variables: true }),
    },
    required: ["subject"],
    check: (config, path) =>
      config.text === undefined && config.html === undefined
        ? `${path}/text or ${path}/html is required`
        : null,
    build(config, context) {
      if (!context.lead.email) return { skip: "no_email", reason: "The lead has no e-mail address" };
      return {
        contract: sendEmailContract,
        payload: {
          to: context.lead.email,
          subject: renderText(String(config.subject), context).replace(/[\r\n]+/g, " "),
          ...(typeof config.text === "string" ? { text: renderText(config.text, context) } : {}),
          ...(typeof config.html === "string" ? { html: renderText(config.html, context, escapeHtml) } : {}),
          context: jobContext(context),
        },
      };
    },
  },
  create_meet: {
    jobType: createMeetContract.type,
    fields: { title: string(1, 1024, { variables: true }), durationMinutes: integer(1, 1440) },
    check: needsAppointment("create_meet"),
    build(config, context) {
      const { appointment, lead } = context;
      if (!appointment) return { skip: "no_appointment", reason: "The event has no appointment" };
      const title = typeof config.title === "string" ? config.title : "Appointment with {{lead.name}}";
      return {
        contract: createMeetContract,
        payload: {
          title: renderText(title, context) || "Appointment",
          startsAt: appointment.startsAt.toISOString(),
          durationMinutes:
            typeof config.durationMinutes === "number" ? config.durationMinutes : appointment.durationMinutes,
          ...(lead.email ? { attendees: [lead.email] } : {}),
          context: jobContext(context),
        },
      };
    },
  },
  webhook: {
    jobType: webhookEventContract.type,
    fields: { data: stringMap(50, string(0, 1000, { variables: true })) },
    build(config, context) {
      const data =
        config.data && typeof config.data === "object"
          ? Object.fromEntries(
              Object.entries(config.data as Record<string, unknown>).map(([key, value]) => [
                key,
                renderText(String(value), context),
              ]),
            )
          : {};
      return {
        contract: webhookEventContract,
        payload: {
          type: "automation.action",
          data: {
            automation: context.automation,
            runId: context.runId,
            step: context.step,
            trigger: context.trigger,
            eventId: context.eventId,
            eventType: context.eventType,
            event: context.event,
            lead: leadSummary(context.lead),
            ...(context.appointment ? { appointment: appointmentSummary(context.appointment) } : {}),
            data,
          },
          context: jobContext(context),
        },
      };
    },
  },
  update_lead: {
    jobType: updateLeadContract.type,
    fields: {
      stage: string(1, 40, { pattern: /\S/, patternText: "must not be blank" }),
      addTags: stringList(50, tag),
      removeTags: stringList(50, tag),
    },
    check: (config, path) =>
      config.stage === undefined && config.addTags === undefined && config.removeTags === undefined
        ? `${path} needs at least one of stage, addTags, removeTags`
        : null,
    build(config, context) {
      return {
        contract: updateLeadContract,
        payload: {
          leadId: String(context.lead._id),
          ...(typeof config.stage === "string" ? { stage: config.stage } : {}),
          ...(config.addTags === undefined ? {} : { addTags: strings(config.addTags) }),
          ...(config.removeTags === undefined ? {} : { removeTags: strings(config.removeTags) }),
          depth: context.depth,
          context: jobContext(context),
        },
      };
    },
  },
};

/** null when the action's config is valid for the trigger, else a message naming the field. */
export function actionConfigProblem(
  type: ActionType,
  config: Config,
  path: string,
  trigger: Trigger,
): string | null {
  const spec = ACTION_SPECS[type];
  for (const key of Object.keys(config)) {
    if (!(key in spec.fields)) {
      return `${path}/${key} is not allowed for action ${type} (allowed: ${Object.keys(spec.fields).join(", ")})`;
    }
  }
  for (const key of spec.required ?? []) {
    if (config[key] === undefined) return `${path}/${key} is required for action ${type}`;
  }
  for (const [key, check] of Object.entries(spec.fields)) {
    if (config[key] === undefined) continue;
    const problem = check(config[key], `${path}/${key}`, trigger);
    if (problem) return problem;
  }
  return spec.check?.(config, path, trigger) ?? null;
}
