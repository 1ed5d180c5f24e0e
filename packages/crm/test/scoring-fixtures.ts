// Test data for the scoring tests: leads and events written the way the CRM writes them.
import { type Db, ObjectId } from "mongodb";
import { DAY_MS } from "../src/scoring/lead-scorer.js";
import { LEAD_EVENTS_COLLECTION, LEADS_COLLECTION } from "../src/scoring/score-writes.js";
import { saveScoringRules } from "../src/scoring/scoring-rules-repository.js";
import type { ScorableLead, ScoringRuleSet } from "../src/scoring/scoring-types.js";

export const FIXED_NOW = new Date("2026-03-01T12:00:00Z");
export const daysAgo = (days: number, now = FIXED_NOW) => new Date(now.getTime() - days * DAY_MS);

export const sampleRules: ScoringRuleSet = {
  rules: [
    { name: "ads", when: { field: "source", equals: "google_ads" }, points: 10 },
    { name: "qualified", when: { field: "stage", in: ["qualified", "booked"] }, points: 15 },
    { name: "vip", when: { field: "tags", equals: "vip" }, points: 20 },
    { name: "insured", when: { field: "customFields.insured", equals: true }, points: 5 },
    { name: "reader", when: { event: "message_read", withinDays: 14 }, points: 8 },
    { name: "engaged", when: { event: "message_read", withinDays: 30, atLeast: 3 }, points: 12 },
    { name: "visited", when: { event: "appointment_completed", withinDays: 180 }, points: 30 },
    { name: "no-show", when: { event: "appointment_no_show", withinDays: 60 }, points: -25 },
  ],
  decay: { halfLifeDays: 30 },
};

export interface SeededLead extends ScorableLead {
  _id: ObjectId;
  events: { type: string; at: Date }[];
}

const SOURCES = ["google_ads", "facebook", "walk_in", "referral"];
const STAGES = ["new", "contacted", "qualified", "booked", "won", "lost"];
const EVENT_TYPES = ["message_sent", "message_read", "appointment_completed", "appointment_no_show"];

/** `count` leads with a deterministic mix of fields and 0–5 events each (seeded by index). */
export function makeLeads(count: number, offset = 0): SeededLead[] {
  return Array.from({ length: count }, (_, n) => {
    const i = n + offset;
    const events = Array.from({ length: i % 6 }, (_, k) => ({
      type: EVENT_TYPES[(i + k) % EVENT_TYPES.length] as string,
      at: daysAgo(((i * 7 + k * 13) % 90) + 0.5),
    }));
    return {
      _id: new ObjectId(),
      source: SOURCES[i % SOURCES.length] as string,
      stage: STAGES[i % STAGES.length] as string,
      tags: i % 3 === 0 ? ["vip"] : [],
      customFields: { insured: i % 2 === 0 },
      events,
    };
  });
}

export async function insertLeads(db: Db, leads: SeededLead[]): Promise<void> {
  if (leads.length === 0) return;
  await db.collection(LEADS_COLLECTION).insertMany(
    leads.map(({ events: _events, ...lead }) => ({
      ...lead,
      name: "Lead",
      score: 0,
      phone: "+910000000000",
    })),
  );
  const events = leads.flatMap((lead) =>
    lead.events.map((event) => ({ leadId: lead._id, type: event.type, at: event.at, data: {} })),
  );
  if (events.length > 0) await db.collection(LEAD_EVENTS_COLLECTION).insertMany(events);
}

export async function storeRules(db: Db, rules: ScoringRuleSet = sampleRules): Promise<void> {
  await saveScoringRules(db, rules, FIXED_NOW);
}

export async function addScoreThresholdAutomation(db: Db, threshold: number, enabled = true): Promise<void> {
  await db.collection("automations").insertOne({
    name: `score ${threshold}`,
    trigger: "lead_score_reached",
    triggerConfig: { threshold },
    enabled,
    actions: [],
  });
}
