import type { ClientService, TenantConnectionPool } from "@ecodrix/domain";
import type { Config } from "@ecodrix/platform";
import type { QueueProducer } from "@ecodrix/queue";
import type { SmtpTimeouts, SmtpTransports } from "./smtp-transports.js";

/** What the e-mail job handler is built from (the worker's WorkerJobDeps has all of it). */
export interface EmailJobDeps {
  config: Pick<Config, "outboundAllowPrivateNetworks" | "sandboxSmtp">;
  tenancy: {
    clients: Pick<ClientService, "getSecrets">;
    tenantConnections: Pick<TenantConnectionPool, "withDb">;
  };
  queue: Pick<QueueProducer, "enqueue">;
  /** One pooled transport per client, built once per worker process and closed at its shutdown. */
  smtpTransports: SmtpTransports;
  /** The transports' timeouts (the handler's in-flight deadline is derived from them). */
  smtpTimeouts?: SmtpTimeouts;
  clock: () => Date;
}
