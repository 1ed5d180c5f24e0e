import type { JobHandler } from "@ecodrix/queue";

/**
 * The nightly `score_recalculation` cron job. Deliberately a no-op until the CRM issue brings lead
 * scoring: it completes, and its stored result says that nothing was recalculated.
 */
export const scoreRecalculationHandler: JobHandler = async ({ job, log }) => {
  log.info("score_recalculation is not implemented yet (CRM issue): nothing recalculated");
  return {
    noop: true,
    recalculated: 0,
    reason: "lead scoring is not implemented yet; the CRM issue fills this handler",
    scheduledFor: job.payload.scheduledFor ?? null,
  };
};
