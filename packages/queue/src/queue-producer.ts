import { isDuplicateKeyError } from "@ecodrix/platform";
import type { Collection, ObjectId } from "mongodb";
import { buildJobDocument } from "./enqueue-input.js";
import { invalidJobInput, jobNotFound, jobNotPending, parseJobId } from "./job-errors.js";
import type { EnqueueInput, JobDocument } from "./job-types.js";
import { cancelUpdate } from "./job-updates.js";

/** What callers that create work may do: enqueue, read one job, cancel pending jobs. */
export interface QueueProducer {
  /** Inserts a job; with a `dedupeKey` (or `id`) already held by an unfinished job, returns that job. */
  enqueue<P extends Record<string, unknown>>(input: EnqueueInput<P>): Promise<JobDocument<P>>;
  /** Bulk enqueue: one insertMany for jobs without dedupe keys. Results in input order. */
  enqueueMany<P extends Record<string, unknown>>(inputs: EnqueueInput<P>[]): Promise<JobDocument<P>[]>;
  get(id: string | ObjectId): Promise<JobDocument | null>;
  /** The jobs with these ids that exist (any order): one query for a page of automation runs' steps. */
  getMany(ids: readonly ObjectId[]): Promise<JobDocument[]>;
  /** Cancels pending jobs (not running ones) matching the filter; returns how many. */
  cancelPending(filter: { id?: ObjectId; clientCode?: string; ids?: ObjectId[] }): Promise<number>;
  /** Cancels one pending job; 404 when absent, 409 when it is not pending. */
  cancel(id: string | ObjectId): Promise<JobDocument>;
}

/**
 * `onDue` runs after an enqueue that stored a job due now (createQueue nudges idle workers with it,
 * see job-wake.ts); it must not throw or wait.
 */
export function createQueueProducer(
  jobs: Collection<JobDocument>,
  defaultMaxRetries: number,
  onDue?: () => void,
): QueueProducer {
  const announce = (docs: readonly Pick<JobDocument, "runAt">[], now: Date) => {
    if (onDue && docs.some((doc) => doc.runAt.getTime() <= now.getTime())) onDue();
  };
  async function insertDeduped<P extends Record<string, unknown>>(
    doc: JobDocument<P>,
  ): Promise<JobDocument<P>> {
    // The existing job can finish (and free its key) between our failed insert and the lookup:
    // then the insert is simply tried again.
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await jobs.insertOne(doc as unknown as JobDocument);
        return doc;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        const byId = await jobs.findOne({ _id: doc._id });
        if (byId) return byId as unknown as JobDocument<P>;
        if (doc.dedupeKey) {
          const byKey = await jobs.findOne({ dedupeKey: doc.dedupeKey });
          if (byKey) return byKey as unknown as JobDocument<P>;
        }
      }
    }
    throw new Error(`enqueue of ${doc.type} kept colliding on dedupeKey ${doc.dedupeKey ?? ""}`);
  }

  return {
    async enqueue(input) {
      const now = new Date();
      const doc = buildJobDocument(input, now, defaultMaxRetries);
      if (!doc.dedupeKey && !input.id) {
        await jobs.insertOne(doc as unknown as JobDocument);
        announce([doc], now);
        return doc;
      }
      const stored = await insertDeduped(doc);
      announce([stored], now);
      return stored;
    },

    async enqueueMany(inputs) {
      const now = new Date();
      const docs = inputs.map((input) => buildJobDocument(input, now, defaultMaxRetries));
      const plain = docs.filter((doc, index) => !doc.dedupeKey && !inputs[index]?.id);
      if (plain.length > 0) await jobs.insertMany(plain as unknown as JobDocument[], { ordered: false });
      const results = [...docs];
      for (const [index, doc] of docs.entries()) {
        if (doc.dedupeKey || inputs[index]?.id) results[index] = await insertDeduped(doc);
      }
      announce(results, now);
      return results;
    },

    get(id) {
      return jobs.findOne({ _id: parseJobId(id) });
    },

    async getMany(ids) {
      if (ids.length === 0) return [];
      return jobs.find({ _id: { $in: [...ids] } }).toArray();
    },

    async cancelPending(filter) {
      if (!filter.id && !filter.clientCode && !filter.ids) {
        throw invalidJobInput("cancelPending needs a job id or a clientCode (it never cancels every job)");
      }
      if (filter.ids?.length === 0) return 0;
      const now = new Date();
      const result = await jobs.updateMany(
        {
          status: "pending",
          ...(filter.id ? { _id: filter.id } : {}),
          ...(filter.ids ? { _id: { $in: filter.ids } } : {}),
          ...(filter.clientCode ? { clientCode: filter.clientCode } : {}),
        },
        cancelUpdate(now),
      );
      return result.modifiedCount;
    },

    async cancel(id) {
      const _id = parseJobId(id);
      const now = new Date();
      const cancelled = await jobs.findOneAndUpdate({ _id, status: "pending" }, cancelUpdate(now), {
        returnDocument: "after",
      });
      if (cancelled) return cancelled;
      const existing = await jobs.findOne({ _id });
      if (!existing) throw jobNotFound(_id);
      throw jobNotPending(_id, existing.status);
    },
  };
}
