import type { TenantConnectionPool } from "@ecodrix/domain";
import type { QueueProducer } from "@ecodrix/queue";

/** What the CRM's services (used by the API) are built from. */
export interface CrmServiceDeps {
  tenantConnections: Pick<TenantConnectionPool, "withDb">;
  queue: Pick<QueueProducer, "enqueue" | "cancelPending" | "getMany">;
  /** The time source (tests may pass another). */
  now?: () => Date;
}
