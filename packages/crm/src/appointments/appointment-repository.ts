import type { Db, Filter, ObjectId, UpdateFilter } from "mongodb";
import { decodeCursor, pageOf } from "../shared/cursor.js";
import {
  APPOINTMENTS_COLLECTION,
  type AppointmentDocument,
  type AppointmentStatus,
} from "./appointment-types.js";

export interface AppointmentRepository {
  insert(appointment: AppointmentDocument): Promise<void>;
  findById(id: ObjectId): Promise<AppointmentDocument | null>;
  /** Sorted by startsAt then _id (a calendar's order). */
  list(query: {
    leadId?: ObjectId;
    status?: AppointmentStatus;
    from?: Date;
    to?: Date;
    limit: number;
    cursor?: string;
  }): Promise<{ items: AppointmentDocument[]; nextCursor: string | null }>;
  /** Applies the update only while the appointment still has `status` (null: it changed meanwhile). */
  updateIfStatus(
    id: ObjectId,
    status: AppointmentStatus,
    update: UpdateFilter<AppointmentDocument>,
  ): Promise<AppointmentDocument | null>;
  update(id: ObjectId, update: UpdateFilter<AppointmentDocument>): Promise<AppointmentDocument | null>;
  findByLead(leadId: ObjectId): Promise<AppointmentDocument[]>;
  deleteForLead(leadId: ObjectId): Promise<number>;
}

export function createAppointmentRepository(db: Db): AppointmentRepository {
  const appointments = db.collection<AppointmentDocument>(APPOINTMENTS_COLLECTION);
  return {
    async insert(appointment) {
      await appointments.insertOne(appointment);
    },
    findById(id) {
      return appointments.findOne({ _id: id });
    },
    async list(query) {
      const filter: Filter<AppointmentDocument> = {};
      if (query.leadId) filter.leadId = query.leadId;
      if (query.status) filter.status = query.status;
      const range: { $gte?: Date; $lt?: Date } = {};
      if (query.from) range.$gte = query.from;
      if (query.to) range.$lt = query.to;
      const clauses: Filter<AppointmentDocument>[] = [];
      if (range.$gte || range.$lt) clauses.push({ startsAt: range });
      if (query.cursor) {
        const { at = 0, id } = decodeCursor(query.cursor);
        const when = new Date(at);
        clauses.push({ $or: [{ startsAt: { $gt: when } }, { startsAt: when, _id: { $gt: id } }] });
      }
      if (clauses.length > 0) filter.$and = clauses;
      const items = await appointments
        .find(filter)
        .sort({ startsAt: 1, _id: 1 })
        .limit(query.limit + 1)
        .toArray();
      return pageOf(items, query.limit, (item) => ({ at: item.startsAt.getTime(), id: item._id }));
    },
    updateIfStatus(id, status, update) {
      return appointments.findOneAndUpdate({ _id: id, status }, update, { returnDocument: "after" });
    },
    update(id, update) {
      return appointments.findOneAndUpdate({ _id: id }, update, { returnDocument: "after" });
    },
    findByLead(leadId) {
      return appointments.find({ leadId }).toArray();
    },
    async deleteForLead(leadId) {
      return (await appointments.deleteMany({ leadId })).deletedCount;
    },
  };
}
