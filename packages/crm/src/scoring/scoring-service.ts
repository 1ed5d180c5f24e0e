import type { TenantConnectionPool } from "@ecodrix/domain";
import { notFound } from "@ecodrix/platform";
import { enqueueJob, type QueueProducer } from "@ecodrix/queue";
import { ObjectId } from "mongodb";
import { LEADS_COLLECTION } from "./score-writes.js";
import {
  leadScoreDedupeKey,
  leadScoreRecalculationContract,
  scoreRecalculationContract,
  tenantRecalculationDedupeKey,
} from "./scoring-contracts.js";
import { checkScoringRuleSet, ScoringErrorCode } from "./scoring-rules-check.js";
import { loadScoringRules, saveScoringRules } from "./scoring-rules-repository.js";
import type { ScoringRuleSet, StoredScoringRules } from "./scoring-types.js";

export interface ScoringService {
  /** The tenant's rules; `{ rules: [], version: 0 }` before the first PUT. */
  getRules(clientCode: string): Promise<StoredScoringRules | { rules: []; version: 0; updatedAt: null }>;
  /** Checks and stores the rules (version + 1), then enqueues the recalculation of every lead. */
  putRules(
    clientCode: string,
    body: ScoringRuleSet,
  ): Promise<StoredScoringRules & { recalculationJobId: string }>;
  /** Enqueues one lead's recalculation (coalesced with pending ones); 404 for an id not in this tenant. */
  recalculateLead(clientCode: string, leadId: string): Promise<{ jobId: string }>;
  /** Enqueues the recalculation of all of the tenant's leads (one at a time per tenant). */
  recalculateAll(clientCode: string): Promise<{ jobId: string }>;
}

export function createScoringService(deps: {
  tenantConnections: Pick<TenantConnectionPool, "withDb">;
  queue: Pick<QueueProducer, "enqueue">;
  clock?: () => Date;
}): ScoringService {
  const clock = deps.clock ?? (() => new Date());

  async function recalculateAll(clientCode: string): Promise<{ jobId: string }> {
    const job = await enqueueJob(deps.queue, scoreRecalculationContract, {
      clientCode,
      payload: {},
      dedupeKey: tenantRecalculationDedupeKey(clientCode),
    });
    return { jobId: String(job._id) };
  }

  return {
    getRules(clientCode) {
      return deps.tenantConnections.withDb(
        clientCode,
        async (db) => (await loadScoringRules(db)) ?? { rules: [], version: 0, updatedAt: null },
      );
    },

    async putRules(clientCode, body) {
      const ruleSet = checkScoringRuleSet(body);
      const stored = await deps.tenantConnections.withDb(clientCode, (db) =>
        saveScoringRules(db, ruleSet, clock()),
      );
      // A pass already running keeps its rules; the dedupe key then gives back the pending one, if any.
      const { jobId } = await recalculateAll(clientCode);
      return { ...stored, recalculationJobId: jobId };
    },

    async recalculateLead(clientCode, leadId) {
      const id = new ObjectId(leadId.toLowerCase());
      const exists = await deps.tenantConnections.withDb(clientCode, (db) =>
        db.collection(LEADS_COLLECTION).findOne({ _id: id }, { projection: { _id: 1 } }),
      );
      if (!exists) throw notFound(ScoringErrorCode.leadNotFound, `Lead ${leadId} not found`);
      const job = await enqueueJob(deps.queue, leadScoreRecalculationContract, {
        clientCode,
        payload: { leadId: id.toHexString() },
        dedupeKey: leadScoreDedupeKey(id.toHexString()),
      });
      return { jobId: String(job._id) };
    },

    async recalculateAll(clientCode) {
      // Refuses a tenant without a datasource (409) before anything is enqueued.
      await deps.tenantConnections.withDb(clientCode, async () => undefined);
      return recalculateAll(clientCode);
    },
  };
}
