import type { Config } from "@ecodrix/platform";

/** What runs in a worker process: our queue, Agenda, or the bare claim/complete loop (the ceiling). */
export type Contender = "ours" | "agenda" | "ceiling";

/** The job type every contender runs; its handler does nothing but record that it ran. */
export const NOOP_JOB = "noop";

/** The payload of a benchmark job: when the parent enqueued it (ms since the epoch). */
export interface NoopPayload {
  enqueuedAt: number;
  [key: string]: unknown;
}

export type WorkerSettings = Config["worker"];

/** Agenda's knobs (its documented options); see README. */
export interface AgendaSettings {
  processEveryMs: number;
  maxConcurrency: number;
  defaultConcurrency: number;
  lockLimit: number;
  defaultLockLimit: number;
  defaultLockLifetimeMs: number;
}

/** Handed to a worker process as its one argument (JSON). */
export interface WorkerProcessConfig {
  contender: Contender;
  uri: string;
  dbName: string;
  concurrency: number;
  worker: WorkerSettings;
  agenda: AgendaSettings;
  /** Record enqueue-to-handler-start latencies (the pickup phase). */
  recordPickup: boolean;
}

/** Driver commands by name (`find`, `findAndModify`, `update`, ...). */
export type CommandCounts = Record<string, number>;

export type ParentMessage =
  /** Reset the command counters and start processing. */
  | { type: "go" }
  /** Reply with a snapshot of the counters. */
  | { type: "snapshot" }
  /** Stop processing (let running handlers finish), reply `stopped`, close and exit. */
  | { type: "stop" };

export interface WorkerSnapshot {
  commands: CommandCounts;
  /** Handler invocations since `go`. */
  handled: number;
  /** Date.now() when the snapshot was taken. */
  at: number;
}

export type ChildMessage =
  | { type: "ready"; pid: number }
  /** Our worker: what wakes it when idle (change-stream, nudge or none). */
  | { type: "wake"; kind: string }
  | { type: "progress"; handled: number }
  | ({ type: "snapshot" } & WorkerSnapshot)
  | ({ type: "stopped"; pickupMs: number[]; unhandledRejections: number } & WorkerSnapshot)
  | { type: "error"; message: string };

/** An IPC message of either side: an object with a string `type`. */
function hasStringType(value: unknown): boolean {
  return (
    typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string"
  );
}

export function isChildMessage(value: unknown): value is ChildMessage {
  return hasStringType(value);
}

export function isParentMessage(value: unknown): value is ParentMessage {
  return hasStringType(value);
}

/** Counts `commandStarted` events (the driver's command monitoring) by command name. */
export class CommandCounter {
  private counts: CommandCounts = {};

  add(commandName: string): void {
    this.counts[commandName] = (this.counts[commandName] ?? 0) + 1;
  }

  reset(): void {
    this.counts = {};
  }

  snapshot(): CommandCounts {
    return { ...this.counts };
  }
}

export function totalCommands(counts: CommandCounts): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

/** a + b, command by command. */
export function addCounts(a: CommandCounts, b: CommandCounts): CommandCounts {
  const sum: CommandCounts = { ...a };
  for (const [name, n] of Object.entries(b)) sum[name] = (sum[name] ?? 0) + n;
  return sum;
}

/** later - earlier, command by command. */
export function subtractCounts(later: CommandCounts, earlier: CommandCounts): CommandCounts {
  const diff: CommandCounts = {};
  for (const [name, n] of Object.entries(later)) {
    const d = n - (earlier[name] ?? 0);
    if (d !== 0) diff[name] = d;
  }
  return diff;
}
