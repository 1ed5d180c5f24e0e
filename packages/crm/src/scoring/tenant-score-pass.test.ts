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
  type SeededLead,
  sampleRules,
  storeRules,
} from "../../test/scoring-fixtures.js";
import { scoreLead } from "./lead-scorer.js";
import {
  LEAD_EVENTS_COLLECTION,
  LEADS_COLLECTION,
  nextScoreTime,
  scoreFence,
  scoreUpdate,
} from "./score-writes.js";
import { scoringCapability } from "./scoring-capability.js";
import type { LeadScoreFields } from "./scoring-types.js";
import { runTenantScorePass, type TenantCheckpoint } from "./tenant-score-pass.js";

describe("tenant score pass (real database)", () => {
  let mongo: TestMongo;
  let queue: Queue;

  beforeAll(async () => {
    mongo = await createTestMongo("scorepass");
    queue = createQueue({ db: mongo.db });
    await queue.ensureIndexes();
  });
  afterAll(() => mongo.close());
  beforeEach(async () => {
    for (const name of [LEADS_COLLECTION, LEAD_EVENTS_COLLECTION, "scoring_rules", "automations", "jobs"]) {
      await mongo.db.collection(name).deleteMany({});
    }
    for (const spec of scoringCapability.tenantIndexes) {
      await mongo.db.collection(spec.collection).createIndexes(spec.indexes);
    }
  });

  const leads = () => mongo.db.collection<LeadScoreFields>(LEADS_COLLECTION);
  const pass = (
    options: {
      batchSize?: number;
      resumeFrom?: TenantCheckpoint;
      onBatch?: (c: TenantCheckpoint) => Promise<boolean>;
    } = {},
  ) => {
    const checkpoints: TenantCheckpoint[] = [];
    return {
      checkpoints,
      run: runTenantScorePass({
        db: mongo.db,
        clientCode: "clinic",
        queue,
        now: FIXED_NOW,
        batchSize: options.batchSize ?? 7,
        ...(options.resumeFrom ? { resumeFrom: options.resumeFrom } : {}),
        onBatch: async (checkpoint) => {
          checkpoints.push(checkpoint);
          return options.onBatch ? options.onBatch(checkpoint) : true;
        },
      }),
    };
  };
  const expected = (lead: SeededLead) => scoreLead(sampleRules, lead, lead.events, FIXED_NOW);

  it("scores every lead as the pure scorer does, in batches with a checkpoint each, and skips unchanged leads next time", async () => {
    const seeded = makeLeads(50);
    await insertLeads(mongo.db, seeded);
    await storeRules(mongo.db);
    const first = pass();
    const summary = await first.run;
    expect(summary).toMatchObject({
      status: "done",
      processed: 50,
      total: 50,
      rulesVersion: 1,
      conflicts: 0,
    });
    expect(first.checkpoints.map((c) => c.processed)).toEqual([7, 14, 21, 28, 35, 42, 49, 50]);
    const sorted = [...seeded].sort((a, b) => a._id.toHexString().localeCompare(b._id.toHexString()));
    expect(first.checkpoints.at(-1)?.afterId).toBe(sorted.at(-1)?._id.toHexString());

    const stored = new Map((await leads().find({}).toArray()).map((lead) => [lead._id.toHexString(), lead]));
    let nonZero = 0;
    for (const lead of seeded) {
      const want = expected(lead);
      const got = stored.get(lead._id.toHexString());
      expect(got?.score, lead._id.toHexString()).toBe(want.score);
      expect(got?.scoreBreakdown ?? {}).toEqual(want.breakdown);
      if (want.score !== 0) {
        nonZero++;
        expect(got?.scoreUpdatedAt).toBeInstanceOf(Date);
      }
    }
    expect(summary.changed).toBe(nonZero);
    expect(nonZero).toBeGreaterThan(40);
    // Nothing changed since: nothing is written.
    const again = await pass().run;
    expect(again).toMatchObject({ processed: 50, changed: 0 });
    // Bulk changes leave no timeline events (no threshold was crossed).
    expect(await mongo.db.collection(LEAD_EVENTS_COLLECTION).countDocuments({ type: "score_changed" })).toBe(
      0,
    );
  });

  it("resumes after a checkpoint: leads before it are not touched again", async () => {
    const seeded = makeLeads(30);
    await insertLeads(mongo.db, seeded);
    await storeRules(mongo.db);
    // The first run stops (as a lost lease would) after its second batch.
    const stopped = pass({ batchSize: 10, onBatch: async (c) => c.processed < 20 });
    await expect(stopped.run).rejects.toThrow(/lost its lease/);
    const checkpoint = stopped.checkpoints.at(-1)!;
    expect(checkpoint.processed).toBe(20);
    const before = new Map(
      (await leads().find({}).toArray()).map((lead) => [
        lead._id.toHexString(),
        lead.scoreUpdatedAt?.getTime(),
      ]),
    );
    const resumed = await pass({ batchSize: 10, resumeFrom: checkpoint }).run;
    expect(resumed).toMatchObject({ status: "done", processed: 30, total: 30 });
    for (const lead of await leads().find({}).toArray()) {
      const id = lead._id.toHexString();
      if (id <= (checkpoint.afterId as string)) expect(lead.scoreUpdatedAt?.getTime()).toBe(before.get(id));
      expect(lead.score).toBe(expected(seeded.find((s) => s._id.equals(lead._id))!).score);
    }
  });

  it("crossing a lead_score_reached threshold upwards fires one automation_event and writes score_changed, once", async () => {
    const [hot, cold] = makeLeads(2);
    await insertLeads(mongo.db, [
      { ...hot!, source: "google_ads", tags: ["vip"], stage: "qualified", events: [] },
      { ...cold!, source: "walk_in", tags: [], stage: "new", customFields: {}, events: [] },
    ]);
    await storeRules(mongo.db);
    await addScoreThresholdAutomation(mongo.db, 40);
    await addScoreThresholdAutomation(mongo.db, 1_000, false);
    const summary = await pass().run;
    expect(summary).toMatchObject({ changed: 1, crossed: 1 });
    const jobs = await queue.jobs.find({ type: "automation_event" }).toArray();
    expect(jobs).toHaveLength(1);
    const job = jobs[0]!;
    expect(job.clientCode).toBe("clinic");
    expect(job.payload).toEqual({
      eventId: String(job._id),
      type: "lead_score_reached",
      leadId: hot!._id.toHexString(),
      data: { score: 50, previousScore: 0 },
    });
    expect(job.dedupeKey).toBe(String(job._id));
    const events = await mongo.db
      .collection(LEAD_EVENTS_COLLECTION)
      .find({ type: "score_changed" })
      .toArray();
    expect(events).toEqual([
      {
        _id: job._id,
        leadId: hot!._id,
        type: "score_changed",
        at: FIXED_NOW,
        data: { score: 50, previousScore: 0, thresholds: [40] },
      },
    ]);
    expect((await leads().findOne({ _id: hot!._id }))?.pendingScoreEvent).toBeUndefined();
    // Staying above the threshold fires nothing more.
    await pass().run;
    expect(await queue.jobs.countDocuments({ type: "automation_event" })).toBe(1);
  });

  it("an undelivered score change (a crash between the two writes) is delivered by the next pass, exactly once", async () => {
    const [lead] = makeLeads(1);
    await insertLeads(mongo.db, [{ ...lead!, events: [] }]);
    await storeRules(mongo.db, {
      rules: [{ name: "any", when: { field: "stage", exists: true }, points: 60 }],
    });
    await addScoreThresholdAutomation(mongo.db, 50);
    // What a crashed run leaves: the score and its outbox entry written, nothing delivered.
    const eventId = new ObjectId();
    const writtenAt = new Date(FIXED_NOW.getTime() - 1000);
    await leads().updateOne(
      { _id: lead!._id },
      {
        $set: {
          score: 60,
          scoreBreakdown: { any: 60 },
          scoreUpdatedAt: writtenAt,
          pendingScoreEvent: { eventId, at: writtenAt, score: 60, previousScore: 0, thresholds: [50] },
        },
      },
    );
    await pass().run;
    await pass().run;
    expect(await queue.jobs.find({ type: "automation_event" }).toArray()).toMatchObject([
      { _id: eventId, payload: { eventId: eventId.toHexString(), data: { score: 60, previousScore: 0 } } },
    ]);
    expect(await mongo.db.collection(LEAD_EVENTS_COLLECTION).countDocuments({ _id: eventId })).toBe(1);
    expect((await leads().findOne({ _id: lead!._id }))?.pendingScoreEvent).toBeUndefined();
  });

  it("events of deleted leads and of other types are ignored; a tenant without rules is skipped", async () => {
    const skipped = await pass().run;
    expect(skipped).toMatchObject({ status: "skipped", reason: "no scoring rules", processed: 0 });
    const seeded = makeLeads(12);
    await insertLeads(mongo.db, seeded);
    await storeRules(mongo.db);
    const gone = seeded.filter((_, i) => i % 4 === 1);
    await leads().deleteMany({ _id: { $in: gone.map((lead) => lead._id) } });
    await mongo.db.collection(LEAD_EVENTS_COLLECTION).insertMany([
      { leadId: "not-an-object-id", type: "message_read", at: daysAgo(1) },
      { leadId: seeded[0]!._id, type: "custom_event", at: daysAgo(1) },
    ]);
    const summary = await pass({ batchSize: 5 }).run;
    expect(summary.processed).toBe(12 - gone.length);
    for (const lead of seeded.filter((s) => !gone.includes(s))) {
      expect((await leads().findOne({ _id: lead._id }))?.score).toBe(expected(lead).score);
    }
  });

  it("the score write is a compare-and-set on scoreUpdatedAt: a stale view never overwrites a newer score", async () => {
    const [lead] = makeLeads(1);
    await insertLeads(mongo.db, [lead!]);
    const stale = (await leads().findOne({ _id: lead!._id }))!;
    expect(stale.scoreUpdatedAt).toBeUndefined();
    const first = nextScoreTime(stale);
    const won = await leads().updateOne(
      scoreFence(stale),
      scoreUpdate({ score: 5, breakdown: { a: 5 } }, first),
    );
    expect(won.matchedCount).toBe(1);
    // A second writer still holding the old view loses.
    const lost = await leads().updateOne(
      scoreFence(stale),
      scoreUpdate({ score: 7, breakdown: { a: 7 } }, new Date()),
    );
    expect(lost.matchedCount).toBe(0);
    expect(await leads().findOne({ _id: lead!._id })).toMatchObject({ score: 5, scoreUpdatedAt: first });
    // The fence always moves forward, even within one millisecond.
    expect(nextScoreTime({ scoreUpdatedAt: first }, first).getTime()).toBe(first.getTime() + 1);
  });
});
