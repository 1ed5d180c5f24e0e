/**
 * `npm run bench:crm`, phase "scoring": a full lead score recalculation (the
 * `score_recalculation` job in a real worker process) of 100,000 leads × 10 rules with their events,
 * and its memory at 25,000 leads against 100,000. Prints a table to stdout; the last line is one JSON
 * object with the figures. Progress goes to stderr.
 *
 * Uses MONGODB_URI when set; otherwise starts one embedded mongo-java-server (in memory) and stops it
 * at the end. See apps/bench/README.md.
 */
import os from "node:os";
import { runScoreBench, type ScoreRun } from "./score-bench.js";

const log = (line: string) => process.stderr.write(`[bench:crm] ${line}\n`);

function sizesFromEnv(): number[] {
  const raw = process.env.BENCH_SCORE_LEADS ?? "25000,100000";
  const sizes = raw.split(",").map((part) => Number(part.trim()));
  if (
    sizes.some((size) => !Number.isInteger(size) || size <= 0) ||
    sizes.some((size, i) => i > 0 && size <= (sizes[i - 1] ?? 0))
  ) {
    throw new Error("BENCH_SCORE_LEADS must be ascending positive integers, e.g. 25000,100000");
  }
  return sizes;
}

/** "no full GC" when the pass needed none (then nothing was measured, not zero). */
const live = (run: ScoreRun) =>
  run.liveHeapAfterGcMb === 0 ? "none (no full GC ran)" : `${fmt(run.liveHeapAfterGcMb, 1)} MB`;

const fmt = (value: number, digits = 0) =>
  value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

function scoringTable(runs: ScoreRun[]): string {
  const rows = [
    [
      "leads",
      "events",
      "changed",
      "handler s",
      "leads/s",
      "worker CPU s",
      "server CPU s",
      "leads per CPU s",
      "RSS MB before",
      "peak RSS MB",
      "V8 heap limit MB",
      "peak heap used MB",
      "live heap after full GC MB",
    ],
    ...runs.map((run) => [
      run.heapCapMb === undefined ? fmt(run.leads) : `${fmt(run.leads)} (heap cap ${run.heapCapMb} MB)`,
      fmt(run.events),
      fmt(run.changed),
      fmt(run.handlerMs / 1000, 1),
      fmt(run.leadsPerS),
      fmt(run.workerCpuS, 1),
      run.serverCpuS === null ? "n/a" : fmt(run.serverCpuS, 1),
      fmt(run.leads / (run.workerCpuS + (run.serverCpuS ?? 0))),
      fmt(run.startRssMb, 1),
      fmt(run.maxRssMb, 1),
      fmt(run.heapLimitMb, 0),
      fmt(run.peakHeapUsedMb, 1),
      run.liveHeapAfterGcMb === 0 ? "no full GC" : fmt(run.liveHeapAfterGcMb, 1),
    ]),
  ];
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((row) => (row[col] ?? "").length))) ?? [];
  const line = (row: string[]) => `| ${row.map((cell, col) => cell.padEnd(widths[col] ?? 0)).join(" | ")} |`;
  const [header, ...body] = rows;
  return [line(header ?? []), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)].join(
    "\n",
  );
}

/** Runs the scoring phase against `uri`; returns its table lines and its figures (`score_*`). */
export async function measureScoring(
  uri: string,
  serverPid: number | undefined,
): Promise<{ lines: string[]; figures: Record<string, number | null> }> {
  const runs = await runScoreBench({
    uri,
    ...(serverPid === undefined ? {} : { serverPid }),
    sizes: sizesFromEnv(),
    ...(process.env.BENCH_SCORE_BATCH ? { batchSize: Number(process.env.BENCH_SCORE_BATCH) } : {}),
    heapCapMb: Number(process.env.BENCH_SCORE_HEAP_CAP_MB ?? 64),
    log,
  });
  const measured = runs.filter((run) => run.heapCapMb === undefined);
  const capped = runs.find((run) => run.heapCapMb !== undefined);
  const largest = measured.at(-1) as ScoreRun;
  const smallest = measured[0] as ScoreRun;
  const load = os
    .loadavg()
    .map((value) => value.toFixed(1))
    .join(" / ");
  const lines = [
    "Lead scoring: score_recalculation of one tenant, 10 rules (6 on events, 30-day decay), a new rule version per run so every score changes",
    scoringTable(runs),
    "",
    `load average (1 / 5 / 15 min) at the end: ${load} on ${os.cpus().length} cores — wall-clock figures shrink when the machine is shared; CPU seconds do not`,
    `target: ≥ 5,000 leads/s → ${fmt(largest.leadsPerS)} leads/s at ${fmt(largest.leads)} leads (${largest.leadsPerS >= 5_000 ? "met" : "NOT met"}); memory flat in the number of leads → peak RSS ${fmt(smallest.maxRssMb, 1)} MB at ${fmt(smallest.leads)} leads, ${fmt(largest.maxRssMb, 1)} MB at ${fmt(largest.leads)}; live heap after a full GC ${live(smallest)} and ${live(largest)}`,
    capped
      ? `with the worker's heap capped at ${capped.heapCapMb} MB (--max-old-space-size), ${fmt(capped.leads)} leads were recalculated too (peak RSS ${fmt(capped.maxRssMb, 1)} MB): nothing is kept per lead`
      : "",
  ];
  return {
    lines,
    figures: {
      score_leads_per_s: Math.round(largest.leadsPerS),
      score_peak_rss_mb: largest.maxRssMb,
      score_leads: largest.leads,
      score_events: largest.events,
      score_changed: largest.changed,
      score_rules: 10,
      score_handler_s: Math.round(largest.handlerMs / 100) / 10,
      score_wall_s: Math.round(largest.wallMs / 100) / 10,
      score_small_leads: smallest.leads,
      score_small_leads_per_s: Math.round(smallest.leadsPerS),
      score_small_peak_rss_mb: smallest.maxRssMb,
      score_worker_cpu_s: largest.workerCpuS,
      score_server_cpu_s: largest.serverCpuS,
      score_live_heap_mb: largest.liveHeapAfterGcMb === 0 ? null : largest.liveHeapAfterGcMb,
      score_small_live_heap_mb: smallest.liveHeapAfterGcMb === 0 ? null : smallest.liveHeapAfterGcMb,
      score_capped_heap_mb: capped?.heapCapMb ?? null,
      score_capped_leads: capped?.leads ?? null,
      score_capped_peak_rss_mb: capped?.maxRssMb ?? null,
      load_average_1m: Math.round((os.loadavg()[0] ?? 0) * 10) / 10,
    },
  };
}
