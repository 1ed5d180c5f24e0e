import type { TenantConnectionPool } from "@ecodrix/domain";
import type { QueueProducer } from "@ecodrix/queue";

/** What the CRM's job handlers are built from (a part of the worker's dependencies). */
export interface CrmJobDeps {
  queue: Pick<QueueProducer, "enqueue" | "cancelPending">;
  tenancy: { tenantConnections: Pick<TenantConnectionPool, "withDb"> };
  clock: () => Date;
}
