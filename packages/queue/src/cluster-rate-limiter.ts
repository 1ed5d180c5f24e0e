import { isDuplicateKeyError } from "@ecodrix/platform";
import type { Db } from "mongodb";

export const RATE_LIMITS_COLLECTION = "rate_limits";

export interface ClusterRateLimit {
  /** At most this many … */
  max: number;
  /** … per this many milliseconds, across every worker process. */
  perMs: number;
}

export interface ClusterRateLimiter {
  /**
   * Reserves the next free slot of `key` (`slotAt`, epoch ms) and says how long to wait for it (0: now). A reservation is
   * never refused: the caller waits for its slot (or gives it up, leaving a gap — never an excess).
   * `leadMs`: no slot earlier than now + leadMs, so the reservation's own round trip cannot make the
   * caller late for it (high rates, where a slot is a few milliseconds wide).
   */
  reserve(
    key: string,
    limit: ClusterRateLimit,
    options?: { leadMs?: number },
  ): Promise<{ waitMs: number; slotAt: number }>;
}

/** One key's state: the next free slot (GCRA's theoretical arrival time), epoch ms, readable in Atlas. */
interface RateLimitDocument {
  _id: string;
  tat: number;
  updatedAt: Date;
}

/**
 * A rate limiter shared by every worker through MongoDB: one document per key holding the next free slot.
 * Slots are spaced by the emission interval T = perMs / max, so no window of `perMs` holds more than
 * `max` of them (one more only when a window's edges both fall on slots). Each reservation is one
 * single-document atomic update, so any number of workers cannot overshoot:
 * - idle key (next slot in the past): the slot is now, the next one now + T (only if still in the past);
 * - busy key: $inc the next slot by T and take the one before it.
 * Usually one command, two when an idle key turns busy under a race.
 */
export function createClusterRateLimiter(db: Db, now: () => number = Date.now): ClusterRateLimiter {
  const limits = db.collection<RateLimitDocument>(RATE_LIMITS_COLLECTION);
  return {
    async reserve(key, limit, options = {}) {
      if (!(limit.max > 0) || !(limit.perMs > 0)) throw new Error(`invalid rate limit for ${key}`);
      const interval = limit.perMs / limit.max;
      const lead = Math.max(0, options.leadMs ?? 0);
      for (let attempt = 0; attempt < 10; attempt++) {
        const at = now() + lead;
        const busy = await limits.findOneAndUpdate(
          { _id: key, tat: { $gte: at } },
          { $inc: { tat: interval }, $set: { updatedAt: new Date(at) } },
          { returnDocument: "before" },
        );
        if (busy) return { waitMs: Math.max(0, Math.ceil(busy.tat - at + lead)), slotAt: busy.tat };
        try {
          const idle = await limits.updateOne(
            { _id: key, tat: { $lt: at } },
            { $set: { tat: at + interval, updatedAt: new Date(at) } },
            { upsert: true },
          );
          if (idle.modifiedCount === 1 || idle.upsertedCount === 1) return { waitMs: lead, slotAt: at };
        } catch (error) {
          // Another worker created the key first (the upsert's insert collided): read it again.
          if (!isDuplicateKeyError(error)) throw error;
        }
      }
      throw new Error(`rate limit ${key}: no slot after 10 contended attempts`);
    },
  };
}
