import type { Logger } from "@ecodrix/platform";
import type { Queue } from "@ecodrix/queue";
import type { Db } from "mongodb";
import {
  type Capability,
  type CapabilityRegistry,
  createCapabilityRegistry,
} from "../capabilities/capability.js";
import { createClientRepository } from "../clients/client-repository.js";
import { createClientSecretsRepository } from "../clients/client-secrets-repository.js";
import { type ClientService, createClientService } from "../clients/client-service.js";
import { type CorsOriginRepository, createCorsOriginRepository } from "../cors/cors-origin-repository.js";
import { createSecretBox, type SecretBox } from "../crypto/secret-box.js";
import { createDatasourceRepository, type DatasourceRepository } from "./datasource-repository.js";
import {
  createTenantConnectionPool,
  type TenantConnectionPool,
  type TenantConnectionPoolOptions,
} from "./tenant-connection-pool.js";
import { ensureTenantIndexes } from "./tenant-indexes.js";

export interface TenancyServices {
  capabilities: CapabilityRegistry;
  crypto: SecretBox;
  clients: ClientService;
  corsOrigins: CorsOriginRepository;
  datasources: DatasourceRepository;
  tenantConnections: TenantConnectionPool;
  ensureIndexes(): Promise<void>;
  close(): Promise<void>;
}

export interface TenancyDeps {
  db: Db;
  /** Current ENCRYPTION_KEY first, then previous keys (config.encryptionKeys). */
  encryptionKeys: readonly Buffer[];
  queue: Pick<Queue, "cancelPending" | "anonymizeFinished">;
  logger: Logger;
  /** Every capability of the product (integrations, CRM): secret fields, tenant indexes, offboarding. */
  capabilities: readonly Capability[];
  datasourceTimeoutMs?: number;
  pool?: Omit<TenantConnectionPoolOptions, "datasources" | "logger">;
}

/** Wires clients, secrets, datasources, CORS origins and the tenant pool: one call for the API, worker and CLI. */
export function createTenancyServices(deps: TenancyDeps): TenancyServices {
  const crypto = createSecretBox({ keys: deps.encryptionKeys });
  const datasources = createDatasourceRepository({ db: deps.db, crypto });
  const corsOrigins = createCorsOriginRepository({ db: deps.db });
  const capabilities = createCapabilityRegistry(deps.capabilities);
  const tenantConnections = createTenantConnectionPool({ ...deps.pool, datasources, logger: deps.logger });
  const clients = createClientService({
    capabilities,
    ensureTenantIndexes: (clientCode) =>
      tenantConnections.withDb(clientCode, (db) => ensureTenantIndexes(db, capabilities.tenantIndexes)),
    db: deps.db,
    clients: createClientRepository({ db: deps.db }),
    secrets: createClientSecretsRepository({ db: deps.db }),
    datasources,
    corsOrigins,
    crypto,
    queue: deps.queue,
    logger: deps.logger,
    datasourceTimeoutMs: deps.datasourceTimeoutMs,
  });
  return {
    capabilities,
    crypto,
    clients,
    corsOrigins,
    datasources,
    tenantConnections,
    async ensureIndexes() {
      await Promise.all([clients.ensureIndexes(), corsOrigins.ensureIndexes()]);
    },
    close: () => tenantConnections.close(),
  };
}
