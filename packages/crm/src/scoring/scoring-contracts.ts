import { enqueueJob, jobContract, type QueueProducer } from "@ecodrix/queue";
import { Type } from "@sinclair/typebox";

/**
 * `lead_score_recalculation`: recompute one lead's score. Enqueued whenever a lead's data or events
 * change, with dedupeKey `score:<leadId>`, so changes that arrive while one is pending coalesce into it.
 * Lead scoring defines the handler.
 */
export const leadScoreRecalculationContract = jobContract({
  type: "lead_score_recalculation",
  payload: Type.Object(
    { leadId: Type.String({ pattern: "^[0-9a-f]{24}$" }) },
    { additionalProperties: false },
  ),
});

export async function enqueueScoreRecalculation(
  queue: Pick<QueueProducer, "enqueue">,
  clientCode: string,
  leadId: string,
): Promise<void> {
  await enqueueJob(queue, leadScoreRecalculationContract, {
    clientCode,
    payload: { leadId },
    dedupeKey: `score:${leadId}`,
  });
}
