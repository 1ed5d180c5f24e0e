import { setTimeout as sleep } from "node:timers/promises";
import type { ClusterRateLimit, ClusterRateLimiter } from "./cluster-rate-limiter.js";
import { deferJob } from "./job-errors.js";

/** A job waits in its rate-limit slot up to this long; a later slot defers it instead. */
export const RATE_LIMIT_MAX_WAIT_MS = 5_000;

export interface RateSlotOptions {
  /** Slots at least this far ahead (see ClusterRateLimiter.reserve): the round trip cannot make us late. */
  leadMs?: number;
  /**
   * A wake-up this late (or less) still uses its slot (default: one slot's width). Above the width a
   * window may hold one more start per `width` of tolerance: for rates whose slots are narrower than the
   * host's timer jitter.
   */
  lateToleranceMs?: number;
}

/** Rejects with the signal's reason when it aborts (never resolves). */
function abortedBy(signal: AbortSignal | undefined): Promise<never> {
  return new Promise<never>((_, reject) => {
    if (!signal) return;
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

/**
 * Waits for a slot of a cluster-wide rate limit (all worker processes together). A slot far ahead (a
 * long backlog on one key) throws a JobDeferral (back to pending, due then) instead of holding a worker
 * slot asleep; a wake-up later than the slot's width (an overloaded host) takes a new slot, so late
 * starts never bunch up into one window. A slot given up leaves a gap, never an excess. Used by the
 * worker runner for definitions' `limits.rateLimit`, and by handlers whose key needs more than the job
 * (a WhatsApp phone number id from the client's secrets).
 */
export async function waitForRateSlot(
  limiter: ClusterRateLimiter,
  key: string,
  rate: ClusterRateLimit,
  signal?: AbortSignal,
  options: RateSlotOptions = {},
): Promise<void> {
  const width = rate.perMs / rate.max;
  const tolerance = Math.max(width, options.lateToleranceMs ?? 0);
  const reserveOptions = options.leadMs ? { leadMs: options.leadMs } : undefined;
  const aborted = abortedBy(signal);
  aborted.catch(() => {});
  for (let attempt = 0; attempt < 5; attempt++) {
    const { waitMs, slotAt } = await limiter.reserve(key, rate, reserveOptions);
    if (waitMs > RATE_LIMIT_MAX_WAIT_MS)
      throw deferJob(waitMs, `rate limit ${key}: next slot in ${waitMs} ms`);
    const early = slotAt - Date.now();
    if (early > 0) await Promise.race([sleep(early), aborted]);
    if (Date.now() - slotAt <= tolerance) return;
  }
  throw deferJob(width, `rate limit ${key}: woke up late for 5 slots in a row`);
}
