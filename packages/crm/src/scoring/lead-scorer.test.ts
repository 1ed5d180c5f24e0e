import { describe, expect, it } from "vitest";
import {
  compileRuleSet,
  crossedThresholds,
  DAY_MS,
  EventTally,
  sameScore,
  scoreLead,
} from "./lead-scorer.js";
import type { ScoringRuleSet } from "./scoring-types.js";

const now = new Date("2026-03-01T12:00:00Z");
const daysAgo = (days: number) => new Date(now.getTime() - days * DAY_MS);
const lead = {
  source: "google_ads",
  stage: "qualified",
  tags: ["vip", "dental"],
  customFields: { city: "Pune", visits: 3, insured: true, empty: "", list: ["a", "b"] },
};
const only = (when: ScoringRuleSet["rules"][number]["when"], points = 10): ScoringRuleSet => ({
  rules: [{ name: "r", when, points }],
});

describe("lead scorer (pure)", () => {
  it("field conditions on source and stage: equals, in, exists", () => {
    expect(scoreLead(only({ field: "source", equals: "google_ads" }), lead, [], now).score).toBe(10);
    expect(scoreLead(only({ field: "source", equals: "facebook" }), lead, [], now).score).toBe(0);
    expect(scoreLead(only({ field: "stage", in: ["new", "qualified"] }), lead, [], now).score).toBe(10);
    expect(scoreLead(only({ field: "stage", in: ["won", "lost"] }), lead, [], now).score).toBe(0);
    expect(scoreLead(only({ field: "source", exists: true }), lead, [], now).score).toBe(10);
    expect(scoreLead(only({ field: "source", exists: true }), { stage: "new" }, [], now).score).toBe(0);
    expect(scoreLead(only({ field: "source", exists: false }), { source: null }, [], now).score).toBe(10);
  });

  it("tags: equals means the lead has the tag, in means any of them, exists means at least one tag", () => {
    expect(scoreLead(only({ field: "tags", equals: "vip" }), lead, [], now).score).toBe(10);
    expect(scoreLead(only({ field: "tags", equals: "gold" }), lead, [], now).score).toBe(0);
    expect(scoreLead(only({ field: "tags", in: ["gold", "dental"] }), lead, [], now).score).toBe(10);
    expect(scoreLead(only({ field: "tags", in: ["gold", "silver"] }), lead, [], now).score).toBe(0);
    expect(scoreLead(only({ field: "tags", exists: true }), lead, [], now).score).toBe(10);
    expect(scoreLead(only({ field: "tags", exists: true }), { tags: [] }, [], now).score).toBe(0);
    expect(scoreLead(only({ field: "tags", exists: false }), { tags: [] }, [], now).score).toBe(10);
  });

  it("customFields.<key>: typed equality, in, exists (empty text does not exist), lists contain", () => {
    expect(scoreLead(only({ field: "customFields.city", equals: "Pune" }), lead, [], now).score).toBe(10);
    expect(scoreLead(only({ field: "customFields.visits", equals: 3 }), lead, [], now).score).toBe(10);
    expect(scoreLead(only({ field: "customFields.visits", equals: "3" }), lead, [], now).score).toBe(0);
    expect(scoreLead(only({ field: "customFields.insured", equals: true }), lead, [], now).score).toBe(10);
    expect(scoreLead(only({ field: "customFields.visits", in: [1, 2, 3] }), lead, [], now).score).toBe(10);
    expect(scoreLead(only({ field: "customFields.list", equals: "b" }), lead, [], now).score).toBe(10);
    expect(scoreLead(only({ field: "customFields.empty", exists: true }), lead, [], now).score).toBe(0);
    expect(scoreLead(only({ field: "customFields.missing", exists: false }), lead, [], now).score).toBe(10);
    expect(scoreLead(only({ field: "customFields.city", exists: true }), {}, [], now).score).toBe(0);
    // Inherited properties are not custom fields.
    expect(scoreLead(only({ field: "customFields.toString", exists: true }), lead, [], now).score).toBe(0);
  });

  it("event conditions: within the window, atLeast counts, other types and older events do not count", () => {
    const events = [
      { type: "message_read", at: daysAgo(1) },
      { type: "message_read", at: daysAgo(5) },
      { type: "message_read", at: daysAgo(40) },
      { type: "message_sent", at: daysAgo(0.5) },
    ];
    expect(scoreLead(only({ event: "message_read", withinDays: 7 }), lead, events, now).score).toBe(10);
    expect(
      scoreLead(only({ event: "message_read", withinDays: 7, atLeast: 2 }), lead, events, now).score,
    ).toBe(10);
    expect(
      scoreLead(only({ event: "message_read", withinDays: 7, atLeast: 3 }), lead, events, now).score,
    ).toBe(0);
    expect(
      scoreLead(only({ event: "message_read", withinDays: 60, atLeast: 3 }), lead, events, now).score,
    ).toBe(10);
    expect(
      scoreLead(only({ event: "appointment_completed", withinDays: 365 }), lead, events, now).score,
    ).toBe(0);
    expect(scoreLead(only({ event: "message_read", withinDays: 7 }), lead, [], now).score).toBe(0);
  });

  it("negative points subtract, and the breakdown lists exactly the rules that applied", () => {
    const rules: ScoringRuleSet = {
      rules: [
        { name: "vip", when: { field: "tags", equals: "vip" }, points: 25 },
        { name: "no-show", when: { event: "appointment_no_show", withinDays: 30 }, points: -40 },
        { name: "lost", when: { field: "stage", equals: "lost" }, points: -100 },
        { name: "read", when: { event: "message_read", withinDays: 7 }, points: 5.5 },
      ],
    };
    const result = scoreLead(
      rules,
      lead,
      [
        { type: "appointment_no_show", at: daysAgo(3) },
        { type: "message_read", at: daysAgo(1) },
      ],
      now,
    );
    expect(result).toEqual({ score: -9.5, breakdown: { vip: 25, "no-show": -40, read: 5.5 } });
  });

  it("decay halves an event rule's points per half-life of the satisfying event's age; field rules do not decay", () => {
    const rules: ScoringRuleSet = {
      rules: [
        { name: "read", when: { event: "message_read", withinDays: 90 }, points: 40 },
        { name: "visited", when: { event: "appointment_completed", withinDays: 90, atLeast: 2 }, points: 20 },
        { name: "no-show", when: { event: "appointment_no_show", withinDays: 90 }, points: -16 },
        { name: "vip", when: { field: "tags", equals: "vip" }, points: 10 },
      ],
      decay: { halfLifeDays: 10 },
    };
    const result = scoreLead(
      rules,
      lead,
      [
        { type: "message_read", at: daysAgo(20) }, // newest read: 2 half-lives → 40 / 4
        { type: "message_read", at: daysAgo(30) },
        { type: "appointment_completed", at: daysAgo(1) },
        { type: "appointment_completed", at: daysAgo(10) }, // the 2nd newest satisfies atLeast 2 → 20 / 2
        { type: "appointment_no_show", at: daysAgo(30) }, // 3 half-lives → -16 / 8
      ],
      now,
    );
    expect(result.breakdown).toEqual({ read: 10, visited: 10, "no-show": -2, vip: 10 });
    expect(result.score).toBe(28);
    // Fractions are rounded to 2 decimals, the score is the sum of what the breakdown shows.
    const fraction = scoreLead(
      { rules: [rules.rules[0]!], decay: { halfLifeDays: 7 } },
      lead,
      [{ type: "message_read", at: daysAgo(3) }],
      now,
    );
    expect(fraction.score).toBe(Math.round(40 * 0.5 ** (3 / 7) * 100) / 100);
    // An event in the future (clock skew) counts as brand new, never more than the full points.
    const future = scoreLead(rules, {}, [{ type: "message_read", at: daysAgo(-1) }], now);
    expect(future.breakdown.read).toBe(40);
  });

  it("the same events in any order give the same score; the tally keeps only what the rules need", () => {
    const rules: ScoringRuleSet = {
      rules: [{ name: "engaged", when: { event: "message_read", withinDays: 30, atLeast: 3 }, points: 9 }],
      decay: { halfLifeDays: 15 },
    };
    const events = [1, 29, 4, 12, 2, 40, 3].map((days) => ({ type: "message_read", at: daysAgo(days) }));
    const forward = scoreLead(rules, {}, events, now);
    expect(scoreLead(rules, {}, [...events].reverse(), now)).toEqual(forward);
    // The 3rd newest is 3 days old.
    expect(forward.breakdown.engaged).toBe(Math.round(9 * 0.5 ** (3 / 15) * 100) / 100);

    const tally = new EventTally(new Map([["message_read", 2]]));
    for (const event of events) tally.add(event.type, event.at);
    tally.add("message_sent", now);
    expect(tally.nth("message_read", 1)).toBe(daysAgo(1).getTime());
    expect(tally.nth("message_read", 2)).toBe(daysAgo(2).getTime());
    expect(tally.nth("message_read", 3)).toBeUndefined();
    expect(tally.nth("message_sent", 1)).toBeUndefined();
    tally.reset();
    expect(tally.nth("message_read", 1)).toBeUndefined();
  });

  it("compiling reports the event types and the oldest instant the rules look at", () => {
    const compiled = compileRuleSet(
      {
        rules: [
          { name: "a", when: { event: "message_read", withinDays: 7 }, points: 1 },
          { name: "b", when: { event: "appointment_completed", withinDays: 180 }, points: 1 },
          { name: "c", when: { field: "stage", equals: "new" }, points: 1 },
        ],
      },
      now,
    );
    expect(compiled.eventTypes).toEqual(["message_read", "appointment_completed"]);
    expect(compiled.oldestEventAt).toEqual(daysAgo(180));
    expect(compileRuleSet({ rules: [] }, now)).toMatchObject({ eventTypes: [], oldestEventAt: null });
    expect(scoreLead({ rules: [] }, lead, [], now)).toEqual({ score: 0, breakdown: {} });
  });

  it("sameScore compares score and breakdown; thresholds are crossed only upwards from below", () => {
    expect(sameScore({ score: 5, scoreBreakdown: { a: 5 } }, { score: 5, breakdown: { a: 5 } })).toBe(true);
    expect(sameScore({}, { score: 0, breakdown: {} })).toBe(true);
    expect(sameScore({ score: 5, scoreBreakdown: { a: 5 } }, { score: 5, breakdown: { b: 5 } })).toBe(false);
    expect(sameScore({ score: 5 }, { score: 6, breakdown: { a: 6 } })).toBe(false);
    expect(crossedThresholds(40, 55, [50, 55, 60, 30])).toEqual([50, 55]);
    expect(crossedThresholds(50, 70, [50])).toEqual([]);
    expect(crossedThresholds(70, 40, [50])).toEqual([]);
  });
});
