import type { ClientService, TenantConnectionPool } from "@ecodrix/domain";
import type { Config } from "@ecodrix/platform";
import type { QueueProducer } from "@ecodrix/queue";

/** What the webhook job handlers are built from (the worker's WorkerJobDeps has all of it). */
export interface WebhooksJobDeps {
  config: Pick<Config, "outboundAllowPrivateNetworks">;
  tenancy: {
    clients: Pick<ClientService, "get" | "getSecrets">;
    tenantConnections: Pick<TenantConnectionPool, "withDb">;
  };
  queue: Pick<QueueProducer, "enqueue">;
  clock: () => Date;
}
