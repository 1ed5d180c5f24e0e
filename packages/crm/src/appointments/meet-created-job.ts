import { meetCreatedContract } from "@ecodrix/integrations";
import { permanentFailure } from "@ecodrix/platform";
import { defineJob } from "@ecodrix/queue";
import { ObjectId } from "mongodb";
import { createAutomationRunRepository } from "../automations/automation-run-repository.js";
import { OUTCOME_RANK } from "../automations/message-status-job.js";
import type { CrmJobDeps } from "../crm-job-deps.js";
import { createAppointmentRepository } from "./appointment-repository.js";

const isObjectId = (value: string | undefined): value is string =>
  typeof value === "string" && /^[0-9a-f]{24}$/.test(value);

/**
 * The CRM side of `meet_created`: the Meet URL is stored on the appointment (`createMeet: true`, or a
 * `create_meet` action of an automation), and the run's step records that the meeting exists.
 */
export const meetCreatedJob = defineJob({
  ...meetCreatedContract,
  create:
    (deps: CrmJobDeps) =>
    async ({ job }) => {
      const clientCode = job.clientCode;
      if (!clientCode) throw permanentFailure("ECODRIX_CRM_NO_CLIENT", "meet_created jobs need a clientCode");
      const { payload } = job;
      const { context } = payload;
      return deps.tenancy.tenantConnections.withDb(clientCode, async (db) => {
        const now = deps.clock();
        let appointmentUpdated = false;
        if (isObjectId(context.appointmentId)) {
          const appointments = createAppointmentRepository(db);
          const appointment = await appointments.findById(new ObjectId(context.appointmentId));
          if (appointment) {
            await appointments.update(appointment._id, {
              $set: {
                meetUrl: payload.meetUrl,
                meet: { status: "created", jobId: appointment.meet?.jobId ?? null, eventId: payload.eventId },
                updatedAt: now,
              },
            });
            appointmentUpdated = true;
          }
        }
        let stepUpdated = false;
        if (isObjectId(context.runId) && context.step !== undefined) {
          stepUpdated = await createAutomationRunRepository(db).recordOutcome(
            new ObjectId(context.runId),
            context.step,
            { outcome: "created", rank: OUTCOME_RANK.created ?? 3, at: now },
            now,
          );
        }
        return { appointmentUpdated, stepUpdated, meetUrl: payload.meetUrl };
      });
    },
});
