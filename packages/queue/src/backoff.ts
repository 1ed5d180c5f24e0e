export interface BackoffOptions {
  /** Delay before the first retry, before jitter. */
  baseMs: number;
  /** Ceiling of any delay. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1_000, maxMs: 60 * 60 * 1_000 };

/**
 * Delay before retry number `retries + 1`: exponential (`baseMs · 2^retries`, capped at `maxMs`) with
 * "equal jitter": half of it fixed, half random. The fixed half keeps the schedule predictable; the
 * random half spreads a burst of jobs that failed together (a rate limit, an outage) so their
 * retries do not hit the provider at the same instant again.
 */
export function backoffDelayMs(
  retries: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random = Math.random,
): number {
  const exponential = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, retries));
  const half = exponential / 2;
  return Math.round(half + random() * half);
}
