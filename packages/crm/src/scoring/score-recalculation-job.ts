import { isAppError } from "@ecodrix/platform";
import { defineJob } from "@ecodrix/queue";
import { scoreRecalculationContract } from "./scoring-contracts.js";
import type { ScoringJobDeps } from "./scoring-job-deps.js";
import {
  DEFAULT_BATCH_SIZE,
  PassStopped,
  runTenantScorePass,
  type TenantCheckpoint,
  type TenantSummary,
} from "./tenant-score-pass.js";

/**
 * The job document's `progress` while a recalculation runs: `processed` / `total` leads (for the
 * nightly run over every tenant, `total` grows as tenants are reached; `tenantsDone` / `tenantsTotal`
 * show how far it is), and the checkpoint a resumed attempt continues from: the summaries of finished
 * tenants (never redone) and the last written batch of the tenant in progress.
 */
export interface RecalculationProgress extends Record<string, unknown> {
  processed: number;
  total: number;
  changed: number;
  tenantsDone: number;
  tenantsTotal: number;
  current: (TenantCheckpoint & { clientCode: string }) | null;
  tenants: TenantSummary[];
}

function isCheckpoint(value: unknown): value is TenantCheckpoint & { clientCode: string } {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.clientCode === "string" &&
    (candidate.afterId === null ||
      (typeof candidate.afterId === "string" && /^[0-9a-f]{24}$/.test(candidate.afterId))) &&
    ["processed", "changed", "crossed", "conflicts", "total", "rulesVersion"].every(
      (key) => typeof candidate[key] === "number",
    )
  );
}

/** The checkpoint left on the job by an earlier attempt, or null (a fresh run; a malformed one is ignored). */
export function savedProgress(progress: unknown): RecalculationProgress | null {
  if (typeof progress !== "object" || progress === null) return null;
  const saved = progress as Partial<RecalculationProgress>;
  if (!Array.isArray(saved.tenants)) return null;
  if (saved.current !== null && !isCheckpoint(saved.current)) return null;
  return {
    processed: 0,
    total: 0,
    changed: 0,
    tenantsDone: saved.tenants.length,
    tenantsTotal: 0,
    current: saved.current ?? null,
    tenants: saved.tenants.filter(
      (summary): summary is TenantSummary =>
        typeof summary === "object" && summary !== null && typeof summary.clientCode === "string",
    ),
  };
}

/** Recomputes processed / total / changed from the finished tenants and the one in progress. */
function totals(state: RecalculationProgress): RecalculationProgress {
  const sum = (pick: (summary: TenantSummary | TenantCheckpoint) => number) =>
    state.tenants.reduce((total, summary) => total + pick(summary), 0) +
    (state.current ? pick(state.current) : 0);
  return {
    ...state,
    processed: sum((entry) => entry.processed),
    total: sum((entry) => Math.max(entry.total, entry.processed)),
    changed: sum((entry) => entry.changed),
    tenantsDone: state.tenants.length,
  };
}

function failedSummary(
  clientCode: string,
  error: unknown,
  from: TenantCheckpoint | undefined,
  durationMs: number,
): TenantSummary {
  // AppError messages are written to be shown. A driver error's message names hosts, never a password,
  // but a URI's user:password@ is masked all the same in case one ever carries it.
  const reason = isAppError(error)
    ? error.message
    : `${error instanceof Error ? error.name : "Error"}: ${error instanceof Error ? error.message : String(error)}`.replace(
        /\/\/[^@\s/]+@/g,
        "//***@",
      );
  return {
    clientCode,
    status: "failed",
    reason: reason.slice(0, 500),
    processed: from?.processed ?? 0,
    changed: from?.changed ?? 0,
    crossed: from?.crossed ?? 0,
    conflicts: from?.conflicts ?? 0,
    total: from?.total ?? 0,
    durationMs,
  };
}

/**
 * `score_recalculation`: the nightly cron (every tenant with a datasource, in clientCode order) and
 * `POST /api/crm/scoring/recalculate` (the job's own tenant only). Each tenant is one cursor-based pass
 * (tenant-score-pass.ts); the job's `progress` is the checkpoint, written after every batch, so an
 * attempt that follows a crash or a lost lease skips finished tenants and continues the current one
 * after its last written batch. One tenant failing is recorded in its summary and the others go on
 * (a single-tenant job fails instead, and is retried from its checkpoint).
 */
export const scoreRecalculationJob = defineJob({
  ...scoreRecalculationContract,
  create:
    (deps: ScoringJobDeps) =>
    async ({ job, log, signal, progress }) => {
      const started = Date.now();
      const now = deps.clock();
      const batchSize = job.payload.batchSize ?? DEFAULT_BATCH_SIZE;
      const saved = savedProgress(job.progress);
      let state: RecalculationProgress = saved ?? {
        processed: 0,
        total: 0,
        changed: 0,
        tenantsDone: 0,
        tenantsTotal: 0,
        current: null,
        tenants: [],
      };
      const clientCodes = job.clientCode
        ? [job.clientCode]
        : (
            await deps.tenancy.datasources.datasources
              .find({}, { projection: { clientCode: 1 }, sort: { clientCode: 1 } })
              .toArray()
          ).map((datasource) => datasource.clientCode);
      const finished = new Set(state.tenants.map((summary) => summary.clientCode));
      // A tenant in progress whose datasource has gone since: nothing to continue.
      if (state.current && !clientCodes.includes(state.current.clientCode)) state.current = null;
      state.tenantsTotal = new Set([...clientCodes, ...finished]).size;
      if (saved) {
        log.info(
          { tenantsDone: finished.size, current: saved.current?.clientCode, afterId: saved.current?.afterId },
          "score_recalculation resuming from its checkpoint",
        );
      }
      const save = async (next: RecalculationProgress): Promise<boolean> => {
        state = totals(next);
        return progress(state);
      };
      await save(state);

      for (const clientCode of clientCodes) {
        if (finished.has(clientCode)) continue;
        if (signal.aborted) throw new PassStopped("the job was aborted");
        const resumeFrom = state.current?.clientCode === clientCode ? state.current : undefined;
        const tenantStarted = Date.now();
        let summary: TenantSummary;
        try {
          summary = await deps.tenancy.tenantConnections.withDb(clientCode, (db) =>
            runTenantScorePass({
              db,
              clientCode,
              queue: deps.queue,
              now,
              batchSize,
              signal,
              log,
              ...(resumeFrom ? { resumeFrom } : {}),
              onBatch: (checkpoint) => save({ ...state, current: { clientCode, ...checkpoint } }),
            }),
          );
        } catch (error) {
          if (error instanceof PassStopped || signal.aborted || job.clientCode) throw error;
          log.error(
            { err: error, tenant: clientCode },
            "score_recalculation: tenant failed; going on with the others",
          );
          const reached = state.current?.clientCode === clientCode ? state.current : resumeFrom;
          summary = failedSummary(clientCode, error, reached, Date.now() - tenantStarted);
        }
        if (resumeFrom) summary.resumedAfter = resumeFrom.afterId;
        if (!(await save({ ...state, current: null, tenants: [...state.tenants, summary] }))) {
          throw new PassStopped("the job lost its lease");
        }
        log.info({ tenant: clientCode, ...summary }, "score_recalculation: tenant done");
      }

      const failed = state.tenants.filter((summary) => summary.status === "failed").length;
      return {
        ...(job.clientCode ? { clientCode: job.clientCode } : {}),
        processed: state.processed,
        total: state.total,
        changed: state.changed,
        tenants: state.tenants,
        failedTenants: failed,
        resumed: saved !== null,
        durationMs: Date.now() - started,
        scheduledFor: job.payload.scheduledFor ?? null,
      };
    },
});
