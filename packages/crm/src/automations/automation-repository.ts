import type { Db, Filter, ObjectId } from "mongodb";
import { decodeCursor, pageOf } from "../shared/cursor.js";
import type { Trigger } from "./automation-triggers.js";
import { AUTOMATIONS_COLLECTION, type AutomationDocument } from "./automation-types.js";

export interface AutomationRepository {
  insert(automation: AutomationDocument): Promise<void>;
  findById(id: ObjectId): Promise<AutomationDocument | null>;
  list(query: {
    trigger?: string;
    enabled?: boolean;
    limit: number;
    cursor?: string;
  }): Promise<{ items: AutomationDocument[]; nextCursor: string | null }>;
  /** The enabled automations of these triggers: what an event may start. */
  findEnabled(triggers: readonly Trigger[]): Promise<AutomationDocument[]>;
  replace(
    id: ObjectId,
    automation: Omit<AutomationDocument, "_id" | "createdAt">,
  ): Promise<AutomationDocument | null>;
  delete(id: ObjectId): Promise<boolean>;
  disableAll(now: Date): Promise<number>;
}

export function createAutomationRepository(db: Db): AutomationRepository {
  const automations = db.collection<AutomationDocument>(AUTOMATIONS_COLLECTION);
  return {
    async insert(automation) {
      await automations.insertOne(automation);
    },
    findById(id) {
      return automations.findOne({ _id: id });
    },
    async list(query) {
      const filter: Filter<AutomationDocument> = {};
      if (query.trigger !== undefined) filter.trigger = query.trigger as Trigger;
      if (query.enabled !== undefined) filter.enabled = query.enabled;
      if (query.cursor) filter._id = { $lt: decodeCursor(query.cursor).id };
      const items = await automations
        .find(filter)
        .sort({ _id: -1 })
        .limit(query.limit + 1)
        .toArray();
      return pageOf(items, query.limit, (automation) => ({ id: automation._id }));
    },
    findEnabled(triggers) {
      // One query per trigger keeps each one an exact match of the { enabled, trigger } index.
      return Promise.all(
        triggers.map((trigger) => automations.find({ enabled: true, trigger }).sort({ _id: 1 }).toArray()),
      ).then((lists) => lists.flat());
    },
    replace(id, automation) {
      return automations.findOneAndUpdate({ _id: id }, { $set: automation }, { returnDocument: "after" });
    },
    async delete(id) {
      return (await automations.deleteOne({ _id: id })).deletedCount === 1;
    },
    async disableAll(now) {
      return (await automations.updateMany({ enabled: true }, { $set: { enabled: false, updatedAt: now } }))
        .modifiedCount;
    },
  };
}
