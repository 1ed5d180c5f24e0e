import { setTimeout as sleep } from "node:timers/promises";
import type { ClusterRateLimit, ClusterRateLimiter } from "./cluster-rate-limiter.js";
import { deferJob } from "./job-errors.js";

/** A job waits in its rate-limit slot up to this long; a later slot defers it instead. */
export const RATE_LIMIT_MAX_WAIT_MS = 5_000;
/** The default late-start tolerance: one slot's width, at most this (a busy host's timer jitter). */
export const DEFAULT_LATE_TOLERANCE_MS = 50;

export interface RateSlotOptions {
  /** Slots at least this far ahead (see ClusterRateLimiter.reserve): the round trip cannot make us late. */
  leadMs?: number;
  /**
   * A wake-up this late (or less) still uses its slot; a later one takes a new slot. Default: one slot's
   * width, at most DEFAULT_LATE_TOLERANCE_MS. Slots are spread so that starts this late never put more
   * than the limit in a window: a larger tolerance costs throughput, never an excess.
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
 * slot asleep; a wake-up later than the tolerance (an overloaded host) takes a new slot, so late
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
  const tolerance = options.lateToleranceMs ?? Math.min(width, DEFAULT_LATE_TOLERANCE_MS);
  // A start may come up to `tolerance` after its slot, so the `max` slots of a window are spread over
  // `perMs + tolerance`: then no window of `perMs` holds more than `max` starts, however late and
  // punctual starts fall (measured: 3 processes at 20/s, busiest window 21 without the spread, 20 with
  // it). The price is throughput: at most max × perMs / (perMs + tolerance), e.g. 78 of 80 per second.
  const spaced: ClusterRateLimit = { ...rate, perMs: rate.perMs + tolerance };
  const reserveOptions = options.leadMs ? { leadMs: options.leadMs } : undefined;
  const aborted = abortedBy(signal);
  aborted.catch(() => {});
  for (let attempt = 0; attempt < 5; attempt++) {
    const { waitMs, slotAt } = await limiter.reserve(key, spaced, reserveOptions);
    if (waitMs > RATE_LIMIT_MAX_WAIT_MS)
      throw deferJob(waitMs, `rate limit ${key}: next slot in ${waitMs} ms`);
    const early = slotAt - Date.now();
    if (early > 0) await Promise.race([sleep(early), aborted]);
    if (Date.now() - slotAt <= tolerance) return;
  }
  throw deferJob(spaced.perMs / spaced.max, `rate limit ${key}: woke up late for 5 slots in a row`);
}
