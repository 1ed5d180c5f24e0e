import { enqueueJob, type QueueProducer } from "@ecodrix/queue";
import { leadScoreDedupeKey, leadScoreRecalculationContract } from "./scoring-contracts.js";

/** A lead's data or events changed: recompute its score (coalesced with one already pending). */
export async function enqueueScoreRecalculation(
  queue: Pick<QueueProducer, "enqueue">,
  clientCode: string,
  leadId: string,
): Promise<void> {
  await enqueueJob(queue, leadScoreRecalculationContract, {
    clientCode,
    payload: { leadId },
    dedupeKey: leadScoreDedupeKey(leadId),
  });
}
