import {
  type EventCondition,
  type FieldCondition,
  type FieldValue,
  isEventCondition,
  type ScorableLead,
  type ScoreResult,
  type ScoringRuleSet,
} from "./scoring-types.js";

export const DAY_MS = 24 * 60 * 60 * 1000;

/** Points and scores are kept to 2 decimals (decay makes fractions; float noise must not look like a change). */
export function roundPoints(value: number): number {
  const rounded = Math.round(value * 100) / 100;
  return rounded === 0 ? 0 : rounded;
}

/**
 * The newest event times per event type of one lead, as many as the rules need (the largest `atLeast`
 * among the rules on that type): memory stays bounded however many events a lead has. Fed one event
 * at a time in any order; `reset()` readies it for the next lead without reallocating.
 */
export class EventTally {
  private readonly newest = new Map<string, number[]>();

  constructor(private readonly keep: ReadonlyMap<string, number>) {
    for (const type of keep.keys()) this.newest.set(type, []);
  }

  /** Records one event; types no rule uses and invalid times are ignored. */
  add(type: string, at: Date | number): void {
    const times = this.newest.get(type);
    if (!times) return;
    const ms = typeof at === "number" ? at : at instanceof Date ? at.getTime() : Number.NaN;
    if (!Number.isFinite(ms)) return;
    const limit = this.keep.get(type) ?? 1;
    if (times.length === limit && ms <= (times[limit - 1] as number)) return;
    // Insertion into a short array kept newest first.
    let index = times.length;
    while (index > 0 && (times[index - 1] as number) < ms) index--;
    times.splice(index, 0, ms);
    if (times.length > limit) times.length = limit;
  }

  /** The time of the `n`-th newest event of `type` (1 = newest), if there are that many. */
  nth(type: string, n: number): number | undefined {
    return this.newest.get(type)?.[n - 1];
  }

  reset(): void {
    for (const times of this.newest.values()) times.length = 0;
  }
}

type CompiledRule = (lead: ScorableLead, tally: EventTally) => number | null;

/** A rule set prepared for scoring many leads at one instant (`now`). */
export interface CompiledRuleSet {
  /** Event types the rules read; empty when no rule is an event condition. */
  readonly eventTypes: readonly string[];
  /** Events older than this never matter (the longest window); null without event rules. */
  readonly oldestEventAt: Date | null;
  /** A tally sized for these rules (reuse it across leads with reset()). */
  newTally(): EventTally;
  score(lead: ScorableLead, tally: EventTally): ScoreResult;
}

function fieldValueOf(lead: ScorableLead, field: string): unknown {
  if (field === "source") return lead.source;
  if (field === "stage") return lead.stage;
  if (field === "tags") return lead.tags;
  const key = field.slice("customFields.".length);
  const custom = lead.customFields;
  return custom && Object.hasOwn(custom, key) ? custom[key] : undefined;
}

/** A value "exists" when it is there and not empty: not missing, null, "" or an empty list. */
function hasValue(value: unknown): boolean {
  if (value === undefined || value === null || value === "") return false;
  return !Array.isArray(value) || value.length > 0;
}

/** Equality against one value; a list (tags, a list custom field) matches when it contains it. */
function matchesValue(value: unknown, expected: FieldValue): boolean {
  return Array.isArray(value) ? value.includes(expected) : value === expected;
}

function compileField(condition: FieldCondition): (lead: ScorableLead) => boolean {
  const { field } = condition;
  if (condition.exists !== undefined) {
    const wanted = condition.exists;
    return (lead) => hasValue(fieldValueOf(lead, field)) === wanted;
  }
  if (condition.in !== undefined) {
    const options = condition.in;
    return (lead) => {
      const value = fieldValueOf(lead, field);
      return options.some((option) => matchesValue(value, option));
    };
  }
  const expected = condition.equals as FieldValue;
  return (lead) => matchesValue(fieldValueOf(lead, field), expected);
}

function compileEvent(
  condition: EventCondition,
  points: number,
  now: number,
  halfLifeDays: number | undefined,
): CompiledRule {
  const atLeast = condition.atLeast ?? 1;
  const since = now - condition.withinDays * DAY_MS;
  return (_lead, tally) => {
    // The condition holds when the atLeast-th newest event is inside the window; that event is the one
    // that satisfied it, so its age is what decays the points.
    const at = tally.nth(condition.event, atLeast);
    if (at === undefined || at < since) return null;
    if (halfLifeDays === undefined) return points;
    const ageDays = Math.max(0, now - at) / DAY_MS;
    return points * 0.5 ** (ageDays / halfLifeDays);
  };
}

/**
 * Prepares a rule set for scoring at `now`. A lead's score is the sum of the points of the rules whose
 * condition holds; field conditions read the lead, event conditions its events. With `decay`, an event
 * rule's points are multiplied by 0.5^(age / halfLifeDays), the age being that of the event that
 * satisfied the condition (the `atLeast`-th newest in the window); field rules do not decay.
 */
export function compileRuleSet(ruleSet: ScoringRuleSet, now: Date): CompiledRuleSet {
  const nowMs = now.getTime();
  const halfLifeDays = ruleSet.decay?.halfLifeDays;
  const keep = new Map<string, number>();
  let longestWindowDays = 0;
  const compiled: { name: string; evaluate: CompiledRule }[] = ruleSet.rules.map((rule) => {
    if (isEventCondition(rule.when)) {
      const { event, withinDays } = rule.when;
      keep.set(event, Math.max(keep.get(event) ?? 0, rule.when.atLeast ?? 1));
      longestWindowDays = Math.max(longestWindowDays, withinDays);
      return { name: rule.name, evaluate: compileEvent(rule.when, rule.points, nowMs, halfLifeDays) };
    }
    const test = compileField(rule.when);
    const { points } = rule;
    return { name: rule.name, evaluate: (lead) => (test(lead) ? points : null) };
  });
  return {
    eventTypes: [...keep.keys()],
    oldestEventAt: keep.size > 0 ? new Date(nowMs - longestWindowDays * DAY_MS) : null,
    newTally: () => new EventTally(keep),
    score(lead, tally) {
      const breakdown: Record<string, number> = {};
      let sum = 0;
      for (const rule of compiled) {
        const points = rule.evaluate(lead, tally);
        if (points === null) continue;
        const rounded = roundPoints(points);
        breakdown[rule.name] = rounded;
        sum += rounded;
      }
      return { score: roundPoints(sum), breakdown };
    },
  };
}

/** Scores one lead from its events (any order; types no rule reads are ignored). Pure. */
export function scoreLead(
  ruleSet: ScoringRuleSet,
  lead: ScorableLead,
  events: readonly { type: string; at: Date }[],
  now: Date,
): ScoreResult {
  const compiled = compileRuleSet(ruleSet, now);
  const tally = compiled.newTally();
  for (const event of events) tally.add(event.type, event.at);
  return compiled.score(lead, tally);
}

/** Whether a stored score and breakdown already equal a computed result (then nothing is written). */
export function sameScore(
  stored: { score?: number; scoreBreakdown?: Record<string, number> },
  result: ScoreResult,
): boolean {
  if ((stored.score ?? 0) !== result.score) return false;
  const before = stored.scoreBreakdown ?? {};
  const keys = Object.keys(result.breakdown);
  if (Object.keys(before).length !== keys.length) return false;
  return keys.every((key) => before[key] === result.breakdown[key]);
}

/** The `lead_score_reached` thresholds a change crosses upwards: previous < t ≤ score. */
export function crossedThresholds(previous: number, score: number, thresholds: readonly number[]): number[] {
  return thresholds.filter((threshold) => previous < threshold && score >= threshold);
}
