import { enqueueJob, type QueueProducer } from "@ecodrix/queue";
import type { Static } from "@sinclair/typebox";
import { type Db, ObjectId } from "mongodb";
import { createAppointmentRepository } from "../appointments/appointment-repository.js";
import type { AppointmentDocument } from "../appointments/appointment-types.js";
import { leadEventOf } from "../events/crm-event-publisher.js";
import { createLeadEventsRepository } from "../events/lead-events-repository.js";
import { createLeadRepository } from "../leads/lead-repository.js";

import { enqueueScoreRecalculation } from "../scoring/score-enqueue.js";
import { derivedObjectId } from "../shared/derived-id.js";
import { cancelAppointmentActions, moveReminders } from "./appointment-actions.js";
import { type automationEventContract, MAX_CHAIN_DEPTH } from "./automation-contracts.js";
import { buildStepJob, type PlanContext, planStep } from "./automation-planner.js";
import { createAutomationRepository } from "./automation-repository.js";
import { createAutomationRunRepository } from "./automation-run-repository.js";
import { TRIGGER_SPECS, triggersOf } from "./automation-triggers.js";
import type { AutomationDocument, AutomationRunDocument, RunStep } from "./automation-types.js";

export type AutomationEventPayload = Static<(typeof automationEventContract)["payload"]>;

export interface EngineDeps {
  db: Db;
  queue: Pick<QueueProducer, "enqueue" | "cancelPending">;
  clientCode: string;
  now: () => Date;
}

export interface EventOutcome {
  automationsMatched: number;
  runs: string[];
  stepsScheduled: number;
  stepsSkipped: number;
  stopped: boolean;
  reason?: string;
}

function newRun(
  automation: AutomationDocument,
  event: AutomationEventPayload,
  eventAt: Date,
  now: Date,
): AutomationRunDocument {
  return {
    _id: new ObjectId(),
    automationId: automation._id,
    automationName: automation.name,
    trigger: automation.trigger,
    triggerConfig: automation.triggerConfig,
    eventId: event.eventId,
    eventType: event.type,
    eventAt,
    eventData: event.data ?? {},
    leadId: new ObjectId(event.leadId),
    appointmentId: event.appointmentId ? new ObjectId(event.appointmentId) : null,
    depth: event.depth ?? 0,
    actions: automation.actions,
    status: "planning",
    reason: null,
    steps: [],
    createdAt: now,
    updatedAt: now,
  };
}

/** The step's `automation_step` timeline entry; its id is derived, so a retried event writes it once. */
async function recordStep(db: Db, run: AutomationRunDocument, step: RunStep, at: Date): Promise<void> {
  await createLeadEventsRepository(db).insertOnce({
    // The id's time is the run's, not the clock's: a retry computes the same id.
    _id: derivedObjectId(run._id.getTimestamp(), `${run._id}:step:${step.step}:v${step.version}`),
    leadId: run.leadId,
    type: "automation_step",
    at,
    data: {
      automationId: String(run.automationId),
      automationName: run.automationName,
      runId: String(run._id),
      step: step.step,
      action: step.action,
      status: step.status,
      ...(step.runAt ? { runAt: step.runAt.toISOString() } : {}),
      ...(step.reason ? { reason: step.reason } : {}),
    },
  });
}

/**
 * One `automation_event`: writes the timeline entry if the producer did not get to it, matches the
 * tenant's enabled automations, opens one run per automation (unique per event: a retried job finds
 * it), plans each action as a step and enqueues its job with `runAt` = event time + delay (reminders:
 * startsAt − minutesBefore + delay) under the dedupe key `<runId>:<step>` and an id derived from it.
 * Safe to run any number of times for the same event: no step is ever enqueued twice.
 */
export async function processAutomationEvent(
  deps: EngineDeps,
  event: AutomationEventPayload,
  eventAt: Date,
): Promise<EventOutcome> {
  const { db } = deps;
  const leadId = new ObjectId(event.leadId);
  const appointmentId = event.appointmentId ? new ObjectId(event.appointmentId) : undefined;
  const entry = leadEventOf(
    {
      type: event.type,
      leadId,
      ...(appointmentId ? { appointmentId } : {}),
      ...(event.data ? { data: event.data } : {}),
    },
    new ObjectId(event.eventId),
    eventAt,
  );
  if (entry) await createLeadEventsRepository(db).insertOnce(entry);

  const outcome: EventOutcome = {
    automationsMatched: 0,
    runs: [],
    stepsScheduled: 0,
    stepsSkipped: 0,
    stopped: false,
  };
  const lead = await createLeadRepository(db).findById(leadId);
  if (!lead) return { ...outcome, reason: "The lead no longer exists" };
  const appointments = createAppointmentRepository(db);
  const appointment = appointmentId ? await appointments.findById(appointmentId) : null;

  const data = event.data ?? {};
  const automations = (await createAutomationRepository(db).findEnabled(triggersOf(event.type))).filter(
    (automation) =>
      TRIGGER_SPECS[automation.trigger].matches(automation.triggerConfig ?? {}, data) &&
      (automation.trigger !== "appointment_reminder" || appointment !== null),
  );
  outcome.automationsMatched = automations.length;
  const depth = event.depth ?? 0;
  const runs = createAutomationRunRepository(db);
  for (const automation of automations) {
    const now = deps.now();
    let run = await runs.open(newRun(automation, event, eventAt, now));
    outcome.runs.push(String(run._id));
    if (run.status === "stopped") {
      outcome.stopped = true;
      continue;
    }
    if (run.status === "planning") {
      if (depth >= MAX_CHAIN_DEPTH) {
        const reason = `Chain depth limit reached: this event was caused by ${depth} automation steps in a row (at most ${MAX_CHAIN_DEPTH}); its automations do not run`;
        await runs.setPlan(run._id, { status: "stopped", reason, steps: [] }, now);
        await createLeadEventsRepository(db).insertOnce({
          _id: derivedObjectId(run._id.getTimestamp(), `${run._id}:stopped`),
          leadId,
          type: "automation_step",
          at: now,
          data: {
            automationId: String(run.automationId),
            automationName: run.automationName,
            runId: String(run._id),
            status: "stopped",
            reason,
          },
        });
        outcome.stopped = true;
        outcome.reason = reason;
        continue;
      }
      const context: PlanContext = { clientCode: deps.clientCode, lead, appointment, now };
      const version = appointment?.rescheduleCount ?? 0;
      const steps = run.actions.map((_action, index) => planStep(run, index, context, version).step);
      await runs.setPlan(run._id, { status: "scheduled", reason: null, steps }, now);
      run = { ...run, status: "scheduled", steps };
      for (const step of steps) await recordStep(db, run, step, now);
    }
    await enqueueSteps(deps, run, { clientCode: deps.clientCode, lead, appointment, now: deps.now() });
    for (const step of run.steps) {
      if (step.status === "scheduled") outcome.stepsScheduled += 1;
      else outcome.stepsSkipped += 1;
    }
    if (appointment) await reconcileWithAppointment(deps, run, appointment);
  }
  // The event (and the steps just recorded) changed the lead's timeline: its score may change. A
  // lead_score_reached that started nothing changed nothing (lead scoring has just scored the lead).
  if (event.type !== "lead_score_reached" || automations.length > 0) {
    await enqueueScoreRecalculation(deps.queue, deps.clientCode, event.leadId);
  }
  return outcome;
}

/** Enqueues every scheduled step's job under its stored id and dedupe key (a second call finds them). */
async function enqueueSteps(
  deps: EngineDeps,
  run: AutomationRunDocument,
  context: PlanContext,
): Promise<void> {
  for (const step of run.steps) {
    if (step.status !== "scheduled" || !step.jobId || !step.dedupeKey || !step.runAt) continue;
    const built = buildStepJob(run, step.step, context);
    if ("skip" in built) continue;
    await enqueueJob(deps.queue, built.contract, {
      clientCode: deps.clientCode,
      payload: built.payload,
      id: step.jobId,
      dedupeKey: step.dedupeKey,
      runAt: step.runAt,
    });
  }
}

/**
 * The appointment may have changed while this run was planned from it (the API cancels or moves only
 * the runs it can already see): look again after enqueueing and cancel or move what was scheduled.
 */
async function reconcileWithAppointment(
  deps: EngineDeps,
  run: AutomationRunDocument,
  planned: AppointmentDocument,
): Promise<void> {
  const current = await createAppointmentRepository(deps.db).findById(planned._id);
  if (!current) return;
  if (current.status === "cancelled" && run.trigger !== "appointment_cancelled") {
    await cancelAppointmentActions(deps, current);
    return;
  }
  if (
    run.trigger === "appointment_reminder" &&
    (current.rescheduleCount ?? 0) > (planned.rescheduleCount ?? 0)
  ) {
    const fresh = await createAutomationRunRepository(deps.db).findById(run._id);
    if (fresh) await moveReminders(deps, current, [fresh]);
  }
}
