import { jobContract } from "@ecodrix/queue";
import { Type } from "@sinclair/typebox";

/** A lead id as text: an ObjectId's 24 hexadecimal digits. */
export const LEAD_ID_PATTERN = "^[0-9a-fA-F]{24}$";

/**
 * `lead_score_recalculation`: recompute one lead's score (job `clientCode` = the lead's tenant). The CRM
 * enqueues it whenever a lead's data or events change, with `dedupeKey` = `leadScoreDedupeKey(leadId)`,
 * so changes arriving while one is pending coalesce into it. Result: `{ leadId, score, previousScore }`.
 */
export const leadScoreRecalculationContract = jobContract({
  type: "lead_score_recalculation",
  payload: Type.Object(
    { leadId: Type.String({ pattern: LEAD_ID_PATTERN }) },
    { additionalProperties: false },
  ),
  limits: { maxRetries: 5 },
});

/** The dedupe key that coalesces a lead's pending recalculations into one job. */
export const leadScoreDedupeKey = (leadId: string): string => `score:${leadId.toLowerCase()}`;

/** How long one attempt of a whole recalculation may run; a longer run resumes from its checkpoint. */
export const SCORE_RECALCULATION_TIMEOUT_MS = 6 * 60 * 60 * 1000;

/**
 * `score_recalculation`: recompute every lead's score. With a `clientCode` (the API's
 * `POST /api/crm/scoring/recalculate`), that tenant only; without one (the nightly cron, or a job
 * inserted by hand), every tenant with a datasource. `batchSize` (default 1,000) is how many leads
 * are read, scored, written and checkpointed together.
 */
export const scoreRecalculationContract = jobContract({
  type: "score_recalculation",
  payload: Type.Object({
    scheduledFor: Type.Optional(Type.String()),
    batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  }),
  limits: { maxRetries: 5, priority: -1, timeoutMs: SCORE_RECALCULATION_TIMEOUT_MS },
});

/** One whole-tenant recalculation at a time: a second request while one waits returns it. */
export const tenantRecalculationDedupeKey = (clientCode: string): string => `score-all:${clientCode}`;
