import { isDuplicateKeyError } from "@ecodrix/platform";
import type { QueueProducer } from "@ecodrix/queue";
import type { Db, Filter, ObjectId } from "mongodb";
import { decodeCursor, pageOf } from "../shared/cursor.js";
import type { Trigger } from "./automation-triggers.js";
import { AUTOMATION_RUNS_COLLECTION, type AutomationRunDocument, type RunStep } from "./automation-types.js";

export interface AutomationRunRepository {
  /** The run of this automation for this event: created once, found again by a retried event job. */
  open(run: AutomationRunDocument): Promise<AutomationRunDocument>;
  findById(id: ObjectId): Promise<AutomationRunDocument | null>;
  setPlan(
    id: ObjectId,
    plan: Pick<AutomationRunDocument, "status" | "reason" | "steps">,
    now: Date,
  ): Promise<void>;
  /** Replaces one step unless it has already been scheduled for `version` or later (a newer move won). */
  replaceStepIfOlder(id: ObjectId, step: RunStep, now: Date): Promise<boolean>;
  updateStep(id: ObjectId, step: number, fields: Partial<RunStep>, now: Date): Promise<void>;
  /** Records an integration's outcome unless the step already holds a later one (statuses arrive in any order). */
  recordOutcome(
    id: ObjectId,
    step: number,
    outcome: { outcome: string; rank: number; at: Date; error?: string },
    now: Date,
  ): Promise<boolean>;
  listByAutomation(
    automationId: ObjectId,
    query: { limit: number; cursor?: string },
  ): Promise<{ items: AutomationRunDocument[]; nextCursor: string | null }>;
  /** Runs started by events of this appointment, optionally only / all but one trigger. */
  findByAppointment(
    appointmentId: ObjectId,
    triggers?: { only?: Trigger; except?: Trigger },
  ): Promise<AutomationRunDocument[]>;
  /**
   * Cancels the pending jobs of the scheduled steps of every run of a lead or an automation (optionally
   * of one job type), reading the runs with a cursor and cancelling in batches: bounded memory however
   * many runs there are. Returns how many jobs were cancelled.
   */
  cancelScheduledJobs(
    of: { leadId: ObjectId } | { automationId: ObjectId },
    queue: Pick<QueueProducer, "cancelPending">,
    jobType?: string,
  ): Promise<number>;
}

const CANCEL_BATCH = 1_000;

/** The job ids of steps that were scheduled (their jobs may still be pending). */
export function scheduledJobIds(runs: readonly AutomationRunDocument[], jobType?: string): ObjectId[] {
  return runs.flatMap((run) =>
    run.steps
      .filter((step) => step.status === "scheduled" && step.jobId && (!jobType || step.jobType === jobType))
      .map((step) => step.jobId as ObjectId),
  );
}

export function createAutomationRunRepository(db: Db): AutomationRunRepository {
  const runs = db.collection<AutomationRunDocument>(AUTOMATION_RUNS_COLLECTION);
  return {
    async open(run) {
      const key = { eventId: run.eventId, automationId: run.automationId };
      const existing = await runs.findOne(key);
      if (existing) return existing;
      try {
        await runs.insertOne(run);
        return run;
      } catch (error) {
        // Two attempts of one event job racing: the unique { eventId, automationId } index decides.
        if (!isDuplicateKeyError(error)) throw error;
        const winner = await runs.findOne(key);
        if (!winner) throw error;
        return winner;
      }
    },
    findById(id) {
      return runs.findOne({ _id: id });
    },
    async setPlan(id, plan, now) {
      await runs.updateOne({ _id: id }, { $set: { ...plan, updatedAt: now } });
    },
    async replaceStepIfOlder(id, step, now) {
      const result = await runs.updateOne(
        { _id: id, [`steps.${step.step}.version`]: { $lt: step.version } } as Filter<AutomationRunDocument>,
        { $set: { [`steps.${step.step}`]: step, updatedAt: now } },
      );
      return result.modifiedCount === 1;
    },
    async updateStep(id, step, fields, now) {
      const set = Object.fromEntries(
        Object.entries(fields).map(([key, value]) => [`steps.${step}.${key}`, value]),
      );
      await runs.updateOne({ _id: id }, { $set: { ...set, updatedAt: now } });
    },
    async recordOutcome(id, step, outcome, now) {
      const result = await runs.updateOne(
        { _id: id, [`steps.${step}.outcomeRank`]: { $lt: outcome.rank } } as Filter<AutomationRunDocument>,
        {
          $set: {
            [`steps.${step}.outcome`]: outcome.outcome,
            [`steps.${step}.outcomeRank`]: outcome.rank,
            [`steps.${step}.outcomeAt`]: outcome.at,
            ...(outcome.error ? { [`steps.${step}.lastError`]: outcome.error } : {}),
            updatedAt: now,
          },
        },
      );
      return result.modifiedCount === 1;
    },
    async listByAutomation(automationId, query) {
      const filter: Filter<AutomationRunDocument> = { automationId };
      if (query.cursor) filter._id = { $lt: decodeCursor(query.cursor).id };
      const items = await runs
        .find(filter)
        .sort({ _id: -1 })
        .limit(query.limit + 1)
        .toArray();
      return pageOf(items, query.limit, (run) => ({ id: run._id }));
    },
    async findByAppointment(appointmentId, triggers = {}) {
      const all = await runs.find({ appointmentId }).toArray();
      return all.filter(
        (run) =>
          (triggers.only === undefined || run.trigger === triggers.only) &&
          (triggers.except === undefined || run.trigger !== triggers.except),
      );
    },
    async cancelScheduledJobs(of, queue, jobType) {
      let cancelled = 0;
      let batch: ObjectId[] = [];
      const flush = async () => {
        if (batch.length > 0) cancelled += await queue.cancelPending({ ids: batch });
        batch = [];
      };
      const cursor = runs.find(of, { projection: { steps: 1 } });
      for await (const run of cursor) {
        batch.push(...scheduledJobIds([run as AutomationRunDocument], jobType));
        if (batch.length >= CANCEL_BATCH) await flush();
      }
      await flush();
      return cancelled;
    },
  };
}
