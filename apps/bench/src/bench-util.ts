// Small helpers shared by the benchmark commands (no heavy imports: every bench loads this).

/**
 * An integer setting from the environment, else `fallback`. `min` 1 (default) wants a positive integer,
 * 0 a non-negative one; anything else stops the bench with a message naming the variable.
 */
export function intFromEnv(name: string, fallback: number, min: 0 | 1 = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be a ${min === 1 ? "positive" : "non-negative"} integer`);
  }
  return value;
}

/** Nearest-rank percentile of `values` (0 < p ≤ 100); NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}
