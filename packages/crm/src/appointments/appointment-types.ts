import type { ObjectId } from "mongodb";

export const APPOINTMENTS_COLLECTION = "appointments";

export const APPOINTMENT_STATUSES = ["booked", "confirmed", "cancelled", "completed", "no_show"] as const;
export type AppointmentStatus = (typeof APPOINTMENT_STATUSES)[number];

/** The only status changes there are; anything else is a 409 naming both statuses. */
export const TRANSITIONS: Record<AppointmentStatus, readonly AppointmentStatus[]> = {
  booked: ["confirmed", "cancelled", "no_show"],
  confirmed: ["completed", "cancelled", "no_show"],
  cancelled: [],
  completed: [],
  no_show: [],
};

export const canTransition = (from: AppointmentStatus, to: AppointmentStatus): boolean =>
  TRANSITIONS[from].includes(to);

/** Statuses whose appointment may still move (reschedule). */
export const OPEN_STATUSES: readonly AppointmentStatus[] = ["booked", "confirmed"];

export interface AppointmentMeet {
  /** requested: the `create_meet` job is queued; created: `meetUrl` is set. */
  status: "requested" | "created";
  /** The `create_meet` job of `createMeet: true` (null when an automation's action made the meeting). */
  jobId: string | null;
  eventId: string | null;
}

export interface AppointmentDocument {
  _id: ObjectId;
  leadId: ObjectId;
  startsAt: Date;
  durationMinutes: number;
  title: string | null;
  notes: string | null;
  status: AppointmentStatus;
  meet: AppointmentMeet | null;
  meetUrl: string | null;
  /** +1 on every change of `startsAt`: reminders scheduled for an older count are moved. */
  rescheduleCount: number;
  statusChangedAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

export interface AppointmentView {
  id: string;
  leadId: string;
  startsAt: string;
  durationMinutes: number;
  title: string | null;
  notes: string | null;
  status: AppointmentStatus;
  meetUrl: string | null;
  meetStatus: "requested" | "created" | null;
  rescheduleCount: number;
  createdAt: string;
  updatedAt: string;
}

export interface CreateAppointmentInput {
  leadId: string;
  startsAt: string;
  durationMinutes?: number;
  title?: string;
  notes?: string;
  createMeet?: boolean;
}

export interface UpdateAppointmentInput {
  status?: AppointmentStatus;
  startsAt?: string;
  durationMinutes?: number;
  title?: string | null;
  notes?: string | null;
}

export interface AppointmentListQuery {
  leadId?: string;
  status?: AppointmentStatus;
  from?: string;
  to?: string;
  limit?: number;
  cursor?: string;
}

export const DEFAULT_DURATION_MINUTES = 30;

export function toAppointmentView(doc: AppointmentDocument): AppointmentView {
  return {
    id: String(doc._id),
    leadId: String(doc.leadId),
    startsAt: doc.startsAt.toISOString(),
    durationMinutes: doc.durationMinutes,
    title: doc.title ?? null,
    notes: doc.notes ?? null,
    status: doc.status,
    meetUrl: doc.meetUrl ?? null,
    meetStatus: doc.meet?.status ?? null,
    rescheduleCount: doc.rescheduleCount ?? 0,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
  };
}
