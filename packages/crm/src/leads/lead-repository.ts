import { isDuplicateKeyError } from "@ecodrix/platform";
import type { Db, Filter, ObjectId } from "mongodb";
import { duplicatePhone } from "../shared/crm-errors.js";
import { decodeCursor, pageOf } from "../shared/cursor.js";
import { LEADS_COLLECTION, type LeadDocument } from "./lead-types.js";

export interface LeadRepository {
  /** 409 naming the lead that already has the phone. */
  insert(lead: LeadDocument): Promise<void>;
  findById(id: ObjectId): Promise<LeadDocument | null>;
  findByPhone(phone: string): Promise<LeadDocument | null>;
  list(filter: {
    stage?: string;
    tag?: string;
    q?: string;
    minScore?: number;
    limit: number;
    cursor?: string;
  }): Promise<{ items: LeadDocument[]; nextCursor: string | null }>;
  /**
   * Sets `changes` only if the lead's `updatedAt` is still `expected`; returns the lead as it was before
   * (null: changed meanwhile, or gone). 409 on a phone another lead holds.
   */
  updateIfUnchanged(
    id: ObjectId,
    expected: Date,
    changes: Partial<LeadDocument>,
  ): Promise<LeadDocument | null>;
  delete(id: ObjectId): Promise<boolean>;
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export function createLeadRepository(db: Db): LeadRepository {
  const leads = db.collection<LeadDocument>(LEADS_COLLECTION);

  async function conflictOn(phone: string | undefined, error: unknown): Promise<never> {
    if (phone && isDuplicateKeyError(error)) {
      const existing = await leads.findOne({ phone }, { projection: { _id: 1 } });
      if (existing) throw duplicatePhone(String(existing._id));
    }
    throw error;
  }

  return {
    async insert(lead) {
      try {
        await leads.insertOne(lead);
      } catch (error) {
        await conflictOn(lead.phone, error);
      }
    },
    findById(id) {
      return leads.findOne({ _id: id });
    },
    findByPhone(phone) {
      return leads.findOne({ phone });
    },
    async list(query) {
      const filter: Filter<LeadDocument> = {};
      if (query.stage !== undefined) filter.stage = query.stage;
      if (query.tag !== undefined) filter.tags = query.tag;
      if (query.minScore !== undefined) filter.score = { $gte: query.minScore };
      if (query.q !== undefined) {
        const prefix = escapeRegex(query.q.trim().toLowerCase());
        const digits = query.q.replace(/[\s()-]/g, "").replace(/^\+/, "");
        filter.$or = [
          { nameLower: { $regex: `^${prefix}` } },
          { email: { $regex: `^${prefix}` } },
          ...(/^\d+$/.test(digits) ? [{ phone: { $regex: `^\\+${digits}` } }] : []),
        ];
      }
      if (query.cursor) filter._id = { $lt: decodeCursor(query.cursor).id };
      const items = await leads
        .find(filter)
        .sort({ _id: -1 })
        .limit(query.limit + 1)
        .toArray();
      return pageOf(items, query.limit, (lead) => ({ id: lead._id }));
    },
    async updateIfUnchanged(id, expected, changes) {
      try {
        return await leads.findOneAndUpdate(
          { _id: id, updatedAt: expected },
          { $set: changes },
          {
            returnDocument: "before",
          },
        );
      } catch (error) {
        return conflictOn(changes.phone, error);
      }
    },
    async delete(id) {
      return (await leads.deleteOne({ _id: id })).deletedCount === 1;
    },
  };
}
