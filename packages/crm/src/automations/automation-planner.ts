import { type JobContract, payloadProblem } from "@ecodrix/queue";
import type { AppointmentDocument } from "../appointments/appointment-types.js";
import type { LeadDocument } from "../leads/lead-types.js";
import { derivedObjectId } from "../shared/derived-id.js";
import { ACTION_SPECS } from "./automation-actions.js";
import type { AutomationRunDocument, RunStep } from "./automation-types.js";

const MINUTE = 60_000;

export interface PlanContext {
  clientCode: string;
  lead: LeadDocument;
  appointment: AppointmentDocument | null;
  now: Date;
}

/** A scheduled step's job, ready for enqueueJob. */
export interface StepJob {
  contract: JobContract;
  payload: Record<string, unknown>;
  id: NonNullable<RunStep["jobId"]>;
  dedupeKey: string;
  runAt: Date;
}

/** The time a step is due: event time + delay, or for reminders startsAt − minutesBefore + delay. */
function dueAt(
  run: AutomationRunDocument,
  delayMinutes: number,
  appointment: AppointmentDocument | null,
): Date | null {
  if (run.trigger === "appointment_reminder") {
    if (!appointment) return null;
    const minutesBefore = Number(run.triggerConfig.minutesBefore ?? 0);
    return new Date(appointment.startsAt.getTime() - minutesBefore * MINUTE + delayMinutes * MINUTE);
  }
  return new Date(run.eventAt.getTime() + delayMinutes * MINUTE);
}

/** The job a step becomes now (payload filled from the lead and appointment as they are now). */
export function buildStepJob(
  run: AutomationRunDocument,
  index: number,
  context: PlanContext,
): ReturnType<(typeof ACTION_SPECS)[keyof typeof ACTION_SPECS]["build"]> {
  const action = run.actions[index];
  if (!action) throw new Error(`run ${run._id} has no action ${index}`);
  return ACTION_SPECS[action.type].build(action.config, {
    clientCode: context.clientCode,
    lead: context.lead,
    appointment: context.appointment,
    event: run.eventData,
    automation: { id: String(run.automationId), name: run.automationName },
    trigger: run.trigger,
    runId: String(run._id),
    step: index,
    eventId: run.eventId,
    eventType: run.eventType,
    depth: run.depth,
  });
}

/**
 * Plans one step of a run: skipped (and why), or scheduled with a job whose id and dedupe key are
 * derived from the run and the step (and, for a moved reminder, the appointment's reschedule count),
 * so computing the same plan twice enqueues one job.
 */
export function planStep(
  run: AutomationRunDocument,
  index: number,
  context: PlanContext,
  version: number,
  options: { moved?: boolean } = {},
): { step: RunStep; job: StepJob | null } {
  const action = run.actions[index];
  if (!action) throw new Error(`run ${run._id} has no action ${index}`);
  const base: RunStep = {
    step: index,
    action: action.type,
    jobType: ACTION_SPECS[action.type].jobType,
    delayMinutes: action.delayMinutes,
    config: action.config,
    runAt: null,
    status: "skipped",
    reason: null,
    skipCode: null,
    jobId: null,
    dedupeKey: null,
    version,
    outcome: null,
    outcomeRank: 0,
    outcomeAt: null,
    lastError: null,
  };
  const skip = (skipCode: RunStep["skipCode"], reason: string, runAt: Date | null = null) => ({
    step: { ...base, runAt, skipCode, reason },
    job: null,
  });
  const { appointment } = context;
  if (appointment?.status === "cancelled" && run.trigger !== "appointment_cancelled") {
    return skip("appointment_cancelled", "The appointment was cancelled");
  }
  const runAt = dueAt(run, action.delayMinutes, appointment);
  if (!runAt) return skip("no_appointment", "The event has no appointment");
  if (run.trigger === "appointment_reminder" && runAt.getTime() < context.now.getTime()) {
    return skip("reminder_passed", `The reminder time ${runAt.toISOString()} has already passed`, runAt);
  }
  const built = buildStepJob(run, index, context);
  if ("skip" in built) return skip(built.skip, built.reason, runAt);
  const problem = payloadProblem(built.contract, built.payload);
  if (problem) {
    return {
      step: { ...base, runAt, status: "failed", skipCode: "invalid_payload", reason: problem },
      job: null,
    };
  }
  // The first plan's key is the run and the step; a move (a reschedule) adds the reschedule count.
  const dedupeKey = options.moved ? `${run._id}:${index}:r${version}` : `${run._id}:${index}`;
  const id = derivedObjectId(run._id.getTimestamp(), `${context.clientCode}/${dedupeKey}`);
  return {
    step: { ...base, runAt, status: "scheduled", jobId: id, dedupeKey },
    job: { contract: built.contract, payload: built.payload, id, dedupeKey, runAt },
  };
}
