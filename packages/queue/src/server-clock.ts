import type { Db } from "mongodb";

/**
 * The database server's time, as seen from this process: the local clock plus an offset measured from
 * the server's `localTime` (the `isMaster` reply, which MongoDB, FerretDB and the embedded server all
 * give), re-measured every minute. Leases are written and compared in this time, so a worker host whose
 * clock runs minutes ahead neither takes over live jobs nor lets its own leases lapse early; every
 * worker agrees with the server within about half a round trip.
 */
export interface ServerClock {
  now(): Date;
  /** Server time minus local time, in ms (0 until the first sync). */
  readonly offsetMs: number;
  /** Measures the offset now; returns it. */
  sync(): Promise<number>;
  /** Re-measures every `intervalMs` (default 60 s) until stop(). */
  start(intervalMs?: number): void;
  stop(): void;
}

export function createServerClock(
  db: Db,
  options: { localNow?: () => number; onError?: (error: unknown) => void } = {},
): ServerClock {
  const localNow = options.localNow ?? Date.now;
  let offsetMs = 0;
  let timer: NodeJS.Timeout | undefined;

  async function sync(): Promise<number> {
    const sent = localNow();
    const reply = await db.admin().command({ isMaster: 1 });
    const received = localNow();
    const serverTime = reply.localTime instanceof Date ? reply.localTime.getTime() : Number.NaN;
    // A server that does not report its time leaves the local clock in charge.
    if (Number.isFinite(serverTime)) offsetMs = serverTime - (sent + received) / 2;
    return offsetMs;
  }

  return {
    now: () => new Date(localNow() + offsetMs),
    get offsetMs() {
      return offsetMs;
    },
    sync,
    start(intervalMs = 60_000) {
      if (timer) return;
      timer = setInterval(() => {
        sync().catch((error: unknown) => options.onError?.(error));
      }, intervalMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
