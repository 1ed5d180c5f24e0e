import type { Collection } from "mongodb";
import type { JobDocument } from "./job-types.js";
import { completionUpdate, fence } from "./job-updates.js";

interface PendingCompletion {
  job: JobDocument;
  result: unknown;
  resolve: (held: boolean) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: completions that arrive while one write is in flight go out together in the next
 * bulkWrite. Under load that turns N updateOne round trips into one; an idle queue still writes each
 * completion at once (one setImmediate later). Each completion resolves to false when its attempt had
 * lost the lease (fenced).
 */
export function createCompletionBatcher(jobs: Collection<JobDocument>, clock: () => Date = () => new Date()) {
  let completions: PendingCompletion[] = [];
  let flushing = false;

  async function write(batch: PendingCompletion[]): Promise<boolean[]> {
    const now = clock();
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

  async function flush(): Promise<void> {
    while (completions.length > 0) {
      const batch = completions;
      completions = [];
      try {
        const held = await write(batch);
        batch.forEach((pending, index) => {
          pending.resolve(held[index] === true);
        });
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
    flushing = false;
  }

  return {
    complete(job: JobDocument, result?: unknown): Promise<boolean> {
      return new Promise<boolean>((resolve, reject) => {
        completions.push({ job, result, resolve, reject });
        if (!flushing) {
          flushing = true;
          setImmediate(() => void flush());
        }
      });
    },
  };
}
