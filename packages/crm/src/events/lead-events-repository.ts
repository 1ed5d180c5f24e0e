import { isDuplicateKeyError } from "@ecodrix/platform";
import type { Db, Filter, ObjectId } from "mongodb";
import { type CursorPosition, decodeCursor, pageOf } from "../shared/cursor.js";
import { LEAD_EVENTS_COLLECTION, type LeadEventDocument, type LeadEventType } from "./lead-event-types.js";

export interface LeadEventsRepository {
  /** Inserts the event unless one with its `_id` exists (a retried job writes its event once). */
  insertOnce(event: LeadEventDocument): Promise<boolean>;
  findById(id: ObjectId): Promise<LeadEventDocument | null>;
  /** Newest first; `cursor` from the previous page. */
  list(
    leadId: ObjectId,
    query: { limit: number; cursor?: string; type?: LeadEventType },
  ): Promise<{ items: LeadEventDocument[]; nextCursor: string | null }>;
  deleteForLead(leadId: ObjectId): Promise<number>;
}

export function createLeadEventsRepository(db: Db): LeadEventsRepository {
  const events = db.collection<LeadEventDocument>(LEAD_EVENTS_COLLECTION);
  return {
    async insertOnce(event) {
      try {
        await events.insertOne(event);
        return true;
      } catch (error) {
        if (isDuplicateKeyError(error)) return false;
        throw error;
      }
    },
    findById(id) {
      return events.findOne({ _id: id });
    },
    async list(leadId, query) {
      const filter: Filter<LeadEventDocument> = { leadId, ...(query.type ? { type: query.type } : {}) };
      if (query.cursor) {
        const { at = 0, id } = decodeCursor(query.cursor);
        const when = new Date(at);
        filter.$or = [{ at: { $lt: when } }, { at: when, _id: { $lt: id } }];
      }
      const items = await events
        .find(filter)
        .sort({ at: -1, _id: -1 })
        .limit(query.limit + 1)
        .toArray();
      return pageOf(
        items,
        query.limit,
        (event): CursorPosition => ({ at: event.at.getTime(), id: event._id }),
      );
    },
    async deleteForLead(leadId) {
      return (await events.deleteMany({ leadId })).deletedCount;
    },
  };
}
