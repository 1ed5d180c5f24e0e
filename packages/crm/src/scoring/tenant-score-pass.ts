import type { Logger } from "@ecodrix/platform";
import { type AnyBulkWriteOperation, type FindCursor, ObjectId } from "mongodb";
import {
  type CompiledRuleSet,
  compileRuleSet,
  crossedThresholds,
  type EventTally,
  sameScore,
} from "./lead-scorer.js";
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

export const DEFAULT_BATCH_SIZE = 1_000;
/** Events are read ahead in larger batches: a lead has several. */
const EVENTS_BATCH_SIZE = 5_000;

/** How far a tenant's pass got: written to the job after every batch, read back by a resumed attempt. */
export interface TenantCheckpoint {
  /** The last lead (by `_id`) whose batch was written; null before the first batch. */
  afterId: string | null;
  processed: number;
  changed: number;
  /** Changes that crossed a `lead_score_reached` threshold. */
  crossed: number;
  /** Writes skipped because another recalculation of that lead wrote first (compare-and-set). */
  conflicts: number;
  /** Leads in the tenant when its pass started. */
  total: number;
  /** The rules version in use when the pass started. */
  rulesVersion: number;
}

export interface TenantSummary {
  clientCode: string;
  status: "done" | "skipped" | "failed";
  processed: number;
  changed: number;
  crossed: number;
  conflicts: number;
  total: number;
  rulesVersion?: number;
  /** Why the tenant was skipped (no rules) or what failed. */
  reason?: string;
  /** Set when this tenant's pass continued an interrupted one: the checkpoint's last lead. */
  resumedAfter?: string | null;
  durationMs: number;
}

export interface TenantPassOptions extends ScoreWriteDeps {
  now: Date;
  batchSize: number;
  resumeFrom?: TenantCheckpoint;
  signal?: AbortSignal;
  log?: Pick<Logger, "debug" | "warn">;
  /** Called after each batch is written; false stops the pass (the job lost its lease). */
  onBatch(checkpoint: TenantCheckpoint): Promise<boolean>;
}

/** Stops a pass whose job lost its lease or was aborted: the attempt that took over carries on. */
export class PassStopped extends Error {}

interface ScoredEvent {
  leadId: unknown;
  type: string;
  at: Date;
}

/**
 * A cursor read one server batch ahead: as soon as a batch is taken, the next one is requested, so the
 * round trip overlaps the work on the batch in hand. Never more than two batches in memory.
 */
class ReadAhead<T> {
  private ahead: Promise<boolean> | null = null;

  constructor(private readonly cursor: FindCursor<T>) {}

  /** The next server batch (empty when the cursor is exhausted). */
  async take(): Promise<T[]> {
    if (this.cursor.bufferedCount() === 0) {
      const more = await (this.ahead ?? this.cursor.hasNext());
      this.ahead = null;
      if (!more && this.cursor.bufferedCount() === 0) return [];
    }
    this.ahead = null;
    const batch = this.cursor.readBufferedDocuments();
    if (!this.cursor.closed) this.ahead = this.cursor.hasNext();
    return batch;
  }

  async close(): Promise<void> {
    await this.ahead?.catch(() => false);
    await this.cursor.close();
  }
}

/**
 * The tenant's events in lead order, consumed alongside the leads cursor (a merge join): one scan of
 * each collection for the whole pass instead of one events query per batch, and never more than two
 * cursor batches of events in memory.
 */
class EventsByLead {
  private buffer: ScoredEvent[] = [];
  private index = 0;
  private readonly reader: ReadAhead<ScoredEvent>;

  constructor(cursor: FindCursor<ScoredEvent>) {
    this.reader = new ReadAhead(cursor);
  }

  /** Adds the events of `leadId` to the tally, skipping events of leads before it (deleted leads). */
  async feed(leadId: ObjectId, tally: EventTally): Promise<void> {
    const id = leadId.id;
    for (;;) {
      if (this.index >= this.buffer.length) {
        this.buffer = await this.reader.take();
        this.index = 0;
        if (this.buffer.length === 0) return;
      }
      const event = this.buffer[this.index] as ScoredEvent;
      // Events whose leadId is not an ObjectId cannot belong to a lead: skipped.
      const order = event.leadId instanceof ObjectId ? Buffer.compare(event.leadId.id, id) : -1;
      if (order > 0) return;
      if (order === 0) tally.add(event.type, event.at);
      this.index++;
    }
  }

  close(): Promise<void> {
    return this.reader.close();
  }
}

/** The next `size` leads (fewer at the end). */
async function readBatch(
  reader: ReadAhead<LeadScoreFields>,
  carry: LeadScoreFields[],
  size: number,
): Promise<LeadScoreFields[]> {
  while (carry.length < size) {
    const more = await reader.take();
    if (more.length === 0) break;
    carry.push(...more);
  }
  return carry.splice(0, size);
}

interface BatchOutcome {
  changed: number;
  crossed: number;
  conflicts: number;
}

/** A scored batch: the writes it needs, not yet applied. */
interface BatchPlan {
  size: number;
  lastId: ObjectId;
  /** Changed scores crossing no threshold: one bulkWrite. */
  plain: AnyBulkWriteOperation<LeadScoreFields>[];
  /** Changed scores crossing a threshold: each written, then its event delivered. */
  crossing: (() => Promise<boolean>)[];
}

async function scoreBatch(
  options: TenantPassOptions,
  compiled: CompiledRuleSet,
  thresholds: number[],
  batch: LeadScoreFields[],
  events: EventsByLead | null,
  tally: EventTally,
): Promise<BatchPlan> {
  const leads = options.db.collection<LeadScoreFields>(LEADS_COLLECTION);
  const plan: BatchPlan = {
    size: batch.length,
    lastId: (batch.at(-1) as LeadScoreFields)._id,
    plain: [],
    crossing: [],
  };
  const writtenAt = new Date();
  for (const lead of batch) {
    tally.reset();
    if (events) await events.feed(lead._id, tally);
    if (lead.pendingScoreEvent) {
      // A change whose timeline event a crashed run did not deliver: deliver it first.
      await deliverScoreEvent(options, lead._id, lead.scoreUpdatedAt ?? new Date(0), lead.pendingScoreEvent);
    }
    const result = compiled.score(lead, tally);
    if (sameScore(lead, result)) continue;
    const previous = lead.score ?? 0;
    const crossed = crossedThresholds(previous, result.score, thresholds);
    const at = nextScoreTime(lead, writtenAt);
    if (crossed.length === 0) {
      // Bulk changes (a rule edit, nightly decay) do not each get a timeline event: only crossings do.
      plan.plain.push({ updateOne: { filter: scoreFence(lead), update: scoreUpdate(result, at) } });
      continue;
    }
    const pending = pendingScoreEvent(previous, result.score, crossed, options.now);
    plan.crossing.push(async () => {
      const write = await leads.updateOne(scoreFence(lead), scoreUpdate(result, at, pending));
      if (write.matchedCount !== 1) return false;
      await deliverScoreEvent(options, lead._id, at, pending);
      return true;
    });
  }
  return plan;
}

async function applyBatch(options: TenantPassOptions, plan: BatchPlan): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { changed: 0, crossed: 0, conflicts: 0 };
  if (plan.plain.length > 0) {
    const written = await options.db
      .collection<LeadScoreFields>(LEADS_COLLECTION)
      .bulkWrite(plan.plain, { ordered: false });
    outcome.changed += written.matchedCount;
    outcome.conflicts += plan.plain.length - written.matchedCount;
  }
  for (const write of plan.crossing) {
    if (await write()) {
      outcome.changed++;
      outcome.crossed++;
    } else {
      outcome.conflicts++;
    }
  }
  return outcome;
}

/**
 * Recomputes every lead of one tenant: a cursor over `leads` in `_id` order merged with a cursor over
 * the rules' events in `leadId` order, scored and written `batchSize` leads at a time (one `bulkWrite`
 * of the changed scores per batch, unchanged leads are not written), with a checkpoint after each
 * batch. Memory holds one batch of leads and one cursor batch of events, whatever the tenant's size.
 * From `resumeFrom`, it continues after the checkpoint's lead.
 */
export async function runTenantScorePass(options: TenantPassOptions): Promise<TenantSummary> {
  const started = Date.now();
  const { db, clientCode } = options;
  const stored = await loadScoringRules(db);
  if (!stored) {
    return {
      clientCode,
      status: "skipped",
      reason: "no scoring rules",
      processed: 0,
      changed: 0,
      crossed: 0,
      conflicts: 0,
      total: 0,
      durationMs: Date.now() - started,
    };
  }
  const compiled = compileRuleSet(stored, options.now);
  const thresholds = await loadScoreThresholds(db);
  const resume = options.resumeFrom;
  const afterId = resume?.afterId ? new ObjectId(resume.afterId) : null;
  const checkpoint: TenantCheckpoint = resume
    ? { ...resume }
    : {
        afterId: null,
        processed: 0,
        changed: 0,
        crossed: 0,
        conflicts: 0,
        total: await db.collection(LEADS_COLLECTION).countDocuments({}),
        rulesVersion: stored.version,
      };
  const leadsCursor = new ReadAhead(
    db.collection<LeadScoreFields>(LEADS_COLLECTION).find(afterId ? { _id: { $gt: afterId } } : {}, {
      projection: SCORE_PROJECTION,
      sort: { _id: 1 },
      batchSize: options.batchSize,
    }),
  );
  const carry: LeadScoreFields[] = [];
  const events = compiled.oldestEventAt
    ? new EventsByLead(
        db.collection<ScoredEvent>(LEAD_EVENTS_COLLECTION).find(
          {
            type: { $in: [...compiled.eventTypes] },
            at: { $gte: compiled.oldestEventAt },
            ...(afterId ? { leadId: { $gt: afterId } } : {}),
          },
          {
            projection: { _id: 0, leadId: 1, type: 1, at: 1 },
            sort: { leadId: 1, at: -1 },
            batchSize: EVENTS_BATCH_SIZE,
          },
        ),
      )
    : null;
  const tally = compiled.newTally();
  // The write of one batch overlaps the reading and scoring of the next; its checkpoint is saved once
  // it is written, before the next batch's write starts, so a checkpoint never runs ahead of the data.
  let writing: Promise<{ plan: BatchPlan; outcome: BatchOutcome }> | null = null;
  const settle = async () => {
    if (!writing) return;
    const { plan, outcome } = await writing;
    writing = null;
    checkpoint.afterId = plan.lastId.toHexString();
    checkpoint.processed += plan.size;
    checkpoint.changed += outcome.changed;
    checkpoint.crossed += outcome.crossed;
    checkpoint.conflicts += outcome.conflicts;
    if (!(await options.onBatch({ ...checkpoint }))) throw new PassStopped("the job lost its lease");
  };
  try {
    for (;;) {
      if (options.signal?.aborted) throw new PassStopped("the job was aborted");
      const batch = await readBatch(leadsCursor, carry, options.batchSize);
      if (batch.length === 0) break;
      const plan = await scoreBatch(options, compiled, thresholds, batch, events, tally);
      await settle();
      writing = applyBatch(options, plan).then((outcome) => ({ plan, outcome }));
    }
    await settle();
  } finally {
    // A write still in flight after a failure: let it end before the cursors close.
    await (writing as Promise<unknown> | null)?.catch(() => undefined);
    await Promise.allSettled([leadsCursor.close(), events?.close()]);
  }
  return {
    clientCode,
    status: "done",
    processed: checkpoint.processed,
    changed: checkpoint.changed,
    crossed: checkpoint.crossed,
    conflicts: checkpoint.conflicts,
    total: Math.max(checkpoint.total, checkpoint.processed),
    rulesVersion: checkpoint.rulesVersion,
    durationMs: Date.now() - started,
  };
}
