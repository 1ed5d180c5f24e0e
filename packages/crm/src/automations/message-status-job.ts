import { messageStatusChangedContract } from "@ecodrix/integrations";
import { permanentFailure } from "@ecodrix/platform";
import { defineJob } from "@ecodrix/queue";
import { ObjectId } from "mongodb";
import type { CrmJobDeps } from "../crm-job-deps.js";
import type { LeadEventType } from "../events/lead-event-types.js";
import { createLeadEventsRepository } from "../events/lead-events-repository.js";
import { createLeadRepository } from "../leads/lead-repository.js";
import { enqueueScoreRecalculation } from "../scoring/score-enqueue.js";
import { derivedObjectId } from "../shared/derived-id.js";
import { createAutomationRunRepository } from "./automation-run-repository.js";

const isObjectId = (value: string | undefined): value is string =>
  typeof value === "string" && /^[0-9a-f]{24}$/.test(value);

/** Statuses arrive in any order; a step keeps the furthest one (failed is final). */
export const OUTCOME_RANK: Record<string, number> = { sent: 1, delivered: 2, read: 3, created: 3, failed: 4 };

/**
 * The CRM side of `message_status_changed`: the message's status on the lead's timeline
 * (`message_sent` / `_delivered` / `_read` / `_failed`, once per message and status) and on the
 * automation run's step that sent it; the lead's score is recalculated.
 */
export const messageStatusChangedJob = defineJob({
  ...messageStatusChangedContract,
  create:
    (deps: CrmJobDeps) =>
    async ({ job }) => {
      const clientCode = job.clientCode;
      if (!clientCode) {
        throw permanentFailure("ECODRIX_CRM_NO_CLIENT", "message_status_changed jobs need a clientCode");
      }
      const { payload } = job;
      const { context } = payload;
      if (!isObjectId(context.leadId)) return { recorded: false, reason: "No lead in the message's context" };
      const leadId = context.leadId;
      const parsed = new Date(payload.at);
      const at = Number.isNaN(parsed.getTime()) ? job.createdAt : parsed;
      return deps.tenancy.tenantConnections.withDb(clientCode, async (db) => {
        const lead = await createLeadRepository(db).findById(new ObjectId(leadId));
        if (!lead) return { recorded: false, reason: "The lead no longer exists" };
        const type = `message_${payload.status}` as LeadEventType;
        const recorded = await createLeadEventsRepository(db).insertOnce({
          _id: derivedObjectId(at, `${clientCode}/msg:${payload.messageId}:${payload.status}`),
          leadId: lead._id,
          type,
          at,
          data: {
            channel: payload.channel,
            messageId: payload.messageId,
            ...(payload.error ? { error: payload.error } : {}),
            ...(context.automationId ? { automationId: context.automationId } : {}),
            ...(context.runId ? { runId: context.runId } : {}),
            ...(context.step === undefined ? {} : { step: context.step }),
          },
        });
        let stepUpdated = false;
        if (isObjectId(context.runId) && context.step !== undefined) {
          stepUpdated = await createAutomationRunRepository(db).recordOutcome(
            new ObjectId(context.runId),
            context.step,
            {
              outcome: payload.status,
              rank: OUTCOME_RANK[payload.status] ?? 0,
              at,
              ...(payload.error ? { error: payload.error } : {}),
            },
            deps.clock(),
          );
        }
        await enqueueScoreRecalculation(deps.queue, clientCode, leadId);
        return { recorded, type, stepUpdated };
      });
    },
});
