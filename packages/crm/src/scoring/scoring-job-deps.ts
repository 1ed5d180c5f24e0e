import type { DatasourceRepository, TenantConnectionPool } from "@ecodrix/domain";
import type { QueueProducer } from "@ecodrix/queue";

/** What the scoring jobs need from the worker (a part of its WorkerJobDeps). */
export interface ScoringJobDeps {
  tenancy: {
    tenantConnections: Pick<TenantConnectionPool, "withDb">;
    datasources: Pick<DatasourceRepository, "datasources">;
  };
  /** Follow-up jobs: `automation_event` for a crossed `lead_score_reached` threshold. */
  queue: Pick<QueueProducer, "enqueue">;
  clock: () => Date;
}
