import { permanentFailure } from "@ecodrix/platform";
import { defineJob } from "@ecodrix/queue";
import { ObjectId } from "mongodb";
import { recalculateLeadScore } from "./lead-score-recalculation.js";
import { leadScoreRecalculationContract } from "./scoring-contracts.js";
import type { ScoringJobDeps } from "./scoring-job-deps.js";

/**
 * `lead_score_recalculation` `{ leadId }`: one lead of the job's tenant. Result `{ leadId, score,
 * previousScore }`; a lead deleted before the job ran completes with `deleted: true` (nothing to do).
 */
export const leadScoreRecalculationJob = defineJob({
  ...leadScoreRecalculationContract,
  create:
    (deps: ScoringJobDeps) =>
    async ({ job }) => {
      const clientCode = job.clientCode;
      if (!clientCode) {
        throw permanentFailure(
          "ECODRIX_SCORING_NO_TENANT",
          "lead_score_recalculation needs the lead's tenant as the job's clientCode",
        );
      }
      const leadId = new ObjectId(job.payload.leadId.toLowerCase());
      const outcome = await deps.tenancy.tenantConnections.withDb(clientCode, (db) =>
        recalculateLeadScore({ db, clientCode, queue: deps.queue, now: deps.clock() }, leadId),
      );
      return outcome ?? { leadId: leadId.toHexString(), score: null, previousScore: null, deleted: true };
    },
});
