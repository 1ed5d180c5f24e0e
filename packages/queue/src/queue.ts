import { isDuplicateKeyError } from "@ecodrix/platform";
import {
  type AnyBulkWriteOperation,
  type Collection,
  type Db,
  type Filter,
  type FindCursor,
  ObjectId,
  type UpdateFilter,
} from "mongodb";
import { type BackoffOptions, backoffDelayMs, DEFAULT_BACKOFF } from "./backoff.js";
import { invalidJobInput, JobsErrorCode, jobNotFound, jobNotPending, parseJobId } from "./job-errors.js";
import {
  type EnqueueInput,
  FINISHED_STATUSES,
  JOB_STATUSES,
  type JobDocument,
  type JobErrorEntry,
  type JobStatus,
} from "./job-types.js";

export const JOBS_COLLECTION = "jobs";
export const ERROR_HISTORY_LIMIT = 10;
/** Runbook §2: a `processing` job whose `updatedAt` is older than this is "stuck". */
export const STUCK_AFTER_MS = 10 * 60 * 1000;

const CLAIM_SORT = { priority: -1, runAt: 1 } as const;

/** Conditions a claim must skip (fairness caps and rate limits of the calling worker). */
export interface ClaimExclusions {
  clientCodes?: (string | null)[];
  types?: string[];
  /** A (type, clientCode) pair: e.g. WhatsApp sends of one tenant while its rate budget is spent. */
  pairs?: { type: string; clientCode: string | null }[];
  /** Only these clientCodes (the fairness probe uses the complement instead). */
  onlyClientCodes?: (string | null)[];
}

export interface ClaimBatchOptions {
  workerId: string;
  leaseMs: number;
  /** At most this many jobs are claimed. */
  limit: number;
  /** How many candidates to read (≥ limit) so `select` can skip some. Default `limit`. */
  candidates?: number;
  exclude?: ClaimExclusions;
  /** Picks which candidates to claim (in order of preference); default: the first `limit`. */
  select?: (candidates: JobDocument[]) => JobDocument[];
}

export type FailOutcome = { outcome: "retry"; runAt: Date } | { outcome: "failed" } | { outcome: "lost" };

export interface JobFailure {
  message: string;
  code?: string;
  /** false: do not retry (dead letter now). */
  retryable?: boolean;
  /** Retry no sooner than this (a provider's Retry-After). */
  retryAfterMs?: number;
}

export interface JobListFilter {
  status?: JobStatus;
  type?: string;
  clientCode?: string;
  /** Processing jobs whose lease expired or whose updatedAt is older than 10 minutes. */
  stuck?: boolean;
  /** Default 50, at most 500. */
  limit?: number;
  /** Only jobs with an `_id` below this one (paging, newest first). */
  before?: ObjectId;
}

export type StatusCounts = Record<JobStatus, number>;

export interface JobStats {
  total: number;
  byStatus: StatusCounts;
  byType: ({ type: string; total: number } & StatusCounts)[];
  /** Processing jobs with an expired lease or an `updatedAt` older than 10 minutes. */
  stuck: number;
}

/** Finished jobs per time bucket (by `completedAt`): what the console's throughput chart draws. */
export interface ThroughputBucket {
  /** Start of the bucket. */
  at: Date;
  completed: number;
  /** Dead-lettered (failed for good) in this bucket. */
  failed: number;
}

export interface Throughput {
  bucketMs: number;
  /** Oldest first; every bucket present (zeros included), the last one is the current, partial bucket. */
  buckets: ThroughputBucket[];
}

export interface ThroughputOptions {
  /** How many buckets back from now (default 60). */
  buckets?: number;
  /** Bucket length (default one minute). */
  bucketMs?: number;
  now?: Date;
}

export interface QueueOptions {
  db: Db;
  /** Retries after the first attempt when `enqueue` does not say. Default 5. */
  defaultMaxRetries?: number;
  backoff?: BackoffOptions;
  /** Length of the `errors` history kept per job. Default 10. */
  errorHistoryLimit?: number;
}

export interface Queue {
  readonly jobs: Collection<JobDocument>;
  /** Creates the queue's indexes (idempotent). Call at start-up. */
  ensureIndexes(): Promise<void>;
  /** Inserts a job; with a `dedupeKey` (or `id`) already held by an unfinished job, returns that job. */
  enqueue<P extends Record<string, unknown>>(input: EnqueueInput<P>): Promise<JobDocument<P>>;
  /** Bulk enqueue: one insertMany for jobs without dedupe keys. Results in input order. */
  enqueueMany<P extends Record<string, unknown>>(inputs: EnqueueInput<P>[]): Promise<JobDocument<P>[]>;
  /**
   * Claims up to `limit` runnable jobs (pending and due, or processing with an expired lease) in
   * priority then runAt order: one find for candidates, one bulk compare-and-set on
   * `{ _id, attempts, status }`, and a read-back only when some of the sets lost a race.
   */
  claimBatch(options: ClaimBatchOptions): Promise<JobDocument[]>;
  /** Claims one job (claimBatch with limit 1). */
  claim(workerId: string, leaseMs: number): Promise<JobDocument | null>;
  /** Extends the lease of the attempt `job` holds; false when that attempt lost the lease. */
  heartbeat(job: JobDocument, leaseMs: number): Promise<boolean>;
  /**
   * Marks the attempt completed; false when it no longer holds the lease (fenced). Completions that
   * arrive while a write is in flight are written together in one bulkWrite (group commit).
   */
  complete(job: JobDocument, result?: unknown): Promise<boolean>;
  /** Records a failure: back to pending after a backoff, or `failed` (dead letter); `lost` when fenced. */
  fail(job: JobDocument, failure: JobFailure): Promise<FailOutcome>;
  /** Gives the job back (pending, claimable at once) without counting a retry: graceful shutdown. */
  release(job: JobDocument): Promise<boolean>;
  get(id: string | ObjectId): Promise<JobDocument | null>;
  /** Cancels pending jobs (not running ones) matching the filter; returns how many. */
  cancelPending(filter: { id?: ObjectId; clientCode?: string }): Promise<number>;
  /** Cancels one pending job; 404 when absent, 409 when it is not pending. */
  cancel(id: string | ObjectId): Promise<JobDocument>;
  /** Back to pending with retries 0, due now (runbook §2 "re-queue"); 404 when absent. */
  requeue(id: string | ObjectId): Promise<JobDocument>;
  /** Deletes a job (runbook §2 "kill a poison job"); 404 when absent. */
  remove(id: string | ObjectId): Promise<void>;
  stats(): Promise<JobStats>;
  list(filter?: JobListFilter): Promise<JobDocument[]>;
  /**
   * Completed and dead-lettered jobs per bucket over the last `buckets × bucketMs` (default: per minute,
   * last hour), from `completedAt`: one aggregation served by the retention index. A requeued job counts
   * once, at its latest finish; jobs removed by retention or by hand are no longer counted.
   */
  throughput(options?: ThroughputOptions): Promise<Throughput>;
  /** Deletes finished jobs whose completedAt is older than `olderThan`; returns how many. */
  sweepFinished(olderThan: Date): Promise<number>;
}

/** Runnable now: due pending jobs, and processing jobs whose lease expired (their worker is gone). */
export function readyFilter(now: Date): Filter<JobDocument> {
  return {
    $or: [
      { status: "pending", runAt: { $lte: now } },
      { status: "processing", lockedUntil: { $lt: now } },
    ],
  };
}

export function stuckFilter(now: Date, stuckAfterMs = STUCK_AFTER_MS): Filter<JobDocument> {
  return {
    status: "processing",
    $or: [{ lockedUntil: { $lt: now } }, { updatedAt: { $lt: new Date(now.getTime() - stuckAfterMs) } }],
  };
}

function exclusionFilter(exclude: ClaimExclusions | undefined): Filter<JobDocument>[] {
  if (!exclude) return [];
  const parts: Filter<JobDocument>[] = [];
  if (exclude.clientCodes?.length) parts.push({ clientCode: { $nin: exclude.clientCodes } });
  if (exclude.onlyClientCodes) parts.push({ clientCode: { $in: exclude.onlyClientCodes } });
  if (exclude.types?.length) parts.push({ type: { $nin: exclude.types } });
  if (exclude.pairs?.length) {
    parts.push({ $nor: exclude.pairs.map((pair) => ({ type: pair.type, clientCode: pair.clientCode })) });
  }
  return parts;
}

/**
 * The claim's candidate query: runnable jobs in priority then runAt order. On MongoDB the `claim` and
 * `leases` indexes serve it, so finished jobs are never examined (see queue-indexes.test.ts).
 */
export function claimCandidates(
  jobs: Collection<JobDocument>,
  now: Date,
  options: { limit: number; exclude?: ClaimExclusions },
): FindCursor<JobDocument> {
  const filter: Filter<JobDocument> = { $and: [readyFilter(now), ...exclusionFilter(options.exclude)] };
  return jobs.find(filter, { sort: CLAIM_SORT, limit: options.limit });
}

/** The fenced filter: exactly one attempt of one job, while it runs. */
function fence(job: Pick<JobDocument, "_id" | "attempts">): Filter<JobDocument> {
  // Exactly these three keys: the unique index `fence` serves it (on the embedded server too,
  // which only uses an index when the query's keys equal the index's keys).
  return { _id: job._id, attempts: job.attempts, status: "processing" };
}

/** Cancels a pending job; its dedupe key is freed like a finished job's (see finishUpdate). */
function cancelUpdate(now: Date): UpdateFilter<JobDocument> {
  return {
    $set: { status: "cancelled", updatedAt: now, completedAt: now },
    $rename: { dedupeKey: "finishedDedupeKey" },
  } as UpdateFilter<JobDocument>;
}

const emptyCounts = (): StatusCounts => ({
  pending: 0,
  processing: 0,
  completed: 0,
  failed: 0,
  cancelled: 0,
});

function validate(input: EnqueueInput<Record<string, unknown>>): void {
  if (typeof input.type !== "string" || !/^[A-Za-z0-9_.:-]{1,100}$/.test(input.type)) {
    throw invalidJobInput("Job type must be 1-100 letters, digits, _ . : or -");
  }
  if (input.priority !== undefined && !Number.isInteger(input.priority)) {
    throw invalidJobInput("Job priority must be an integer");
  }
  if (input.maxRetries !== undefined && (!Number.isInteger(input.maxRetries) || input.maxRetries < 0)) {
    throw invalidJobInput("Job maxRetries must be an integer of at least 0");
  }
  if (input.runAt !== undefined && Number.isNaN(new Date(input.runAt).getTime())) {
    throw invalidJobInput("Job runAt must be a valid date");
  }
  if (input.delayMs !== undefined && (!Number.isFinite(input.delayMs) || input.delayMs < 0)) {
    throw invalidJobInput("Job delayMs must be a number of at least 0");
  }
  if (
    input.dedupeKey !== undefined &&
    (typeof input.dedupeKey !== "string" || input.dedupeKey.length === 0)
  ) {
    throw invalidJobInput("Job dedupeKey must be a non-empty string");
  }
}

export function createQueue(options: QueueOptions): Queue {
  const jobs = options.db.collection<JobDocument>(JOBS_COLLECTION);
  const defaultMaxRetries = options.defaultMaxRetries ?? 5;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const historyLimit = options.errorHistoryLimit ?? ERROR_HISTORY_LIMIT;

  function buildDoc<P extends Record<string, unknown>>(input: EnqueueInput<P>, now: Date): JobDocument<P> {
    validate(input);
    const runAt = input.runAt ? new Date(input.runAt) : new Date(now.getTime() + (input.delayMs ?? 0));
    return {
      _id: input.id ?? new ObjectId(),
      type: input.type,
      clientCode: input.clientCode ?? null,
      payload: input.payload ?? ({} as P),
      status: "pending",
      priority: input.priority ?? 0,
      runAt,
      retries: 0,
      maxRetries: input.maxRetries ?? defaultMaxRetries,
      attempts: 0,
      lockedBy: null,
      lockedUntil: null,
      lastError: null,
      errors: [],
      ...(input.dedupeKey ? { dedupeKey: input.dedupeKey } : {}),
      createdAt: now,
      updatedAt: now,
      completedAt: null,
    };
  }

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

  function finishUpdate(job: Pick<JobDocument, "dedupeKey">): UpdateFilter<JobDocument> {
    // The unique dedupe index must forget a finished job. partialFilterExpression would do it on
    // MongoDB, but the embedded server ignores it; renaming the field works on both.
    return job.dedupeKey ? { $rename: { dedupeKey: "finishedDedupeKey" } } : {};
  }

  function errorEntry(job: JobDocument, failure: JobFailure, now: Date): JobErrorEntry {
    return {
      at: now,
      attempt: job.attempts,
      message: failure.message,
      ...(failure.code ? { code: failure.code } : {}),
    };
  }

  /** Appends `entry` to the job's error history, keeping the last historyLimit entries. */
  function pushError(entry: JobErrorEntry) {
    return { $push: { errors: { $each: [entry], $slice: -historyLimit } } };
  }

  /** The dead letter: `failed` for good, with `entry` as its last error. */
  function deadLetterUpdate(job: JobDocument, entry: JobErrorEntry, now: Date): UpdateFilter<JobDocument> {
    return {
      $set: {
        status: "failed",
        lastError: entry.message,
        lockedBy: null,
        lockedUntil: null,
        updatedAt: now,
        completedAt: now,
      },
      ...pushError(entry),
      ...finishUpdate(job),
    } as UpdateFilter<JobDocument>;
  }

  async function claimBatch(claim: ClaimBatchOptions): Promise<JobDocument[]> {
    // Losing every compare-and-set to other workers is not "no work": read the new head and try again.
    for (let round = 0; round < 4; round++) {
      const { claimed, contended } = await claimOnce(claim);
      if (claimed.length > 0 || !contended) return claimed;
    }
    return [];
  }

  async function claimOnce(
    claim: ClaimBatchOptions,
  ): Promise<{ claimed: JobDocument[]; contended: boolean }> {
    const none = { claimed: [], contended: false };
    if (claim.limit <= 0) return none;
    const now = new Date();
    const found = await claimCandidates(jobs, now, {
      limit: Math.max(claim.limit, claim.candidates ?? claim.limit),
      ...(claim.exclude ? { exclude: claim.exclude } : {}),
    }).toArray();
    if (found.length === 0) return none;
    const chosen = (claim.select ? claim.select(found) : found).slice(0, claim.limit);
    if (chosen.length === 0) return none;

    const lockedUntil = new Date(now.getTime() + claim.leaseMs);
    const lock = { status: "processing" as const, lockedBy: claim.workerId, lockedUntil, updatedAt: now };
    const ops: AnyBulkWriteOperation<JobDocument>[] = [];
    const claimed: JobDocument[] = [];
    for (const read of chosen) {
      // A document written by hand (or by an older queue) may lack counters: the filters below match
      // what is stored, the in-memory copy gets the defaults the database will hold after the update.
      const version = typeof read.attempts === "number" ? read.attempts : { $exists: false };
      const seen: JobDocument = {
        ...read,
        attempts: read.attempts ?? 0,
        retries: read.retries ?? 0,
        maxRetries: read.maxRetries ?? defaultMaxRetries,
        errors: read.errors ?? [],
        payload: read.payload ?? {},
      };
      if (seen.status === "pending") {
        // Compare-and-set on the version we read: (attempts, status) never repeats for a job, because
        // every claim increments attempts. So at most one claimer per version wins.
        // A document written by hand without `attempts` still gets claimed (a scan, not the index).
        ops.push({
          updateOne: {
            filter: { _id: seen._id, attempts: version, status: "pending" } as Filter<JobDocument>,
            update: { $set: lock, $inc: { attempts: 1 } },
          },
        });
        claimed.push({ ...seen, ...lock, attempts: seen.attempts + 1 });
        continue;
      }
      // An expired lease: its worker died or hung. The lease condition stays in the filter, so a
      // worker that renewed it in the meantime keeps its job. The lost run counts as a failed attempt,
      // so a job that kills its worker every time ends up dead-lettered instead of looping forever.
      const entry = errorEntry(
        seen,
        {
          message: `Lease expired: worker ${seen.lockedBy ?? "?"} stopped renewing it`,
          code: JobsErrorCode.leaseExpired,
        },
        now,
      );
      const leaseFilter = {
        _id: seen._id,
        attempts: version,
        status: "processing",
        lockedUntil: { $lt: now },
      } as Filter<JobDocument>;
      if (seen.retries >= seen.maxRetries) {
        ops.push({ updateOne: { filter: leaseFilter, update: deadLetterUpdate(seen, entry, now) } });
        continue;
      }
      ops.push({
        updateOne: {
          filter: leaseFilter,
          update: {
            $set: { ...lock, lastError: entry.message },
            $inc: { attempts: 1, retries: 1 },
            ...pushError(entry),
          },
        },
      });
      claimed.push({
        ...seen,
        ...lock,
        lastError: entry.message,
        attempts: seen.attempts + 1,
        retries: seen.retries + 1,
        errors: [...seen.errors, entry].slice(-historyLimit),
      });
    }
    let result: Awaited<ReturnType<typeof jobs.bulkWrite>>;
    let mine: JobDocument[];
    try {
      result = await jobs.bulkWrite(ops, { ordered: false });
      if (result.modifiedCount === ops.length) return { claimed, contended: false };
      if (result.modifiedCount === 0) return { claimed: [], contended: true };
      // Some sets lost a race with another worker: read back which ones are ours.
      mine = await jobs.find({ _id: { $in: claimed.map((job) => job._id) } }).toArray();
    } catch (error) {
      // The server may have applied the claim before the reply was lost: hand back whatever this claim
      // locked, so those jobs are not left waiting for their lease (and charged a retry) unrun.
      await jobs
        .updateMany(
          { status: "processing", lockedBy: claim.workerId, lockedUntil },
          { $set: { status: "pending", lockedBy: null, lockedUntil: null, updatedAt: new Date() } },
        )
        .catch(() => undefined);
      throw error;
    }
    const wanted = new Map(claimed.map((job) => [String(job._id), job.attempts]));
    const won = mine.filter(
      (job) =>
        job.status === "processing" &&
        job.lockedBy === claim.workerId &&
        wanted.get(String(job._id)) === job.attempts,
    );
    return { claimed: won, contended: true };
  }

  function completionUpdate(job: JobDocument, result: unknown, now: Date): UpdateFilter<JobDocument> {
    return {
      $set: {
        status: "completed",
        completedAt: now,
        updatedAt: now,
        lockedBy: null,
        lockedUntil: null,
        ...(result === undefined ? {} : { result }),
      },
      ...finishUpdate(job),
    } as UpdateFilter<JobDocument>;
  }

  // Group commit: completions that arrive while one write is in flight go out together in the next
  // bulkWrite. Under load that turns N updateOne round trips into one; an idle queue still writes
  // each completion at once (one setImmediate later).
  interface PendingCompletion {
    job: JobDocument;
    result: unknown;
    resolve: (held: boolean) => void;
    reject: (error: unknown) => void;
  }
  let completions: PendingCompletion[] = [];
  let flushingCompletions = false;

  async function writeCompletions(batch: PendingCompletion[]): Promise<boolean[]> {
    const now = new Date();
    if (batch.length === 1) {
      const [only] = batch as [PendingCompletion];
      const update = await jobs.updateOne(fence(only.job), completionUpdate(only.job, only.result, now));
      return [update.matchedCount === 1];
    }
    const written = await jobs.bulkWrite(
      batch.map(({ job, result }) => ({
        updateOne: { filter: fence(job), update: completionUpdate(job, result, now) },
      })),
      { ordered: false },
    );
    if (written.matchedCount === batch.length) return batch.map(() => true);
    // Some attempts had lost their lease: read back which completions are ours. An attempt number
    // is claimed once, so "completed with our attempt number" can only be our write.
    const docs = await jobs
      .find({ _id: { $in: batch.map(({ job }) => job._id) } }, { projection: { status: 1, attempts: 1 } })
      .toArray();
    const byId = new Map(docs.map((doc) => [String(doc._id), doc]));
    return batch.map(({ job }) => {
      const doc = byId.get(String(job._id));
      return doc?.status === "completed" && doc.attempts === job.attempts;
    });
  }

  async function flushCompletions(): Promise<void> {
    while (completions.length > 0) {
      const batch = completions;
      completions = [];
      try {
        const held = await writeCompletions(batch);
        batch.forEach((pending, index) => {
          pending.resolve(held[index] === true);
        });
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
    flushingCompletions = false;
  }

  function complete(job: JobDocument, result?: unknown): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      completions.push({ job, result, resolve, reject });
      if (!flushingCompletions) {
        flushingCompletions = true;
        setImmediate(() => void flushCompletions());
      }
    });
  }

  return {
    jobs,

    async ensureIndexes() {
      await jobs.createIndexes([
        // The claim: due pending jobs by priority then runAt.
        { key: { status: 1, priority: -1, runAt: 1 }, name: "claim" },
        // The claim's other branch (expired leases) and the runbook's stuck query.
        { key: { status: 1, lockedUntil: 1 }, name: "leases" },
        { key: { status: 1, updatedAt: 1 }, name: "status_updated" },
        // Fenced writes. Unique because it contains _id; its point is that the embedded server can
        // serve `{ _id, attempts, status }` from it instead of scanning the collection.
        { key: { _id: 1, attempts: 1, status: 1 }, name: "fence", unique: true },
        // Sparse rather than partial: the key is renamed away when the job finishes (see finishUpdate).
        { key: { dedupeKey: 1 }, name: "dedupe", unique: true, sparse: true },
        // Tenant views, offboarding's cancel-by-tenant and admin filters.
        { key: { clientCode: 1, status: 1, _id: -1 }, name: "tenant" },
        { key: { type: 1, status: 1, _id: -1 }, name: "type" },
        // Retention sweep.
        { key: { completedAt: 1 }, name: "retention" },
      ]);
    },

    async enqueue(input) {
      const doc = buildDoc(input, new Date());
      if (!doc.dedupeKey && !input.id) {
        await jobs.insertOne(doc as unknown as JobDocument);
        return doc;
      }
      return insertDeduped(doc);
    },

    async enqueueMany(inputs) {
      const now = new Date();
      const docs = inputs.map((input) => buildDoc(input, now));
      const plain = docs.filter((doc, index) => !doc.dedupeKey && !inputs[index]?.id);
      if (plain.length > 0) await jobs.insertMany(plain as unknown as JobDocument[], { ordered: false });
      const results = [...docs];
      for (const [index, doc] of docs.entries()) {
        if (doc.dedupeKey || inputs[index]?.id) results[index] = await insertDeduped(doc);
      }
      return results;
    },

    claimBatch,

    async claim(workerId, leaseMs) {
      const [job] = await claimBatch({ workerId, leaseMs, limit: 1 });
      return job ?? null;
    },

    async heartbeat(job, leaseMs) {
      const now = new Date();
      const lockedUntil = new Date(now.getTime() + leaseMs);
      const result = await jobs.updateOne(fence(job), { $set: { lockedUntil, updatedAt: now } });
      if (result.matchedCount === 1) job.lockedUntil = lockedUntil;
      return result.matchedCount === 1;
    },

    complete,

    async fail(job, failure) {
      const now = new Date();
      const final = failure.retryable === false || job.retries >= job.maxRetries;
      const entry = errorEntry(job, failure, now);
      if (final) {
        const update = await jobs.updateOne(fence(job), deadLetterUpdate(job, entry, now));
        return update.matchedCount === 1 ? { outcome: "failed" } : { outcome: "lost" };
      }
      const delay = Math.max(failure.retryAfterMs ?? 0, backoffDelayMs(job.retries, backoff));
      const runAt = new Date(now.getTime() + delay);
      const update = await jobs.updateOne(fence(job), {
        $set: {
          status: "pending",
          runAt,
          lastError: failure.message,
          lockedBy: null,
          lockedUntil: null,
          updatedAt: now,
        },
        $inc: { retries: 1 },
        ...pushError(entry),
      });
      return update.matchedCount === 1 ? { outcome: "retry", runAt } : { outcome: "lost" };
    },

    async release(job) {
      const now = new Date();
      const update = await jobs.updateOne(fence(job), {
        $set: { status: "pending", runAt: now, lockedBy: null, lockedUntil: null, updatedAt: now },
      });
      return update.matchedCount === 1;
    },

    get(id) {
      return jobs.findOne({ _id: parseJobId(id) });
    },

    async cancelPending(filter) {
      if (!filter.id && !filter.clientCode) {
        throw invalidJobInput("cancelPending needs a job id or a clientCode (it never cancels every job)");
      }
      const now = new Date();
      const result = await jobs.updateMany(
        {
          status: "pending",
          ...(filter.id ? { _id: filter.id } : {}),
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

    async requeue(id) {
      const _id = parseJobId(id);
      const now = new Date();
      // attempts is left alone: a worker still running the old attempt stays fenced out.
      const job = await jobs.findOneAndUpdate(
        { _id },
        {
          $set: {
            status: "pending",
            retries: 0,
            runAt: now,
            lockedBy: null,
            lockedUntil: null,
            completedAt: null,
            updatedAt: now,
          },
        },
        { returnDocument: "after" },
      );
      if (!job) throw jobNotFound(_id);
      const finished = (job as JobDocument & { finishedDedupeKey?: string }).finishedDedupeKey;
      if (finished === undefined) return job;
      // Unfinished again, so its dedupe key protects it again — unless another unfinished job took the
      // key meanwhile; then this one runs without it (the other one holds the key).
      try {
        await jobs.updateOne({ _id, finishedDedupeKey: finished }, {
          $rename: { finishedDedupeKey: "dedupeKey" },
        } as UpdateFilter<JobDocument>);
        return (await jobs.findOne({ _id })) ?? job;
      } catch (error) {
        if (isDuplicateKeyError(error)) return job;
        throw error;
      }
    },

    async remove(id) {
      const _id = parseJobId(id);
      const result = await jobs.deleteOne({ _id });
      if (result.deletedCount === 0) throw jobNotFound(_id);
    },

    async stats() {
      const now = new Date();
      const groups = await jobs
        .aggregate<{ _id: { status: JobStatus; type: string }; count: number }>([
          { $group: { _id: { status: "$status", type: "$type" }, count: { $sum: 1 } } },
        ])
        .toArray();
      const byStatus = emptyCounts();
      const byType = new Map<string, { type: string; total: number } & StatusCounts>();
      let total = 0;
      for (const group of groups) {
        const status = group._id.status;
        const type = String(group._id.type);
        total += group.count;
        if (JOB_STATUSES.includes(status)) byStatus[status] += group.count;
        const row = byType.get(type) ?? { type, total: 0, ...emptyCounts() };
        row.total += group.count;
        if (JOB_STATUSES.includes(status)) row[status] += group.count;
        byType.set(type, row);
      }
      const stuck = await jobs.countDocuments(stuckFilter(now));
      return {
        total,
        byStatus,
        byType: [...byType.values()].sort((a, b) => a.type.localeCompare(b.type)),
        stuck,
      };
    },

    list(filter = {}) {
      const query: Filter<JobDocument> = {
        ...(filter.status ? { status: filter.status } : {}),
        ...(filter.type ? { type: filter.type } : {}),
        ...(filter.clientCode ? { clientCode: filter.clientCode } : {}),
        ...(filter.before ? { _id: { $lt: filter.before } } : {}),
      };
      const where = filter.stuck ? { $and: [query, stuckFilter(new Date())] } : query;
      const limit = Math.min(Math.max(filter.limit ?? 50, 1), 500);
      return jobs.find(where, { sort: { _id: -1 }, limit }).toArray();
    },

    async throughput(options = {}) {
      const bucketMs = options.bucketMs ?? 60_000;
      const count = options.buckets ?? 60;
      if (!Number.isInteger(bucketMs) || bucketMs < 1_000)
        throw invalidJobInput("bucketMs must be at least 1000");
      if (!Number.isInteger(count) || count < 1 || count > 1_440) {
        throw invalidJobInput("buckets must be an integer from 1 to 1440");
      }
      const now = (options.now ?? new Date()).getTime();
      // Buckets aligned to whole bucket lengths, so consecutive polls agree on where a bucket starts.
      const first = new Date((Math.floor(now / bucketMs) - count + 1) * bucketMs);
      // $subtract of two dates and $floor are understood by MongoDB and by the embedded server alike
      // ($dateTrunc is not implemented by the latter).
      const groups = await jobs
        .aggregate<{ _id: { bucket: number; status: JobStatus }; count: number }>([
          { $match: { completedAt: { $gte: first }, status: { $in: ["completed", "failed"] } } },
          {
            $group: {
              _id: {
                bucket: { $floor: { $divide: [{ $subtract: ["$completedAt", first] }, bucketMs] } },
                status: "$status",
              },
              count: { $sum: 1 },
            },
          },
        ])
        .toArray();
      const buckets: ThroughputBucket[] = Array.from({ length: count }, (_, index) => ({
        at: new Date(first.getTime() + index * bucketMs),
        completed: 0,
        failed: 0,
      }));
      for (const group of groups) {
        const bucket = buckets[group._id.bucket];
        // A completedAt in the future (clock skew between processes) falls outside the window.
        if (!bucket) continue;
        if (group._id.status === "completed") bucket.completed += group.count;
        else if (group._id.status === "failed") bucket.failed += group.count;
      }
      return { bucketMs, buckets };
    },

    async sweepFinished(olderThan) {
      const result = await jobs.deleteMany({
        status: { $in: [...FINISHED_STATUSES] },
        completedAt: { $lt: olderThan },
      });
      return result.deletedCount;
    },
  };
}
