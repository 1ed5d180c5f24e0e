import { isDuplicateKeyError } from "@ecodrix/platform";
import { enqueueJob, type QueueProducer } from "@ecodrix/queue";
import { type Db, ObjectId, type UpdateFilter } from "mongodb";
import { automationEventContract } from "../automations/automation-contracts.js";
import { AUTOMATIONS_COLLECTION } from "../automations/automation-types.js";
import { LEAD_EVENTS_COLLECTION } from "../events/lead-event-types.js";
import { LEADS_COLLECTION } from "../leads/lead-types.js";
import type { LeadScoreFields, PendingScoreEvent, ScoreResult } from "./scoring-types.js";

export { AUTOMATIONS_COLLECTION, LEAD_EVENTS_COLLECTION, LEADS_COLLECTION };

/** The lead fields scoring reads: what the rules look at, the stored score, and a pending outbox entry. */
export const SCORE_PROJECTION = {
  source: 1,
  stage: 1,
  tags: 1,
  customFields: 1,
  score: 1,
  scoreBreakdown: 1,
  scoreUpdatedAt: 1,
  pendingScoreEvent: 1,
} as const;

export interface ScoreWriteDeps {
  db: Db;
  clientCode: string;
  queue: Pick<QueueProducer, "enqueue">;
}

/**
 * The thresholds of the tenant's enabled `lead_score_reached` automations (`triggerConfig.threshold`),
 * ascending. A score change that crosses none of them fires nothing.
 */
export async function loadScoreThresholds(db: Db): Promise<number[]> {
  const automations = await db
    .collection<{ triggerConfig?: { threshold?: unknown } }>(AUTOMATIONS_COLLECTION)
    .find({ trigger: "lead_score_reached", enabled: true }, { projection: { triggerConfig: 1 } })
    .toArray();
  const thresholds = automations
    .map((automation) => automation.triggerConfig?.threshold)
    .filter((threshold): threshold is number => typeof threshold === "number" && Number.isFinite(threshold));
  return [...new Set(thresholds)].sort((a, b) => a - b);
}

/**
 * The compare-and-set filter of a score write: the lead as it was read (its `scoreUpdatedAt`, null when
 * never scored). A write that raced with another recalculation of the same lead matches nothing and
 * leaves the newer score alone. Exactly these two keys: the unique `score_fence` index serves it (on
 * the embedded server too, which uses an index only when a query's keys equal the index's keys).
 */
export function scoreFence(lead: Pick<LeadScoreFields, "_id" | "scoreUpdatedAt">) {
  return { _id: lead._id, scoreUpdatedAt: lead.scoreUpdatedAt ?? null };
}

/** A write time strictly after the one read, so that the fence always moves forward. */
export function nextScoreTime(lead: Pick<LeadScoreFields, "scoreUpdatedAt">, now = new Date()): Date {
  const previous = lead.scoreUpdatedAt?.getTime() ?? 0;
  return now.getTime() > previous ? now : new Date(previous + 1);
}

export function scoreUpdate(
  result: ScoreResult,
  writtenAt: Date,
  pending?: PendingScoreEvent,
): UpdateFilter<LeadScoreFields> {
  return {
    $set: {
      score: result.score,
      scoreBreakdown: result.breakdown,
      scoreUpdatedAt: writtenAt,
      ...(pending ? { pendingScoreEvent: pending } : {}),
    },
  };
}

/** The outbox entry of a score change: its timeline event, and the thresholds it crossed. */
export function pendingScoreEvent(
  previousScore: number,
  score: number,
  thresholds: number[],
  at: Date,
): PendingScoreEvent {
  return { eventId: new ObjectId(), at, score, previousScore, thresholds };
}

/**
 * Delivers a score change's outbox entry: the `score_changed` timeline event (its id is the entry's,
 * so a second delivery is a no-op), then for a crossed threshold one `automation_event`
 * (`lead_score_reached`) whose job id and dedupe key are that same id (enqueued once, ever), then
 * clears the entry — only if the lead's score was not rewritten meanwhile (`writtenAt`).
 */
export async function deliverScoreEvent(
  deps: ScoreWriteDeps,
  leadId: ObjectId,
  writtenAt: Date,
  pending: PendingScoreEvent,
): Promise<void> {
  const { db } = deps;
  try {
    await db.collection(LEAD_EVENTS_COLLECTION).insertOne({
      _id: pending.eventId,
      leadId,
      type: "score_changed",
      at: pending.at,
      data: {
        score: pending.score,
        previousScore: pending.previousScore,
        ...(pending.thresholds.length > 0 ? { thresholds: pending.thresholds } : {}),
      },
    });
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
  if (pending.thresholds.length > 0) {
    const eventId = pending.eventId.toHexString();
    await enqueueJob(deps.queue, automationEventContract, {
      clientCode: deps.clientCode,
      payload: {
        eventId,
        type: "lead_score_reached",
        leadId: leadId.toHexString(),
        data: { score: pending.score, previousScore: pending.previousScore },
      },
      dedupeKey: eventId,
      id: pending.eventId,
    });
  }
  await db
    .collection<LeadScoreFields>(LEADS_COLLECTION)
    .updateOne({ _id: leadId, scoreUpdatedAt: writtenAt }, { $unset: { pendingScoreEvent: "" } });
}
