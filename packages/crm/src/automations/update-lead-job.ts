import { permanentFailure } from "@ecodrix/platform";
import { defineJob } from "@ecodrix/queue";
import { ObjectId } from "mongodb";
import type { CrmJobDeps } from "../crm-job-deps.js";
import { type CrmEvent, leadEventOf, publishCrmEvents } from "../events/crm-event-publisher.js";
import { createLeadEventsRepository } from "../events/lead-events-repository.js";
import { LEADS_COLLECTION, type LeadDocument } from "../leads/lead-types.js";
import { enqueueScoreRecalculation } from "../scoring/score-enqueue.js";
import { derivedObjectId } from "../shared/derived-id.js";
import { updateLeadContract } from "./update-lead-contract.js";

/**
 * The `update_lead` action: sets the stage, adds and removes tags, and fires `lead_stage_changed` /
 * `tag_added` one level deeper in the chain. The timeline entries are written first, under ids derived
 * from the job, so a retry after the lead was already changed still knows what it changed (and the
 * events it fires keep their ids: their automations run once).
 */
export const updateLeadJob = defineJob({
  ...updateLeadContract,
  create:
    (deps: CrmJobDeps) =>
    async ({ job }) => {
      const clientCode = job.clientCode;
      if (!clientCode) throw permanentFailure("ECODRIX_CRM_NO_CLIENT", "update_lead jobs need a clientCode");
      const { payload } = job;
      return deps.tenancy.tenantConnections.withDb(clientCode, async (db) => {
        const leadId = new ObjectId(payload.leadId);
        const leads = db.collection<LeadDocument>(LEADS_COLLECTION);
        const timeline = createLeadEventsRepository(db);
        const lead = await leads.findOne({ _id: leadId });
        if (!lead) return { updated: false, reason: "The lead no longer exists" };
        const now = deps.clock();
        const via = { automationId: payload.context.automationId, runId: payload.context.runId };
        const events: (CrmEvent & { id: ObjectId; at: Date })[] = [];

        async function change(
          key: string,
          type: CrmEvent["type"],
          data: () => Record<string, unknown> | null,
        ) {
          const id = derivedObjectId(job.createdAt, `${clientCode}/${job._id}:${key}`);
          const earlier = await timeline.findById(id);
          if (earlier) {
            events.push({ type, leadId, id, at: earlier.at, data: earlier.data });
            return;
          }
          const fresh = data();
          if (fresh) events.push({ type, leadId, id, at: now, data: { ...fresh, ...via } });
        }
        if (payload.stage !== undefined) {
          const to = payload.stage;
          await change("stage", "lead_stage_changed", () =>
            lead.stage === to ? null : { from: lead.stage, to },
          );
        }
        for (const tag of payload.addTags ?? []) {
          await change(`tag:${tag}`, "tag_added", () => ((lead.tags ?? []).includes(tag) ? null : { tag }));
        }
        for (const event of events) {
          const entry = leadEventOf(event, event.id, event.at);
          if (entry) await timeline.insertOnce(entry);
        }

        const set = { updatedAt: now, ...(payload.stage !== undefined ? { stage: payload.stage } : {}) };
        await leads.updateOne(
          { _id: leadId },
          {
            $set: set,
            ...(payload.addTags?.length ? { $addToSet: { tags: { $each: payload.addTags } } } : {}),
          },
        );
        // A separate update: $addToSet and $pull on one field conflict in a single update.
        if (payload.removeTags?.length) {
          await leads.updateOne({ _id: leadId }, { $pull: { tags: { $in: payload.removeTags } } });
        }
        if (events.length > 0) {
          await publishCrmEvents(
            { db, queue: deps.queue, clientCode },
            events.map((event) => ({ ...event, depth: payload.depth + 1 })),
          );
        } else {
          await enqueueScoreRecalculation(deps.queue, clientCode, payload.leadId);
        }
        return {
          updated: true,
          leadId: payload.leadId,
          events: events.map((event) => ({
            eventId: String(event.id),
            type: event.type,
            depth: payload.depth + 1,
          })),
        };
      });
    },
});
