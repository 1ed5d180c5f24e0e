import { defineJob } from "@ecodrix/queue";
import { Type } from "@sinclair/typebox";

/**
 * The nightly `score_recalculation` cron job. Lead scoring arrives with the CRM; until then it
 * completes and its stored result says that nothing was recalculated.
 */
export const scoreRecalculationJob = defineJob({
  type: "score_recalculation",
  payload: Type.Object({ scheduledFor: Type.Optional(Type.String()) }),
  limits: { maxRetries: 3, priority: -1 },
  create:
    () =>
    async ({ job, log }) => {
      log.info("score_recalculation: lead scoring is not built yet; nothing recalculated");
      return {
        noop: true,
        recalculated: 0,
        reason: "lead scoring is not built yet",
        scheduledFor: job.payload.scheduledFor ?? null,
      };
    },
});
