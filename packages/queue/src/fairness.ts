import type { ClaimExclusions } from "./claim.js";
import type { JobDocument } from "./job-types.js";

export interface RateLimit {
  /** At most this many starts … */
  max: number;
  /** … per this many milliseconds, per tenant (clientCode) and per worker process. */
  perMs: number;
}

export interface FairnessOptions {
  /** Hard cap: jobs of one tenant running at once in this worker. Default: none (work-conserving). */
  tenantConcurrency?: number;
  /** Hard cap per job type in this worker, e.g. `{ send_whatsapp: 4 }`. */
  typeConcurrency?: Record<string, number>;
  /** Start-rate limit per (job type, tenant) in this worker, e.g. WhatsApp's per-number throughput. */
  rateLimits?: Record<string, RateLimit>;
  /**
   * While one tenant's backlog fills the head of the queue, at most this often the worker looks past
   * it for other tenants' work. Bounds another tenant's wait. Default 100 ms.
   */
  probeIntervalMs?: number;
}

const key = (clientCode: string | null) => clientCode ?? "";

/**
 * Per-worker bookkeeping for fairness: what runs (per tenant, type, type+tenant), who took the recent
 * claims, and recent starts per rate-limited (type, tenant). It turns that into claim exclusions and a
 * candidate filter; the queue stays a plain priority-then-runAt queue.
 */
export class FairnessPlanner {
  private readonly running = new Map<string, number>();
  private readonly runningTypes = new Map<string, number>();
  private readonly starts = new Map<string, number[]>();
  private readonly window: string[] = [];
  private readonly windowSize: number;
  private lastProbe = 0;
  readonly probeIntervalMs: number;

  constructor(
    private readonly options: FairnessOptions,
    concurrency: number,
    private readonly now: () => number = Date.now,
  ) {
    this.windowSize = Math.max(20, concurrency * 4);
    this.probeIntervalMs = options.probeIntervalMs ?? 100;
  }

  started(job: Pick<JobDocument, "type" | "clientCode">): void {
    const tenant = key(job.clientCode);
    this.running.set(tenant, (this.running.get(tenant) ?? 0) + 1);
    this.runningTypes.set(job.type, (this.runningTypes.get(job.type) ?? 0) + 1);
    this.window.push(tenant);
    if (this.window.length > this.windowSize) this.window.shift();
    if (this.options.rateLimits?.[job.type]) {
      const pair = `${job.type}\u0000${tenant}`;
      const list = this.starts.get(pair) ?? [];
      list.push(this.now());
      this.starts.set(pair, list);
    }
  }

  finished(job: Pick<JobDocument, "type" | "clientCode">): void {
    const tenant = key(job.clientCode);
    const count = (this.running.get(tenant) ?? 1) - 1;
    if (count <= 0) this.running.delete(tenant);
    else this.running.set(tenant, count);
    const types = (this.runningTypes.get(job.type) ?? 1) - 1;
    if (types <= 0) this.runningTypes.delete(job.type);
    else this.runningTypes.set(job.type, types);
  }

  private recentStarts(type: string, tenant: string): number {
    const limit = this.options.rateLimits?.[type];
    if (!limit) return 0;
    const pair = `${type}\u0000${tenant}`;
    const since = this.now() - limit.perMs;
    const list = (this.starts.get(pair) ?? []).filter((at) => at > since);
    if (list.length === 0) this.starts.delete(pair);
    else this.starts.set(pair, list);
    return list.length;
  }

  /** What this worker must not claim now: tenants and types at their caps, spent rate budgets. */
  exclusions(): ClaimExclusions {
    const clientCodes: (string | null)[] = [];
    const cap = this.options.tenantConcurrency;
    if (cap !== undefined) {
      for (const [tenant, count] of this.running)
        if (count >= cap) clientCodes.push(tenant === "" ? null : tenant);
    }
    const types: string[] = [];
    for (const [type, max] of Object.entries(this.options.typeConcurrency ?? {})) {
      if ((this.runningTypes.get(type) ?? 0) >= max) types.push(type);
    }
    const pairs: { type: string; clientCode: string | null }[] = [];
    for (const pair of [...this.starts.keys()]) {
      const [type = "", tenant = ""] = pair.split("\u0000");
      const limit = this.options.rateLimits?.[type];
      if (limit && this.recentStarts(type, tenant) >= limit.max) {
        pairs.push({ type, clientCode: tenant === "" ? null : tenant });
      }
    }
    return {
      ...(clientCodes.length ? { clientCodes } : {}),
      ...(types.length ? { types } : {}),
      ...(pairs.length ? { pairs } : {}),
    };
  }

  /** Candidates in queue order, minus those a cap or rate limit forbids (counting earlier picks). */
  select(candidates: JobDocument[], limit: number): JobDocument[] {
    const tenants = new Map(this.running);
    const types = new Map(this.runningTypes);
    const pairs = new Map<string, number>();
    const chosen: JobDocument[] = [];
    for (const job of candidates) {
      if (chosen.length >= limit) break;
      const tenant = key(job.clientCode);
      const tenantCap = this.options.tenantConcurrency;
      if (tenantCap !== undefined && (tenants.get(tenant) ?? 0) >= tenantCap) continue;
      const typeCap = this.options.typeConcurrency?.[job.type];
      if (typeCap !== undefined && (types.get(job.type) ?? 0) >= typeCap) continue;
      const rate = this.options.rateLimits?.[job.type];
      const pair = `${job.type}\u0000${tenant}`;
      if (rate) {
        const used = pairs.get(pair) ?? this.recentStarts(job.type, tenant);
        if (used >= rate.max) continue;
        pairs.set(pair, used + 1);
      }
      tenants.set(tenant, (tenants.get(tenant) ?? 0) + 1);
      types.set(job.type, (types.get(job.type) ?? 0) + 1);
      chosen.push(job);
    }
    return chosen;
  }

  /**
   * Tenants that took at least a quarter of this worker's recent claims, when it is time to look past
   * them (at most every probeIntervalMs); undefined otherwise.
   */
  probeTenants(): (string | null)[] | undefined {
    const now = this.now();
    if (now - this.lastProbe < this.probeIntervalMs || this.window.length < 4) return undefined;
    const counts = new Map<string, number>();
    for (const tenant of this.window) counts.set(tenant, (counts.get(tenant) ?? 0) + 1);
    const dominant = [...counts]
      .filter(([, count]) => count * 4 >= this.window.length)
      .map(([tenant]) => tenant);
    if (dominant.length === 0) return undefined;
    this.lastProbe = now;
    return dominant.map((tenant) => (tenant === "" ? null : tenant));
  }
}
