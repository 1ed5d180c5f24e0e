import { AppError } from "@ecodrix/domain";

export interface FailedAuthLimiterOptions {
  /** Failed attempts allowed per key (client IP + client code) within windowMs. Default 20. */
  maxFailures?: number;
  /** Default 60 s. */
  windowMs?: number;
  /** Bound on remembered keys; the oldest are forgotten first. Default 10,000. */
  maxEntries?: number;
}

export interface FailedAuthLimiter {
  /** Throws a 429 with Retry-After while `key` is over its failure budget. */
  check(key: string, now?: number): void;
  recordFailure(key: string, now?: number): void;
}

/**
 * Fixed-window counter of failed tenant authentications per key (tenant-auth uses client IP + client
 * code), in process memory: each
 * API process limits on its own (N processes allow N × maxFailures per window), which is enough to
 * make guessing 256-bit keys or enumerating client codes pointless. Memory is bounded by maxEntries.
 */
export function createFailedAuthLimiter(options: FailedAuthLimiterOptions = {}): FailedAuthLimiter {
  const maxFailures = options.maxFailures ?? 20;
  const windowMs = options.windowMs ?? 60_000;
  const maxEntries = options.maxEntries ?? 10_000;
  // Map keeps insertion order: the first entries are the oldest windows.
  const windows = new Map<string, { start: number; failures: number }>();

  return {
    check(key, now = Date.now()) {
      const window = windows.get(key);
      if (!window || now - window.start >= windowMs || window.failures < maxFailures) return;
      const retryAfter = Math.max(1, Math.ceil((window.start + windowMs - now) / 1000));
      throw new AppError(
        "ECODRIX_AUTH_RATE_LIMITED",
        `Too many failed authentication attempts; retry in ${retryAfter} s`,
        429,
        { retryable: true, retryAfterMs: retryAfter * 1000, headers: { "retry-after": String(retryAfter) } },
      );
    },
    recordFailure(key, now = Date.now()) {
      const window = windows.get(key);
      if (window && now - window.start < windowMs) {
        window.failures += 1;
        return;
      }
      windows.delete(key);
      windows.set(key, { start: now, failures: 1 });
      while (windows.size > maxEntries) {
        const oldest = windows.keys().next().value;
        if (oldest === undefined) break;
        windows.delete(oldest);
      }
    },
  };
}
