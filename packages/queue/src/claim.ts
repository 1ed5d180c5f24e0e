import {
  type AnyBulkWriteOperation,
  type Collection,
  type Filter,
  type FindCursor,
  MongoBulkWriteError,
} from "mongodb";
import { JobsErrorCode } from "./job-errors.js";
import type { JobDocument } from "./job-types.js";
import { deadLetterUpdate, errorEntry, pushError } from "./job-updates.js";

const CLAIM_SORT = { priority: -1, runAt: 1 } as const;

/** Conditions a claim must skip (fairness caps and rate limits of the calling worker). */
export interface ClaimExclusions {
  clientCodes?: (string | null)[];
  types?: string[];
  /** A (type, clientCode) pair: e.g. WhatsApp sends of one tenant while its rate budget is spent. */
  pairs?: { type: string; clientCode: string | null }[];
  /** Only these clientCodes (the fairness probe uses the complement instead). */
  onlyClientCodes?: (string | null)[];
  /**
   * Only these job types: the ones the worker has definitions for. A job of a type this worker does
   * not know stays pending for a worker that does (a rolling deploy that adds a type).
   */
  onlyTypes?: readonly string[];
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

/** Runnable now: due pending jobs, and processing jobs whose lease expired (their worker is gone). */
export function readyFilter(now: Date): Filter<JobDocument> {
  return {
    $or: [
      { status: "pending", runAt: { $lte: now } },
      { status: "processing", lockedUntil: { $lt: now } },
    ],
  };
}

function exclusionFilter(exclude: ClaimExclusions | undefined): Filter<JobDocument>[] {
  if (!exclude) return [];
  const parts: Filter<JobDocument>[] = [];
  if (exclude.clientCodes?.length) parts.push({ clientCode: { $nin: exclude.clientCodes } });
  if (exclude.onlyClientCodes) parts.push({ clientCode: { $in: exclude.onlyClientCodes } });
  if (exclude.types?.length) parts.push({ type: { $nin: exclude.types } });
  if (exclude.onlyTypes) parts.push({ type: { $in: [...exclude.onlyTypes] } });
  if (exclude.pairs?.length) {
    parts.push({ $nor: exclude.pairs.map((pair) => ({ type: pair.type, clientCode: pair.clientCode })) });
  }
  return parts;
}

/**
 * The claim's candidate query: runnable jobs in priority then runAt order. On MongoDB the `claim` and
 * `leases` indexes serve it, so finished jobs are never examined (see queue-indexes.test.ts).
 *
 * One batch, closed by the server (`singleBatch`): the claim never reads further. On MongoDB that is
 * the same reply; FerretDB otherwise keeps the query's PostgreSQL connection for a cursor and, finding
 * it exhausted, closes that connection, so every limited `find` paid for a new backend (~40 ms).
 */
export function claimCandidates(
  jobs: Collection<JobDocument>,
  now: Date,
  options: { limit: number; exclude?: ClaimExclusions },
): FindCursor<JobDocument> {
  const filter: Filter<JobDocument> = { $and: [readyFilter(now), ...exclusionFilter(options.exclude)] };
  return jobs.find(filter, {
    sort: CLAIM_SORT,
    limit: options.limit,
    batchSize: options.limit,
    singleBatch: true,
  });
}

/** The job's id as a sortable key (ObjectId hex, or the string id a job was enqueued with). */
const idKey = (job: Pick<JobDocument, "_id">) => String(job._id);

/**
 * A write error the server answered with, one per lost operation (the rest of the batch applied):
 * PostgreSQL-backed servers abort a row update that would deadlock ("deadlock detected") and go on.
 * Anything else (no reply, a network error) leaves the outcome unknown.
 */
function answeredPerOperation(error: unknown): boolean {
  return error instanceof MongoBulkWriteError && [error.writeErrors].flat().length > 0;
}

export interface ClaimerOptions {
  jobs: Collection<JobDocument>;
  clock: () => Date;
  defaultMaxRetries: number;
  historyLimit: number;
}

/**
 * The claim: one `find` for candidates, then one `bulkWrite` compare-and-set on
 * `{ _id, attempts, status }`, and a read-back only when some of the sets lost a race.
 */
export function createClaimer({ jobs, clock, defaultMaxRetries, historyLimit }: ClaimerOptions) {
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
    const now = clock();
    const found = await claimCandidates(jobs, now, {
      limit: Math.max(claim.limit, claim.candidates ?? claim.limit),
      ...(claim.exclude ? { exclude: claim.exclude } : {}),
    }).toArray();
    if (found.length === 0) return none;
    const chosen = (claim.select ? claim.select(found) : found).slice(0, claim.limit);
    if (chosen.length === 0) return none;

    // Compare-and-sets go out in _id order, whatever order the caller prefers: on a server that locks
    // rows (PostgreSQL under FerretDB), two claimers locking overlapping rows in different orders
    // deadlock, and ties in the claim sort (jobs enqueued in the same millisecond) come back in no
    // fixed order there. One global order leaves nothing to deadlock on.
    const inLockOrder = [...chosen].sort((a, b) => (idKey(a) < idKey(b) ? -1 : idKey(a) > idKey(b) ? 1 : 0));
    const lockedUntil = new Date(now.getTime() + claim.leaseMs);
    const lock = { status: "processing" as const, lockedBy: claim.workerId, lockedUntil, updatedAt: now };
    const ops: AnyBulkWriteOperation<JobDocument>[] = [];
    const claimed: JobDocument[] = [];
    for (const read of inLockOrder) {
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
        ops.push({
          updateOne: { filter: leaseFilter, update: deadLetterUpdate(seen, entry, now, historyLimit) },
        });
        continue;
      }
      ops.push({
        updateOne: {
          filter: leaseFilter,
          update: {
            $set: { ...lock, lastError: entry.message },
            $inc: { attempts: 1, retries: 1 },
            ...pushError(entry, historyLimit),
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
    let mine: JobDocument[];
    try {
      let modified: number | undefined;
      try {
        modified = (await jobs.bulkWrite(ops, { ordered: false })).modifiedCount;
      } catch (error) {
        // Some operations failed and the rest applied: the same as losing those races.
        if (!answeredPerOperation(error)) throw error;
      }
      if (modified === ops.length) return { claimed: inPreferenceOrder(claimed, chosen), contended: false };
      if (modified === 0 || claimed.length === 0) return { claimed: [], contended: true };
      // Some sets lost a race with another worker: read back which ones are ours.
      mine = await jobs
        .find(
          { _id: { $in: claimed.map((job) => job._id) } },
          { batchSize: claimed.length, singleBatch: true },
        )
        .toArray();
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
    return { claimed: inPreferenceOrder(won, chosen), contended: true };
  }

  /** The claimed jobs in the order the caller preferred them (select's order, else the claim sort). */
  function inPreferenceOrder(jobsClaimed: JobDocument[], preferred: JobDocument[]): JobDocument[] {
    const rank = new Map(preferred.map((job, index) => [idKey(job), index]));
    return [...jobsClaimed].sort((a, b) => (rank.get(idKey(a)) ?? 0) - (rank.get(idKey(b)) ?? 0));
  }

  return { claimBatch };
}
