import { createMeetContract } from "@ecodrix/integrations";
import { conflict } from "@ecodrix/platform";
import { enqueueJob } from "@ecodrix/queue";
import { ObjectId, type UpdateFilter } from "mongodb";
import { cancelAppointmentActions, moveReminders } from "../automations/appointment-actions.js";
import type { CrmServiceDeps } from "../crm-service-deps.js";
import { publishCrmEvents } from "../events/crm-event-publisher.js";
import { createLeadRepository } from "../leads/lead-repository.js";
import { appointmentNotFound, CrmErrorCode, invalidTransition, leadNotFound } from "../shared/crm-errors.js";
import { toObjectId } from "../shared/cursor.js";
import { createAppointmentRepository } from "./appointment-repository.js";
import {
  type AppointmentDocument,
  type AppointmentListQuery,
  type AppointmentStatus,
  type AppointmentView,
  type CreateAppointmentInput,
  canTransition,
  DEFAULT_DURATION_MINUTES,
  OPEN_STATUSES,
  toAppointmentView,
  type UpdateAppointmentInput,
} from "./appointment-types.js";

export interface AppointmentService {
  create(clientCode: string, input: CreateAppointmentInput): Promise<AppointmentView>;
  list(
    clientCode: string,
    query: AppointmentListQuery,
  ): Promise<{ appointments: AppointmentView[]; nextCursor: string | null }>;
  get(clientCode: string, id: string): Promise<AppointmentView>;
  update(clientCode: string, id: string, input: UpdateAppointmentInput): Promise<AppointmentView>;
}

const EVENT_OF_STATUS = {
  confirmed: "appointment_confirmed",
  cancelled: "appointment_cancelled",
  completed: "appointment_completed",
  no_show: "appointment_no_show",
} as const;

const UPDATE_ATTEMPTS = 5;

export function createAppointmentService(deps: CrmServiceDeps): AppointmentService {
  const now = deps.now ?? (() => new Date());
  const { tenantConnections, queue } = deps;

  return {
    async create(clientCode, input) {
      return tenantConnections.withDb(clientCode, async (db) => {
        const lead = await createLeadRepository(db).findById(toObjectId(input.leadId));
        if (!lead) throw leadNotFound(input.leadId);
        const at = now();
        const appointment: AppointmentDocument = {
          _id: new ObjectId(),
          leadId: lead._id,
          startsAt: new Date(input.startsAt),
          durationMinutes: input.durationMinutes ?? DEFAULT_DURATION_MINUTES,
          title: input.title?.trim() || null,
          notes: input.notes ?? null,
          status: "booked",
          meet: null,
          meetUrl: null,
          rescheduleCount: 0,
          statusChangedAt: at,
          createdAt: at,
          updatedAt: at,
        };
        const appointments = createAppointmentRepository(db);
        await appointments.insert(appointment);
        if (input.createMeet) {
          const job = await enqueueJob(queue, createMeetContract, {
            clientCode,
            payload: {
              title: appointment.title ?? `Appointment with ${lead.name}`,
              startsAt: appointment.startsAt.toISOString(),
              durationMinutes: appointment.durationMinutes,
              ...(lead.email ? { attendees: [lead.email] } : {}),
              context: { leadId: String(lead._id), appointmentId: String(appointment._id) },
            },
          });
          appointment.meet = { status: "requested", jobId: String(job._id), eventId: null };
          await appointments.update(appointment._id, { $set: { meet: appointment.meet } });
        }
        await publishCrmEvents({ db, queue, clientCode }, [
          {
            type: "appointment_booked",
            leadId: lead._id,
            appointmentId: appointment._id,
            at,
            data: { startsAt: appointment.startsAt.toISOString() },
          },
        ]);
        return toAppointmentView(appointment);
      });
    },

    async list(clientCode, query) {
      return tenantConnections.withDb(clientCode, async (db) => {
        const { items, nextCursor } = await createAppointmentRepository(db).list({
          ...(query.leadId ? { leadId: toObjectId(query.leadId) } : {}),
          ...(query.status ? { status: query.status } : {}),
          ...(query.from ? { from: new Date(query.from) } : {}),
          ...(query.to ? { to: new Date(query.to) } : {}),
          ...(query.cursor ? { cursor: query.cursor } : {}),
          limit: query.limit ?? 50,
        });
        return { appointments: items.map(toAppointmentView), nextCursor };
      });
    },

    async get(clientCode, id) {
      return tenantConnections.withDb(clientCode, async (db) => {
        const appointment = await createAppointmentRepository(db).findById(toObjectId(id));
        if (!appointment) throw appointmentNotFound(id);
        return toAppointmentView(appointment);
      });
    },

    async update(clientCode, id, input) {
      return tenantConnections.withDb(clientCode, async (db) => {
        const appointments = createAppointmentRepository(db);
        const appointmentId = toObjectId(id);
        for (let attempt = 0; ; attempt++) {
          const current = await appointments.findById(appointmentId);
          if (!current) throw appointmentNotFound(id);
          const to = input.status;
          if (to !== undefined && !canTransition(current.status, to))
            throw invalidTransition(current.status, to);
          const status: AppointmentStatus = to ?? current.status;
          const startsAt = input.startsAt === undefined ? undefined : new Date(input.startsAt);
          const rescheduled = startsAt !== undefined && startsAt.getTime() !== current.startsAt.getTime();
          if (rescheduled && !OPEN_STATUSES.includes(status)) {
            throw conflict(
              CrmErrorCode.notReschedulable,
              `Cannot reschedule a ${status} appointment (only booked or confirmed ones move)`,
            );
          }
          const at = now();
          const update: UpdateFilter<AppointmentDocument> = {
            $set: {
              updatedAt: at,
              ...(to === undefined ? {} : { status: to, statusChangedAt: at }),
              ...(rescheduled ? { startsAt } : {}),
              ...(input.durationMinutes === undefined ? {} : { durationMinutes: input.durationMinutes }),
              ...(input.title === undefined ? {} : { title: input.title?.trim() || null }),
              ...(input.notes === undefined ? {} : { notes: input.notes }),
            },
            ...(rescheduled ? { $inc: { rescheduleCount: 1 } } : {}),
          };
          // Applied only if the status is still the one the transition was checked against.
          const updated = await appointments.updateIfStatus(appointmentId, current.status, update);
          if (!updated) {
            if (attempt + 1 < UPDATE_ATTEMPTS) continue;
            throw new Error(`appointment ${id} kept changing during the update`);
          }
          const actionDeps = { db, queue, clientCode, now };
          if (to === "cancelled") await cancelAppointmentActions(actionDeps, updated);
          else if (rescheduled) await moveReminders(actionDeps, updated);
          if (to !== undefined && to !== "booked") {
            await publishCrmEvents({ db, queue, clientCode }, [
              {
                type: EVENT_OF_STATUS[to],
                leadId: updated.leadId,
                appointmentId: updated._id,
                at,
                data: { from: current.status, to, startsAt: updated.startsAt.toISOString() },
              },
            ]);
          }
          return toAppointmentView(updated);
        }
      });
    },
  };
}
