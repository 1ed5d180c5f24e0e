import { enqueueJob, type QueueProducer } from "@ecodrix/queue";
import type { Db } from "mongodb";
import type { AppointmentDocument } from "../appointments/appointment-types.js";
import { createLeadRepository } from "../leads/lead-repository.js";
import { planStep } from "./automation-planner.js";
import { createAutomationRunRepository, scheduledJobIds } from "./automation-run-repository.js";
import type { AutomationRunDocument } from "./automation-types.js";

export interface AppointmentActionDeps {
  db: Db;
  queue: Pick<QueueProducer, "enqueue" | "cancelPending">;
  clientCode: string;
  now: () => Date;
}

/**
 * Moves the reminder steps of an appointment's runs to its current `startsAt` (a reschedule): each
 * step scheduled for an older `rescheduleCount` has its pending job cancelled and a new one
 * enqueued for the new time, with its variables filled again (`{{appointment.startsAt}}` changed).
 * Idempotent, so the API (after a reschedule) and the worker (after scheduling reminders it planned
 * from an older start) may both call it: the same count gives the same job id and dedupe key, and a
 * step already moved further is left alone. Returns the number of steps moved.
 */
export async function moveReminders(
  deps: AppointmentActionDeps,
  appointment: AppointmentDocument,
  runs?: readonly AutomationRunDocument[],
): Promise<number> {
  if (appointment.status !== "booked" && appointment.status !== "confirmed") return 0;
  const runRepository = createAutomationRunRepository(deps.db);
  const reminderRuns =
    runs ?? (await runRepository.findByAppointment(appointment._id, { only: "appointment_reminder" }));
  const lead = await createLeadRepository(deps.db).findById(appointment.leadId);
  if (!lead) return 0;
  const version = appointment.rescheduleCount ?? 0;
  let moved = 0;
  for (const run of reminderRuns) {
    if (run.status !== "scheduled") continue;
    for (const step of run.steps) {
      if (step.version >= version) continue;
      // A step skipped for the lead's own reasons (opted out, no e-mail) stays skipped.
      if (step.status === "failed") continue;
      if (step.status === "skipped" && step.skipCode !== "reminder_passed") continue;
      const now = deps.now();
      const planned = planStep(
        run,
        step.step,
        { clientCode: deps.clientCode, lead, appointment, now },
        version,
        {
          moved: true,
        },
      );
      if (planned.job) {
        await enqueueJob(deps.queue, planned.job.contract, {
          clientCode: deps.clientCode,
          payload: planned.job.payload,
          id: planned.job.id,
          dedupeKey: planned.job.dedupeKey,
          runAt: planned.job.runAt,
        });
      }
      if (await runRepository.replaceStepIfOlder(run._id, planned.step, now)) {
        if (step.status === "scheduled" && step.jobId) await deps.queue.cancelPending({ ids: [step.jobId] });
        moved += 1;
      } else if (planned.job) {
        // A newer reschedule moved this step meanwhile: the job just made is obsolete.
        await deps.queue.cancelPending({ ids: [planned.job.id] });
      }
    }
  }
  return moved;
}

/**
 * A cancelled appointment: cancels every pending job its runs scheduled, except those of runs of
 * `appointment_cancelled` automations (they are the point). Returns the number of jobs cancelled.
 */
export async function cancelAppointmentActions(
  deps: Pick<AppointmentActionDeps, "db" | "queue">,
  appointment: Pick<AppointmentDocument, "_id">,
): Promise<number> {
  const runs = await createAutomationRunRepository(deps.db).findByAppointment(appointment._id, {
    except: "appointment_cancelled",
  });
  const ids = scheduledJobIds(runs);
  return ids.length === 0 ? 0 : deps.queue.cancelPending({ ids });
}
