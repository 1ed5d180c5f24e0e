import { AppError } from "@ecodrix/platform";
import type { ObjectId } from "mongodb";
import { compileRuleSet, crossedThresholds, sameScore } from "./lead-scorer.js";
import {
  deliverScoreEvent,
  LEAD_EVENTS_COLLECTION,
  LEADS_COLLECTION,
  loadScoreThresholds,
  nextScoreTime,
  pendingScoreEvent,
  SCORE_PROJECTION,
  type ScoreWriteDeps,
  scoreFence,
  scoreUpdate,
} from "./score-writes.js";
import { loadScoringRules } from "./scoring-rules-repository.js";
import type { LeadScoreFields } from "./scoring-types.js";

export interface LeadScoreOutcome {
  leadId: string;
  score: number;
  previousScore: number;
}

/** Reads (and, when needed, writes) the score at most this many times per job; see below. */
const MAX_ROUNDS = 4;

/**
 * Recomputes one lead's score from the tenant's rules, its fields and its events, writes it when it
 * changed (compare-and-set on `scoreUpdatedAt`), and records the change on the lead's timeline (and
 * fires `lead_score_reached` for a crossed threshold) through the lead's outbox entry.
 *
 * A change that arrives while this runs is coalesced into this job (its dedupe key is taken), so after a
 * write the lead is read and scored again: the job ends only when a read finds the stored score current.
 * Null when the lead does not exist.
 */
export async function recalculateLeadScore(
  deps: ScoreWriteDeps & { now: Date },
  leadId: ObjectId,
): Promise<LeadScoreOutcome | null> {
  const { db, now } = deps;
  const leads = db.collection<LeadScoreFields>(LEADS_COLLECTION);
  const stored = await loadScoringRules(db);
  const compiled = stored ? compileRuleSet(stored, now) : null;
  const thresholds = compiled ? await loadScoreThresholds(db) : [];
  let previousScore: number | undefined;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const lead = await leads.findOne({ _id: leadId }, { projection: SCORE_PROJECTION });
    if (!lead) return null;
    const current = lead.score ?? 0;
    previousScore ??= current;
    if (lead.pendingScoreEvent) {
      await deliverScoreEvent(deps, leadId, lead.scoreUpdatedAt ?? new Date(0), lead.pendingScoreEvent);
    }
    // No rules were ever stored: scores stay as they are (0 unless set before).
    if (!compiled) return { leadId: leadId.toHexString(), score: current, previousScore };
    const tally = compiled.newTally();
    if (compiled.oldestEventAt) {
      const events = db
        .collection<{ type: string; at: Date }>(LEAD_EVENTS_COLLECTION)
        .find(
          { leadId, type: { $in: [...compiled.eventTypes] }, at: { $gte: compiled.oldestEventAt } },
          { projection: { _id: 0, type: 1, at: 1 } },
        );
      for await (const event of events) tally.add(event.type, event.at);
    }
    const result = compiled.score(lead, tally);
    if (sameScore(lead, result)) return { leadId: leadId.toHexString(), score: result.score, previousScore };
    const writtenAt = nextScoreTime(lead);
    const pending =
      result.score === current
        ? undefined
        : pendingScoreEvent(current, result.score, crossedThresholds(current, result.score, thresholds), now);
    const write = await leads.updateOne(scoreFence(lead), scoreUpdate(result, writtenAt, pending));
    if (write.matchedCount === 1 && pending) await deliverScoreEvent(deps, leadId, writtenAt, pending);
  }
  throw new AppError(
    "ECODRIX_SCORING_LEAD_BUSY",
    `Lead ${leadId.toHexString()} kept changing while it was scored; retrying`,
    503,
    { retryable: true },
  );
}
