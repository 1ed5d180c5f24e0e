import { hostname } from "node:os";
import type { Db } from "mongodb";

export const QUEUE_WORKERS_COLLECTION = "queue_workers";
/** A worker that has not reported for this long is taken as gone. */
export const WORKER_SEEN_WITHIN_MS = 60_000;
/** How often a running worker reports (one small upsert). */
export const WORKER_REPORT_INTERVAL_MS = 15_000;

/** One running worker process and the job types it has definitions for (readable in Atlas). */
export interface QueueWorkerDocument {
  _id: string;
  types: string[];
  host: string;
  pid: number;
  startedAt: Date;
  seenAt: Date;
  /** `udp://host:port` producers nudge when a job arrives (see job-wake.ts); absent without one. */
  wake?: string;
}

/**
 * Which job types the running workers know. A worker reports on start and every 15 s; the admin side
 * reads it to show pending jobs whose type no running worker can run (a deploy that has not reached
 * the workers yet, or a typo in a producer).
 */
export function createWorkerRegistry(db: Db) {
  const workers = db.collection<QueueWorkerDocument>(QUEUE_WORKERS_COLLECTION);
  return {
    async report(workerId: string, types: readonly string[], startedAt: Date, wake?: string): Promise<void> {
      await workers.updateOne(
        { _id: workerId },
        {
          $set: { types: [...types], seenAt: new Date(), ...(wake ? { wake } : {}) },
          $setOnInsert: { host: hostname(), pid: process.pid, startedAt },
        },
        { upsert: true },
      );
    },
    async remove(workerId: string): Promise<void> {
      await workers.deleteOne({ _id: workerId });
    },
    /** The workers seen within the last minute. */
    live(now = new Date()): Promise<QueueWorkerDocument[]> {
      return workers.find({ seenAt: { $gte: new Date(now.getTime() - WORKER_SEEN_WITHIN_MS) } }).toArray();
    },
    /** The nudge addresses of the workers seen within the last minute (each once). */
    async wakeEndpoints(now = new Date()): Promise<string[]> {
      const docs = await workers
        .find(
          { seenAt: { $gte: new Date(now.getTime() - WORKER_SEEN_WITHIN_MS) }, wake: { $type: "string" } },
          { projection: { wake: 1 } },
        )
        .toArray();
      return [...new Set(docs.flatMap((doc) => (doc.wake ? [doc.wake] : [])))];
    },
  };
}

export type WorkerRegistry = ReturnType<typeof createWorkerRegistry>;
