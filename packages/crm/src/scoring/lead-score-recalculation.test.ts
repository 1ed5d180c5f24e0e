import { createQueue, type Queue } from "@ecodrix/queue";
import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import { ObjectId } from "mongodb";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  addScoreThresholdAutomation,
  daysAgo,
  FIXED_NOW,
  insertLeads,
  makeLeads,
  storeRules,
} from "../../test/scoring-fixtures.js";
import { recalculateLeadScore } from "./lead-score-recalculation.js";
import { LEAD_EVENTS_COLLECTION, LEADS_COLLECTION } from "./score-writes.js";
import { scoringCapability } from "./scoring-capability.js";
import type { LeadScoreFields } from "./scoring-types.js";

describe("one lead's recalculation (real database)", () => {
  let mongo: TestMongo;
  let queue: Queue;

  beforeAll(async () => {
    mongo = await createTestMongo("leadscore");
    queue = createQueue({ db: mongo.db });
    await queue.ensureIndexes();
    for (const spec of scoringCapability.tenantIndexes) {
      await mongo.db.collection(spec.collection).createIndexes(spec.indexes);
    }
  });
  afterAll(() => mongo.close());
  beforeEach(async () => {
    for (const name of [LEADS_COLLECTION, LEAD_EVENTS_COLLECTION, "scoring_rules", "automations", "jobs"]) {
      await mongo.db.collection(name).deleteMany({});
    }
  });

  const recalc = (leadId: ObjectId) =>
    recalculateLeadScore({ db: mongo.db, clientCode: "clinic", queue, now: FIXED_NOW }, leadId);
  const leads = () => mongo.db.collection<LeadScoreFields>(LEADS_COLLECTION);
  const timeline = (leadId: ObjectId) =>
    mongo.db
      .collection(LEAD_EVENTS_COLLECTION)
      .find({ leadId, type: "score_changed" }, { sort: { _id: 1 } })
      .toArray();

  it("scores the lead from its fields and events, records the change on its timeline, and fires a crossed threshold once", async () => {
    const [lead] = makeLeads(1, 1); // facebook, contacted, no tags, not insured: no field rule applies
    await insertLeads(mongo.db, [{ ...lead!, events: [] }]);
    await storeRules(mongo.db);
    await addScoreThresholdAutomation(mongo.db, 25);
    expect(await recalc(lead!._id)).toEqual({ leadId: lead!._id.toHexString(), score: 0, previousScore: 0 });
    expect(await timeline(lead!._id)).toEqual([]);

    // The lead completes an appointment yesterday: +30 decayed by one day on a 30-day half-life.
    await mongo.db
      .collection(LEAD_EVENTS_COLLECTION)
      .insertOne({ leadId: lead!._id, type: "appointment_completed", at: daysAgo(1), data: {} });
    const visited = Math.round(30 * 0.5 ** (1 / 30) * 100) / 100;
    expect(await recalc(lead!._id)).toEqual({
      leadId: lead!._id.toHexString(),
      score: visited,
      previousScore: 0,
    });
    expect(await leads().findOne({ _id: lead!._id })).toMatchObject({
      score: visited,
      scoreBreakdown: { visited },
      scoreUpdatedAt: expect.any(Date),
    });
    const [changed] = await timeline(lead!._id);
    expect(changed).toMatchObject({
      data: { score: visited, previousScore: 0, thresholds: [25] },
      at: FIXED_NOW,
    });
    const fired = await queue.jobs.find({ type: "automation_event" }).toArray();
    expect(fired).toHaveLength(1);
    expect(fired[0]?.payload).toEqual({
      eventId: String(changed?._id),
      type: "lead_score_reached",
      leadId: lead!._id.toHexString(),
      data: { score: visited, previousScore: 0 },
    });

    // A no-show drops it below the threshold: going down fires nothing.
    await mongo.db
      .collection(LEAD_EVENTS_COLLECTION)
      .insertOne({ leadId: lead!._id, type: "appointment_no_show", at: daysAgo(2), data: {} });
    const after = await recalc(lead!._id);
    expect(after?.previousScore).toBe(visited);
    expect(after?.score).toBeLessThan(25);
    expect(await timeline(lead!._id)).toHaveLength(2);
    expect(await queue.jobs.countDocuments({ type: "automation_event" })).toBe(1);
    // Crossing again later (the no-show leaves the window) is a new crossing, and fires again.
    await mongo.db.collection(LEAD_EVENTS_COLLECTION).deleteMany({ type: "appointment_no_show" });
    await recalc(lead!._id);
    expect(await queue.jobs.countDocuments({ type: "automation_event" })).toBe(2);
  });

  it("an unchanged score writes nothing; a lead without rules keeps its score; an unknown lead is null", async () => {
    const [lead] = makeLeads(1);
    await insertLeads(mongo.db, [lead!]);
    expect(await recalc(lead!._id)).toEqual({ leadId: lead!._id.toHexString(), score: 0, previousScore: 0 });
    expect((await leads().findOne({ _id: lead!._id }))?.scoreUpdatedAt).toBeUndefined();
    await storeRules(mongo.db);
    const first = await recalc(lead!._id);
    const written = (await leads().findOne({ _id: lead!._id }))?.scoreUpdatedAt;
    expect(await recalc(lead!._id)).toEqual({ ...first, previousScore: first?.score });
    expect((await leads().findOne({ _id: lead!._id }))?.scoreUpdatedAt).toEqual(written);
    expect(await recalc(new ObjectId())).toBeNull();
  });
});
