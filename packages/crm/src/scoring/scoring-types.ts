import type { ObjectId } from "mongodb";

/** A value a field condition compares with (text, number or yes/no; tags, stage and source are text). */
export type FieldValue = string | number | boolean;

/**
 * A condition on the lead's own data: `field` is `source`, `stage`, `tags` or `customFields.<key>`,
 * with exactly one of `equals`, `in` or `exists`.
 */
export interface FieldCondition {
  field: string;
  equals?: FieldValue;
  in?: FieldValue[];
  exists?: boolean;
}

/** A condition on the lead's timeline: at least `atLeast` (default 1) `event`s in the last `withinDays`. */
export interface EventCondition {
  event: string;
  withinDays: number;
  atLeast?: number;
}

export type RuleCondition = FieldCondition | EventCondition;

export interface ScoringRule {
  /** Unique within the rule set; the key of the rule's points in a lead's `scoreBreakdown`. */
  name: string;
  when: RuleCondition;
  /** Added to the score while the condition holds; may be negative. */
  points: number;
}

export interface ScoringDecay {
  /** An event rule's points halve every `halfLifeDays` of the age of the event that satisfied it. */
  halfLifeDays: number;
}

/** What `PUT /api/crm/scoring/rules` takes. */
export interface ScoringRuleSet {
  rules: ScoringRule[];
  decay?: ScoringDecay;
}

/** The tenant's stored rule set: `version` counts the writes (1 for the first). */
export interface StoredScoringRules extends ScoringRuleSet {
  version: number;
  updatedAt: Date;
}

export function isEventCondition(condition: RuleCondition): condition is EventCondition {
  return "event" in condition;
}

/** A lead's fields that scoring reads (tenant collection `leads`). */
export interface ScorableLead {
  source?: string | null;
  stage?: string | null;
  tags?: readonly string[] | null;
  customFields?: Record<string, unknown> | null;
}

/** A score and the points of each rule that applied (rule name → points, rounded to 2 decimals). */
export interface ScoreResult {
  score: number;
  breakdown: Record<string, number>;
}

/**
 * A score change whose timeline event (and, when it crossed a `lead_score_reached` threshold, its
 * `automation_event`) is not yet written: stored on the lead in the same update as the score, so a
 * crash between the two writes is finished by whoever next recalculates the lead (an outbox).
 */
export interface PendingScoreEvent {
  eventId: ObjectId;
  at: Date;
  score: number;
  previousScore: number;
  /** The thresholds crossed upwards (previousScore < threshold ≤ score). */
  thresholds: number[];
}

/** The scoring fields of a lead document as stored. */
export interface LeadScoreFields extends ScorableLead {
  _id: ObjectId;
  score?: number;
  scoreBreakdown?: Record<string, number>;
  scoreUpdatedAt?: Date | null;
  pendingScoreEvent?: PendingScoreEvent;
}
