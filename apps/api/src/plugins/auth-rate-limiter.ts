import { AppError } from "@ecodrix/platform";

export interface FailedAuthLimiterOptions {
  /** Failed attempts allowed per client IP and client code within windowMs. Default 20. */
  maxFailures?: number;
  /** Failed attempts allowed per client IP, whatever client codes it names, within windowMs. Default 100. */
  maxFailuresPerIp?: number;
  /** Default 60 s. */
  windowMs?: number;
  /** Bound on remembered windows in each of the two tables (per IP + code, per IP). Default 10,000. */
  maxEntries?: number;
}

export interface FailedAuthLimiter {
  /** Milliseconds until `ip` (and `ip` with `clientCode`) is within its failure budget again; 0 when it is. */
  blockedForMs(ip: string, clientCode: string, now?: number): number;
  /** Throws a 429 with Retry-After while `ip`, or `ip` with `clientCode`, is over its failure budget. */
  check(ip: string, clientCode: string, now?: number): void;
  recordFailure(ip: string, clientCode: string, now?: number): void;
}

interface Window {
  start: number;
  failures: number;
}

/**
 * Fixed windows of failures per key, at most maxEntries of them. A window over its limit is never
 * forgotten before it ends: to make room the table drops ended windows, then the oldest windows still
 * under their limit. While every remembered window is over its limit, the keys it has no room for share
 * one overflow window (with the same limit), so they are limited together rather than not at all, and
 * memory stays at maxEntries + 1 windows.
 */
class FailureWindows {
  /** Windows under the limit, in order of their start (a restarted window is re-inserted). */
  private readonly under = new Map<string, Window>();
  /** Windows at or over the limit: kept until they end. */
  private readonly over = new Map<string, Window>();
  private overflow: Window | undefined;
  /** Before this time no window in `over` has ended (saves rescanning `over` when the table is full). */
  private overEndsNoSoonerThan = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxEntries: number,
  ) {}

  get size(): number {
    return this.under.size + this.over.size;
  }

  /** Milliseconds until `key` may try again, or undefined when it is within its budget. */
  blockedForMs(key: string, now: number): number | undefined {
    const window = this.own(key, now) ?? (this.hasRoom(now) ? undefined : this.liveOverflow(now));
    if (!window || window.failures < this.limit) return undefined;
    return window.start + this.windowMs - now;
  }

  record(key: string, now: number): void {
    const own = this.own(key, now);
    if (own) {
      own.failures += 1;
      if (own.failures >= this.limit && this.under.delete(key)) this.over.set(key, own);
      return;
    }
    if (this.makeRoom(now)) {
      (this.limit <= 1 ? this.over : this.under).set(key, { start: now, failures: 1 });
      return;
    }
    const overflow = this.liveOverflow(now) ?? { start: now, failures: 0 };
    overflow.failures += 1;
    this.overflow = overflow;
  }

  private ended(window: Window, now: number): boolean {
    return now - window.start >= this.windowMs;
  }

  private own(key: string, now: number): Window | undefined {
    const window = this.under.get(key) ?? this.over.get(key);
    if (window && this.ended(window, now)) {
      this.under.delete(key);
      this.over.delete(key);
      return undefined;
    }
    return window;
  }

  private liveOverflow(now: number): Window | undefined {
    return this.overflow && !this.ended(this.overflow, now) ? this.overflow : undefined;
  }

  /** Whether a new key can get a window of its own (dropping ended windows on the way). */
  private hasRoom(now: number): boolean {
    for (const [key, window] of this.under) {
      if (!this.ended(window, now)) break;
      this.under.delete(key);
    }
    if (this.size < this.maxEntries || this.under.size > 0) return true;
    if (now < this.overEndsNoSoonerThan) return false;
    let earliestStart = Number.POSITIVE_INFINITY;
    for (const [key, window] of this.over) {
      if (this.ended(window, now)) this.over.delete(key);
      else earliestStart = Math.min(earliestStart, window.start);
    }
    this.overEndsNoSoonerThan = earliestStart + this.windowMs;
    return this.size < this.maxEntries;
  }

  private makeRoom(now: number): boolean {
    if (!this.hasRoom(now)) return false;
    if (this.size >= this.maxEntries) {
      const oldestUnder = this.under.keys().next();
      if (!oldestUnder.done) this.under.delete(oldestUnder.value);
    }
    return true;
  }
}

export function rateLimited(blockedForMs: number): AppError {
  const retryAfter = Math.max(1, Math.ceil(blockedForMs / 1000));
  return new AppError(
    "ECODRIX_AUTH_RATE_LIMITED",
    `Too many failed authentication attempts; retry in ${retryAfter} s`,
    429,
    { retryable: true, retryAfterMs: retryAfter * 1000, headers: { "retry-after": String(retryAfter) } },
  );
}

/**
 * Fixed-window counters of failed authentications, in process memory, at two levels: per client
 * IP and client code (maxFailures; behind a shared proxy one tenant's broken integration locks out only
 * itself) and per client IP across every client code (maxFailuresPerIp; guessing client codes or keys
 * for many codes from one IP is limited too). A failed attempt over either budget gets 429 with
 * Retry-After; the limit never refuses valid credentials (the callers check them first), so nobody can
 * lock a tenant out by failing on its behalf.
 * Each API process limits on its own (N processes allow N times the budgets per window), which is
 * enough to make guessing 256-bit keys or enumerating client codes pointless. Memory is bounded: each
 * table holds at most maxEntries windows plus one shared overflow window; a window over its limit is
 * never dropped before it ends (ended windows, then the oldest windows under their limit, make room),
 * and when a table holds nothing but over-limit windows, the keys it cannot remember share the
 * overflow window, so new IPs or codes are limited together until room frees up.
 */
export function createFailedAuthLimiter(options: FailedAuthLimiterOptions = {}): FailedAuthLimiter {
  const windowMs = options.windowMs ?? 60_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const perCode = new FailureWindows(options.maxFailures ?? 20, windowMs, maxEntries);
  const perIp = new FailureWindows(options.maxFailuresPerIp ?? 100, windowMs, maxEntries);
  // A space never occurs in an IP address: "ip code" keys cannot collide.
  const codeKey = (ip: string, clientCode: string) => `${ip} ${clientCode}`;

  const blockedForMs = (ip: string, clientCode: string, now: number) =>
    Math.max(perIp.blockedForMs(ip, now) ?? 0, perCode.blockedForMs(codeKey(ip, clientCode), now) ?? 0);
  return {
    blockedForMs(ip, clientCode, now = Date.now()) {
      return blockedForMs(ip, clientCode, now);
    },
    check(ip, clientCode, now = Date.now()) {
      const blocked = blockedForMs(ip, clientCode, now);
      if (blocked > 0) throw rateLimited(blocked);
    },
    recordFailure(ip, clientCode, now = Date.now()) {
      perIp.record(ip, now);
      perCode.record(codeKey(ip, clientCode), now);
    },
  };
}
