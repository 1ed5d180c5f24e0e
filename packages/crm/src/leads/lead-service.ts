import { type Db, ObjectId } from "mongodb";
import { createAppointmentRepository } from "../appointments/appointment-repository.js";
import { createAutomationRunRepository } from "../automations/automation-run-repository.js";
import type { CrmServiceDeps } from "../crm-service-deps.js";
import { type CrmEvent, publishCrmEvents } from "../events/crm-event-publisher.js";
import { type LeadEventType, type LeadEventView, toLeadEventView } from "../events/lead-event-types.js";
import { createLeadEventsRepository } from "../events/lead-events-repository.js";
import { enqueueScoreRecalculation } from "../scoring/score-enqueue.js";
import { duplicatePhone, leadNotFound } from "../shared/crm-errors.js";
import { toObjectId } from "../shared/cursor.js";
import { normalizePhone } from "./lead-phone.js";
import { createLeadRepository } from "./lead-repository.js";
import {
  type CreateLeadInput,
  type CustomFieldValue,
  DEFAULT_STAGE,
  type LeadDocument,
  type LeadListQuery,
  type LeadView,
  toLeadView,
  type UpdateLeadInput,
} from "./lead-types.js";

/** The client's settings a lead's phone number is read with. */
export interface LeadOptions {
  /** ISO 3166-1 alpha-2; numbers without a country code are read in it (default IN). */
  defaultCountry?: string | undefined;
}

export interface DeleteLeadResult {
  id: string;
  deleted: true;
  appointmentsDeleted: number;
  eventsDeleted: number;
  pendingJobsCancelled: number;
}

export interface LeadService {
  create(clientCode: string, input: CreateLeadInput, options?: LeadOptions): Promise<LeadView>;
  list(clientCode: string, query: LeadListQuery): Promise<{ leads: LeadView[]; nextCursor: string | null }>;
  get(clientCode: string, id: string): Promise<LeadView>;
  update(clientCode: string, id: string, input: UpdateLeadInput, options?: LeadOptions): Promise<LeadView>;
  delete(clientCode: string, id: string): Promise<DeleteLeadResult>;
  events(
    clientCode: string,
    id: string,
    query: { limit?: number; cursor?: string; type?: string },
  ): Promise<{ events: LeadEventView[]; nextCursor: string | null }>;
}

const uniqueTags = (tags: readonly string[]) => [...new Set(tags.map((tag) => tag.trim()))];

/** Optimistic updates that lost to a concurrent change of the same lead are retried this often. */
const UPDATE_ATTEMPTS = 5;

export function createLeadService(deps: CrmServiceDeps): LeadService {
  const now = deps.now ?? (() => new Date());
  const { tenantConnections, queue } = deps;

  return {
    async create(clientCode, input, options = {}) {
      const phone = normalizePhone(input.phone, options.defaultCountry);
      return tenantConnections.withDb(clientCode, async (db) => {
        const leads = createLeadRepository(db);
        const existing = await leads.findByPhone(phone);
        if (existing) throw duplicatePhone(String(existing._id));
        const at = now();
        const name = input.name.trim();
        const lead: LeadDocument = {
          _id: new ObjectId(),
          name,
          nameLower: name.toLowerCase(),
          phone,
          email: input.email?.trim().toLowerCase() ?? null,
          source: input.source?.trim() ?? null,
          stage: input.stage?.trim() ?? DEFAULT_STAGE,
          tags: uniqueTags(input.tags ?? []),
          customFields: input.customFields ?? {},
          whatsappOptIn: input.whatsappOptIn ?? true,
          score: 0,
          scoreBreakdown: {},
          scoreUpdatedAt: null,
          createdAt: at,
          updatedAt: at,
        };
        await leads.insert(lead);
        await publishCrmEvents({ db, queue, clientCode }, [
          {
            type: "lead_created",
            leadId: lead._id,
            at,
            data: { stage: lead.stage, ...(lead.source ? { source: lead.source } : {}) },
          },
          ...lead.tags.map((tag): CrmEvent => ({ type: "tag_added", leadId: lead._id, at, data: { tag } })),
        ]);
        return toLeadView(lead);
      });
    },

    async list(clientCode, query) {
      return tenantConnections.withDb(clientCode, async (db) => {
        const { items, nextCursor } = await createLeadRepository(db).list({
          ...query,
          limit: query.limit ?? 50,
        });
        return { leads: items.map(toLeadView), nextCursor };
      });
    },

    async get(clientCode, id) {
      return tenantConnections.withDb(clientCode, async (db) => {
        const lead = await createLeadRepository(db).findById(toObjectId(id));
        if (!lead) throw leadNotFound(id);
        return toLeadView(lead);
      });
    },

    async update(clientCode, id, input, options = {}) {
      const phone =
        input.phone === undefined ? undefined : normalizePhone(input.phone, options.defaultCountry);
      return tenantConnections.withDb(clientCode, async (db) => {
        const leads = createLeadRepository(db);
        const leadId = toObjectId(id);
        if (phone !== undefined) {
          const holder = await leads.findByPhone(phone);
          if (holder && !holder._id.equals(leadId)) throw duplicatePhone(String(holder._id));
        }
        for (let attempt = 0; ; attempt++) {
          const current = await leads.findById(leadId);
          if (!current) throw leadNotFound(id);
          // Strictly later than the version read, so the optimistic check below can tell them apart.
          const at = new Date(Math.max(now().getTime(), current.updatedAt.getTime() + 1));
          const changes = applyUpdate(current, input, phone, at);
          // Only if nobody changed the lead since it was read: tags and custom fields are merged here.
          const before = await leads.updateIfUnchanged(leadId, current.updatedAt, changes);
          if (!before) {
            if (attempt + 1 < UPDATE_ATTEMPTS) continue;
            throw new Error(`lead ${id} kept changing during the update`);
          }
          const after = { ...before, ...changes } as LeadDocument;
          await afterUpdate(db, clientCode, before, after, at);
          return toLeadView(after);
        }
      });
    },

    async delete(clientCode, id) {
      return tenantConnections.withDb(clientCode, async (db) => {
        const leads = createLeadRepository(db);
        const leadId = toObjectId(id);
        const lead = await leads.findById(leadId);
        if (!lead) throw leadNotFound(id);
        const pendingJobsCancelled = await createAutomationRunRepository(db).cancelScheduledJobs(
          { leadId },
          queue,
        );
        const appointmentsDeleted = await createAppointmentRepository(db).deleteForLead(leadId);
        const eventsDeleted = await createLeadEventsRepository(db).deleteForLead(leadId);
        await leads.delete(leadId);
        return {
          id: String(leadId),
          deleted: true,
          appointmentsDeleted,
          eventsDeleted,
          pendingJobsCancelled,
        };
      });
    },

    async events(clientCode, id, query) {
      return tenantConnections.withDb(clientCode, async (db) => {
        const leadId = toObjectId(id);
        if (!(await createLeadRepository(db).findById(leadId))) throw leadNotFound(id);
        const { items, nextCursor } = await createLeadEventsRepository(db).list(leadId, {
          limit: query.limit ?? 50,
          ...(query.cursor ? { cursor: query.cursor } : {}),
          ...(query.type ? { type: query.type as LeadEventType } : {}),
        });
        return { events: items.map(toLeadEventView), nextCursor };
      });
    },
  };

  /** The events a change fires (stage, new tags); an opt-out cancels the lead's pending WhatsApp steps. */
  async function afterUpdate(
    db: Db,
    clientCode: string,
    before: LeadDocument,
    after: LeadDocument,
    at: Date,
  ): Promise<void> {
    const events: CrmEvent[] = [];
    if (after.stage !== before.stage) {
      events.push({
        type: "lead_stage_changed",
        leadId: after._id,
        at,
        data: { from: before.stage, to: after.stage },
      });
    }
    for (const tag of after.tags) {
      if (!(before.tags ?? []).includes(tag))
        events.push({ type: "tag_added", leadId: after._id, at, data: { tag } });
    }
    if (before.whatsappOptIn !== false && after.whatsappOptIn === false) {
      await createAutomationRunRepository(db).cancelScheduledJobs(
        { leadId: after._id },
        queue,
        "send_whatsapp",
      );
    }
    if (events.length > 0) await publishCrmEvents({ db, queue, clientCode }, events);
    else await enqueueScoreRecalculation(queue, clientCode, String(after._id));
  }
}

/** The lead's fields after the PATCH (only the ones it changes, plus updatedAt). */
function applyUpdate(
  current: LeadDocument,
  input: UpdateLeadInput,
  phone: string | undefined,
  at: Date,
): Partial<LeadDocument> {
  const changes: Partial<LeadDocument> = { updatedAt: at };
  if (input.name !== undefined) {
    changes.name = input.name.trim();
    changes.nameLower = changes.name.toLowerCase();
  }
  if (phone !== undefined) changes.phone = phone;
  if (input.email !== undefined)
    changes.email = input.email === null ? null : input.email.trim().toLowerCase();
  if (input.source !== undefined) changes.source = input.source === null ? null : input.source.trim();
  if (input.stage !== undefined) changes.stage = input.stage.trim();
  if (input.tags !== undefined || input.addTags !== undefined || input.removeTags !== undefined) {
    const removed = new Set(input.removeTags ?? []);
    changes.tags = uniqueTags([...(input.tags ?? current.tags ?? []), ...(input.addTags ?? [])]).filter(
      (tag) => !removed.has(tag),
    );
  }
  if (input.customFields !== undefined) {
    const merged: Record<string, CustomFieldValue> = { ...(current.customFields ?? {}) };
    for (const [key, value] of Object.entries(input.customFields)) {
      if (value === null) delete merged[key];
      else merged[key] = value;
    }
    changes.customFields = merged;
  }
  if (input.whatsappOptIn !== undefined) changes.whatsappOptIn = input.whatsappOptIn;
  return changes;
}
