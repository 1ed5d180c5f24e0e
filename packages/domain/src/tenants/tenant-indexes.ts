import type { Db } from "mongodb";
import type { TenantIndexSpec } from "../capabilities/capability.js";
import type { DatasourceRepository } from "./datasource-repository.js";
import type { TenantConnectionPool } from "./tenant-connection-pool.js";

/**
 * Creates every capability's indexes in one tenant database. createIndexes is idempotent, so this runs
 * on each datasource registration and on `ecodrix tenants migrate` alike. Returns the collections done.
 */
export async function ensureTenantIndexes(db: Db, specs: readonly TenantIndexSpec[]): Promise<number> {
  for (const spec of specs) {
    if (spec.indexes.length > 0) await db.collection(spec.collection).createIndexes(spec.indexes);
  }
  return specs.length;
}

export interface TenantMigrationReport {
  total: number;
  migrated: string[];
  failed: { clientCode: string; message: string }[];
}

/**
 * `ecodrix tenants migrate`: creates every capability's indexes in every tenant database (or one
 * client's). One tenant failing (its cluster unreachable) is reported and the others go on; running it
 * again is harmless.
 */
export async function migrateTenantIndexes(options: {
  datasources: Pick<DatasourceRepository, "listClientCodes">;
  tenantConnections: Pick<TenantConnectionPool, "withDb">;
  specs: readonly TenantIndexSpec[];
  only?: string;
  onProgress?: (done: number, total: number, clientCode: string) => void;
}): Promise<TenantMigrationReport> {
  const codes = options.only ? [options.only] : await options.datasources.listClientCodes();
  const report: TenantMigrationReport = { total: codes.length, migrated: [], failed: [] };
  for (const [index, clientCode] of codes.entries()) {
    try {
      await options.tenantConnections.withDb(clientCode, (db) => ensureTenantIndexes(db, options.specs));
      report.migrated.push(clientCode);
    } catch (error) {
      report.failed.push({ clientCode, message: error instanceof Error ? error.message : String(error) });
    }
    options.onProgress?.(index + 1, codes.length, clientCode);
  }
  return report;
}
