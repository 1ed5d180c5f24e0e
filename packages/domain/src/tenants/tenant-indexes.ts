import type { Db } from "mongodb";
import type { TenantIndexSpec } from "../capabilities/capability.js";

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
