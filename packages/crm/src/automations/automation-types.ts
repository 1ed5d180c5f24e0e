import type { ObjectId } from "mongodb";
import type { Trigger } from "./automation-triggers.js";

export const AUTOMATIONS_COLLECTION = "automations";
export const AUTOMATION_RUNS_COLLECTION = "automation_runs";

export const ACTION_TYPES = ["send_whatsapp", "send_email", "create_meet", "webhook", "update_lead"] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

export interface AutomationAction {
  type: ActionType;
  delayMinutes: number;
  config: Record<string, unknown>;
}

export interface AutomationDocument {
  _id: ObjectId;
  name: string;
  description: string | null;
  trigger: Trigger;
  triggerConfig: Record<string, unknown>;
  actions: AutomationAction[];
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface AutomationView {
  id: string;
  name: string;
  description: string | null;
  trigger: Trigger;
  triggerConfig: Record<string, unknown>;
  actions: AutomationAction[];
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface AutomationInput {
  name: string;
  description?: string | null;
  trigger: string;
  triggerConfig?: Record<string, unknown>;
  actions: { type: string; delayMinutes?: number; config?: Record<string, unknown> }[];
  enabled?: boolean;
}

export type AutomationPatch = Partial<AutomationInput>;

/** Why a step was not scheduled; `reminder_passed` steps come back when the appointment moves. */
export type SkipCode =
  | "whatsapp_opt_out"
  | "no_email"
  | "no_appointment"
  | "reminder_passed"
  | "appointment_cancelled"
  | "invalid_payload";

/**
 * One action of a run. `status` is the planning outcome; what happened next is the job's own status
 * (read from the queue) and, for messages and meetings, `outcome` (sent / delivered / read / failed /
 * created) reported back by the integration.
 */
export interface RunStep {
  step: number;
  action: ActionType;
  jobType: string;
  delayMinutes: number;
  config: Record<string, unknown>;
  runAt: Date | null;
  status: "scheduled" | "skipped" | "failed";
  reason: string | null;
  skipCode: SkipCode | null;
  jobId: ObjectId | null;
  /** `<runId>:<step>`, or `<runId>:<step>:r<version>` once a reschedule moved it. */
  dedupeKey: string | null;
  /** The appointment's `rescheduleCount` this step was scheduled for (reminders move with it). */
  version: number;
  outcome: string | null;
  outcomeRank: number;
  outcomeAt: Date | null;
  lastError: string | null;
}

export interface AutomationRunDocument {
  _id: ObjectId;
  automationId: ObjectId;
  automationName: string;
  trigger: Trigger;
  triggerConfig: Record<string, unknown>;
  eventId: string;
  eventType: string;
  eventAt: Date;
  eventData: Record<string, unknown>;
  leadId: ObjectId;
  appointmentId: ObjectId | null;
  depth: number;
  /** The automation's actions when the run started (later edits do not change a run under way). */
  actions: AutomationAction[];
  /** planning → scheduled; stopped: the chain depth limit; skipped: nothing could run. */
  status: "planning" | "scheduled" | "stopped";
  reason: string | null;
  steps: RunStep[];
  createdAt: Date;
  updatedAt: Date;
}

export function toAutomationView(doc: AutomationDocument): AutomationView {
  return {
    id: String(doc._id),
    name: doc.name,
    description: doc.description ?? null,
    trigger: doc.trigger,
    triggerConfig: doc.triggerConfig ?? {},
    actions: doc.actions,
    enabled: doc.enabled,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
  };
}
