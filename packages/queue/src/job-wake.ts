import { createSocket, type Socket } from "node:dgram";
import { isIP } from "node:net";
import type { ChangeStream, Collection, Document } from "mongodb";
import type { Logger } from "pino";
import type { JobDocument } from "./job-types.js";

/**
 * Waking idle workers when a job arrives, so pickup does not wait for the next poll. Polling stays:
 * it is the fallback, and it alone finds jobs that become due later and leases that expire.
 *
 * - `change-stream`: the worker watches the jobs collection (MongoDB replica sets and Atlas). Idle cost:
 *   one getMore per CHANGE_STREAM_AWAIT_MS.
 * - `nudge`: the worker listens on a UDP port it records in the worker registry; producers send it a
 *   one-byte datagram after an enqueue (createNudgeSender). Idle cost: none. For servers without
 *   change streams (a standalone mongod, FerretDB, the embedded server), as long as producers can
 *   reach the workers' address (WORKER_WAKE_HOST: loopback by default, i.e. the same machine).
 * - `auto` (the default): change streams where the server has them, nudges otherwise.
 * A datagram or an event only makes an idle runner claim now; a lost one costs a poll's delay.
 */
export type WakeMode = "auto" | "change-stream" | "nudge" | "off";

export interface WakeSignal {
  /** What wakes idle runners; `none` = polling only. */
  readonly kind: "change-stream" | "nudge" | "none";
  /** `udp://host:port` producers nudge (kind `nudge`); runners record it in the worker registry. */
  readonly endpoint: string | undefined;
  /** True while the signal works (a failed change stream is reopened; polling covers the gap). */
  readonly live: boolean;
  /** Calls `listener` when jobs may have become claimable; returns the unsubscribe. */
  onWake(listener: () => void): () => void;
  close(): Promise<void>;
}

/** How long a change stream's getMore waits on the server for an event (its idle query rate). */
export const CHANGE_STREAM_AWAIT_MS = 10_000;
/** After a change stream fails, how long until it is opened again. */
const CHANGE_STREAM_RETRY_MS = 30_000;

/** Inserts, and updates that make a job pending again (release, retry, requeue). */
const WAKE_PIPELINE: Document[] = [
  {
    $match: {
      $or: [
        { operationType: "insert" },
        { operationType: "update", "updateDescription.updatedFields.status": "pending" },
      ],
    },
  },
  { $project: { _id: 1 } },
];

function listeners() {
  const set = new Set<() => void>();
  return {
    add(listener: () => void) {
      set.add(listener);
      return () => {
        set.delete(listener);
      };
    },
    fire() {
      for (const listener of set) listener();
    },
  };
}

/** Opens a change stream and checks the server accepts it (the first aggregate). */
async function openStream(jobs: Collection<JobDocument>): Promise<ChangeStream> {
  const stream = jobs.watch(WAKE_PIPELINE, { maxAwaitTimeMS: CHANGE_STREAM_AWAIT_MS });
  try {
    await stream.tryNext();
    return stream;
  } catch (error) {
    await stream.close().catch(() => undefined);
    throw error;
  }
}

async function changeStreamSignal(
  jobs: Collection<JobDocument>,
  first: ChangeStream,
  logger: Logger,
): Promise<WakeSignal> {
  const wake = listeners();
  let stream: ChangeStream | undefined;
  let retry: NodeJS.Timeout | undefined;
  let closed = false;
  /**
   * Iterator mode throughout (openStream's probe used tryNext; the driver refuses to mix it with
   * events): next() waits for an event, resuming by itself after resumable errors.
   */
  async function pump(opened: ChangeStream): Promise<void> {
    stream = opened;
    try {
      while (!closed) {
        await opened.next();
        wake.fire();
      }
    } catch (error) {
      if (closed) return;
      logger.warn({ err: error }, "job change stream failed; polling until it is reopened");
      stream = undefined;
      await opened.close().catch(() => undefined);
      schedule();
    }
  }
  function schedule() {
    if (closed) return;
    retry = setTimeout(() => {
      openStream(jobs).then(
        (opened) => {
          if (closed) {
            void opened.close();
            return;
          }
          wake.fire(); // events were missed while it was down
          void pump(opened);
        },
        () => schedule(),
      );
    }, CHANGE_STREAM_RETRY_MS);
    retry.unref();
  }
  void pump(first);
  return {
    kind: "change-stream",
    endpoint: undefined,
    get live() {
      return stream !== undefined;
    },
    onWake: wake.add,
    async close() {
      closed = true;
      clearTimeout(retry);
      await stream?.close().catch(() => undefined);
    },
  };
}

function udpUrl(host: string, port: number): string {
  return `udp://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

async function nudgeSignal(host: string): Promise<WakeSignal> {
  const wake = listeners();
  const socket: Socket = createSocket(isIP(host) === 6 ? "udp6" : "udp4");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, host, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  // Any datagram is a nudge: its content is not read, so a stray one costs one claim at most.
  socket.on("message", () => wake.fire());
  socket.on("error", () => undefined);
  socket.unref();
  let open = true;
  return {
    kind: "nudge",
    endpoint: udpUrl(host, socket.address().port),
    get live() {
      return open;
    },
    onWake: wake.add,
    async close() {
      if (!open) return;
      open = false;
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}

const noSignal: WakeSignal = {
  kind: "none",
  endpoint: undefined,
  live: false,
  onWake: () => () => undefined,
  close: async () => undefined,
};

export interface WakeOptions {
  mode: WakeMode;
  /** Address the nudge listener binds and advertises (WORKER_WAKE_HOST). */
  host: string;
  logger: Logger;
}

/**
 * The worker side: a change stream on the jobs collection, or a nudge listener, per `mode`. Never
 * fails: without a usable signal it returns one of kind `none` (the runner then only polls).
 */
export async function openWakeSignal(
  jobs: Collection<JobDocument>,
  options: WakeOptions,
): Promise<WakeSignal> {
  const { mode, logger } = options;
  if (mode === "off") return noSignal;
  if (mode !== "nudge") {
    try {
      return await changeStreamSignal(jobs, await openStream(jobs), logger);
    } catch (error) {
      if (mode === "change-stream") {
        logger.warn(
          { err: error },
          "WORKER_WAKE=change-stream, but the server refused a change stream: polling only",
        );
        return noSignal;
      }
      logger.info(
        { reason: error instanceof Error ? error.message : String(error) },
        "no change streams on this server: idle workers are woken by producers' nudges",
      );
    }
  }
  try {
    return await nudgeSignal(options.host);
  } catch (error) {
    logger.warn(
      { err: error, host: options.host },
      "cannot listen for nudges (WORKER_WAKE_HOST): polling only",
    );
    return noSignal;
  }
}

/** Minimum gap between two nudges from one producer: a burst of enqueues sends a leading and a trailing one. */
const NUDGE_GAP_MS = 10;
/** How long a producer reuses the list of workers' nudge addresses. */
const ENDPOINTS_CACHE_MS = 5_000;

/**
 * The producer side: after an enqueue, one datagram to every live worker's nudge address (read from
 * the worker registry at most every 5 s, only while enqueuing). Best effort: errors are swallowed.
 */
export function createNudgeSender(endpoints: () => Promise<string[]>) {
  let cached: { at: number; list: string[] } | undefined;
  let refreshing: Promise<string[]> | undefined;
  let lastSent = 0;
  let trailing: NodeJS.Timeout | undefined;
  const sockets = new Map<"udp4" | "udp6", Socket>();

  function socketFor(type: "udp4" | "udp6"): Socket {
    let socket = sockets.get(type);
    if (!socket) {
      socket = createSocket(type);
      socket.on("error", () => undefined);
      socket.unref();
      sockets.set(type, socket);
    }
    return socket;
  }

  async function targets(): Promise<string[]> {
    if (cached && Date.now() - cached.at < ENDPOINTS_CACHE_MS) return cached.list;
    refreshing ??= endpoints()
      .catch(() => [] as string[])
      .then((list) => {
        cached = { at: Date.now(), list };
        refreshing = undefined;
        return list;
      });
    return refreshing;
  }

  async function send(): Promise<void> {
    lastSent = Date.now();
    for (const endpoint of await targets()) {
      const url = URL.canParse(endpoint) ? new URL(endpoint) : undefined;
      if (url?.protocol !== "udp:" || !url.port) continue;
      const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
      socketFor(isIP(host) === 6 ? "udp6" : "udp4").send(Buffer.of(1), Number(url.port), host);
    }
  }

  return {
    /** Wakes idle workers; returns at once. */
    nudge(): void {
      const wait = lastSent + NUDGE_GAP_MS - Date.now();
      if (wait <= 0) {
        void send().catch(() => undefined);
        return;
      }
      trailing ??= setTimeout(() => {
        trailing = undefined;
        void send().catch(() => undefined);
      }, wait);
      trailing.unref();
    },
  };
}

export type NudgeSender = ReturnType<typeof createNudgeSender>;
