/** How `npm start` restarts a crashed API or worker. */
export interface RestartPolicy {
  /** Delay before the first restart; each further quick crash doubles it. */
  initialMs: number;
  maxMs: number;
  /** A run at least this long counts as healthy: the next crash starts the back-off afresh. */
  stableAfterMs: number;
  /** Quick crashes in a row after which restarting stops (a crash loop helps no one). */
  maxQuickCrashes: number;
}

/** The delay before restarting after the `quickCrashes`-th quick crash in a row (1-based), or undefined to give up. */
export function restartDelayMs(policy: RestartPolicy, quickCrashes: number): number | undefined {
  if (quickCrashes > policy.maxQuickCrashes) return undefined;
  return Math.min(policy.maxMs, policy.initialMs * 2 ** (Math.max(1, quickCrashes) - 1));
}
