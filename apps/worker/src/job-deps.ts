import type { TenancyServices } from "@ecodrix/domain";
import type { SmtpTransports } from "@ecodrix/integrations/email";
import type { Config, Logger } from "@ecodrix/platform";
import type { ClusterRateLimiter, QueueProducer } from "@ecodrix/queue";
import type { Db } from "mongodb";

/**
 * Everything a job handler may be built from, created once per worker process by buildWorker. A
 * definition's `create(deps)` names the part it needs (a `Pick` of this), never a global.
 */
export interface WorkerJobDeps {
  config: Config;
  logger: Logger;
  /** The central database (clients, secrets, jobs): for handlers of central data only. */
  db: Db;
  /** Follow-up jobs (an automation's actions): the producer side only. */
  queue: QueueProducer;
  /** Clients, decrypted secrets, tenant database connections. */
  tenancy: TenancyServices;
  /** Cluster-wide rate limits shared by every worker (e.g. WhatsApp's per-number throughput). */
  rateLimiter: ClusterRateLimiter;
  /** One pooled SMTP transport per client (send_email), closed when the worker stops. */
  smtpTransports: SmtpTransports;
  /** The time source (tests may pass a fixed one). */
  clock: () => Date;
}
